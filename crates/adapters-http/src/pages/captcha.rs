//! The CAPTCHA page (seed §7): a rate-limited person proves they are one and goes back to what
//! they were doing. Nothing changes on GET, so the page offers a button; its POST issues the
//! challenge and shows it; the answer is POSTed back.
//!
//! - `GET /security/check?next=PATH`: what this is, and a button.
//! - `POST /security/check`: a challenge. The arithmetic question is a form; the proof of work
//!   is solved by `static/captcha.js`, which fills in the answer and submits the same form.
//! - `POST /security/answer`: right, back to `next` (local paths only); wrong, the question
//!   again with the error; gone (expired, too many attempts), the button again.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_ports::services::captcha::{Puzzle, VerifyCaptchaError};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::safe_next;
use crate::pages::answer::{refusal, render};
use crate::pages::identify;
use crate::pages::layout::Layout;
use crate::session::Viewer;
use crate::state::AppState;

const PATH: &str = "/security/check";

/// The identify page: a person held there may have a photo kept for after the check.
const IDENTIFY: &str = "/identify";

/// What the page shows: the explanation and the button.
const INTRO: &str = "intro";
/// The arithmetic question.
const QUESTION: &str = "question";
/// The proof of work the script solves.
const WORK: &str = "work";

#[derive(Template)]
#[template(path = "captcha.html")]
struct CaptchaPage {
    layout: Layout,
    /// [`INTRO`], [`QUESTION`] or [`WORK`].
    stage: &'static str,
    next: String,
    error: String,
    captcha_id: String,
    question: String,
    /// ALTCHA challenge fields (proof of work).
    pow: Option<wildid_domain::pow::PowChallenge>,
    algorithm: &'static str,
}

impl CaptchaPage {
    fn new(layout: Layout, next: String) -> Self {
        Self {
            layout,
            stage: INTRO,
            next,
            error: String::new(),
            captcha_id: String::new(),
            question: String::new(),
            pow: None,
            algorithm: wildid_domain::pow::ALGORITHM,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NextForm {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AnswerForm {
    next: String,
    captcha_id: String,
    answer: String,
    question: String,
}

/// `GET /security/check`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Query(query): Query<NextForm>,
) -> Result<Response, AppError> {
    viewer.handle.ensure().await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = CaptchaPage::new(
        Layout::for_viewer(&ctx, &viewer, PATH).with_flashes(flashes),
        safe_next(&query.next),
    );
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// `POST /security/check`: issues a challenge and shows it.
pub(crate) async fn challenge(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Form(form): Form<NextForm>,
) -> Result<Response, AppError> {
    let session = viewer.handle.ensure().await?;
    let mut page = CaptchaPage::new(
        Layout::for_viewer(&ctx, &viewer, PATH),
        safe_next(&form.next),
    );
    match state
        .services
        .captchas
        .issue(&session, viewer.handle.client())
        .await
    {
        Ok(issued) => {
            page.captcha_id = issued.id.to_string();
            match issued.puzzle {
                Puzzle::Question(q) => {
                    page.stage = QUESTION;
                    page.question = q;
                }
                Puzzle::ProofOfWork(c) => {
                    page.stage = WORK;
                    page.pow = Some(c);
                }
            }
            render(&page, StatusCode::OK)
        }
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            page.error = message;
            render(&page, status)
        }
    }
}

/// `POST /security/answer`.
pub(crate) async fn answer(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let session = viewer.handle.ensure().await?;
    let next = safe_next(&form.next);
    let outcome = state
        .services
        .captchas
        .verify(
            &session,
            &form.captcha_id,
            &form.answer,
            viewer.handle.client(),
        )
        .await;
    let mut page = CaptchaPage::new(Layout::for_viewer(&ctx, &viewer, PATH), next.clone());
    match outcome {
        Ok(trust) => {
            if next == IDENTIFY {
                let passed = session.with_trust(trust);
                if let Some(answer) = identify::answer_kept(&state, &ctx, &viewer, passed).await? {
                    return Ok(answer);
                }
            }
            let jar = flash::push(
                jar,
                &state.settings,
                FlashKind::Success,
                "Thank you. You can carry on.",
            );
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(VerifyCaptchaError::IncorrectAnswer { .. }) if is_our_question(&form.question) => {
            page.stage = QUESTION;
            page.captcha_id = form.captcha_id;
            page.question = form.question;
            page.error = "That is not the right answer. Try again.".into();
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            page.error = message;
            render(&page, status)
        }
    }
}

/// Whether `text` has the shape of the questions the domain asks (`What is 7 × 3?`), so a
/// question sent back by the form can be shown again without letting anyone put their own
/// words on the page.
fn is_our_question(text: &str) -> bool {
    let Some(inner) = text
        .strip_prefix("What is ")
        .and_then(|t| t.strip_suffix('?'))
    else {
        return false;
    };
    let parts: Vec<&str> = inner.split(' ').collect();
    let digit = |p: &str| p.len() == 1 && p.chars().all(|c| ('1'..='9').contains(&c));
    matches!(parts.as_slice(), [a, op, b] if digit(a) && digit(b) && ["+", "-", "×"].contains(op))
}

#[cfg(test)]
mod tests {
    use super::is_our_question;
    use wildid_domain::captcha::ArithmeticQuestion;

    #[test]
    fn only_questions_of_our_shape_are_shown_again() {
        for a in 0..=255u8 {
            for op in 0..3u8 {
                let q = ArithmeticQuestion::from_random([a, a.wrapping_mul(5), op]);
                assert!(is_our_question(&q.question), "{}", q.question);
            }
        }
        for bad in [
            "",
            "What is 7 + 3",
            "What is your password?",
            "What is 10 + 3?",
            "What is 7 / 3?",
            "What is 7 + 3? Call +1 555",
        ] {
            assert!(!is_our_question(bad), "{bad}");
        }
    }
}

//! Changing the account's address from the account page: asking (needs a fresh
//! authentication) and confirming with the link sent to the new address (needs to be signed in
//! to the account that asked). Opening the link only shows a button, so mail scanners that
//! prefetch links cannot use it up.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::requester;
use crate::pages::account::{FormProblems, back_to_account, refused_on_account_page};
use crate::pages::answer::{refusal, render};
use crate::pages::auth::{MessagePage, TokenQuery};
use crate::pages::layout::Layout;
use crate::session::{Fresh, SignedIn, Viewer};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EmailForm {
    new_email: String,
}

/// `POST /account/email` (fresh).
pub(crate) async fn change_email(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    jar: SignedCookieJar,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .request_email_change(&signed_in.user, &form.new_email, requester(&viewer))
        .await
    {
        Ok(()) => {
            let jar = flash::push(
                jar,
                &state.settings,
                FlashKind::Success,
                "If the address can be used, a confirmation link is on its way to it. Your \
                 address changes when you open the link while signed in here.",
            );
            Ok((jar, Redirect::to("/account")).into_response())
        }
        Err(e) => {
            refused_on_account_page(&state, &ctx, &viewer, &signed_in, e.into(), |message| {
                FormProblems {
                    email: message,
                    new_email: form.new_email,
                    ..FormProblems::default()
                }
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "email_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    token: String,
}

/// `GET /account/email/confirm?token=`: the button that uses the link.
pub(crate) async fn confirm_email_page(
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let page = ConfirmPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/account"),
        token: query.token,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConfirmForm {
    token: String,
    end_other_sessions: String,
}

/// `POST /account/email/confirm`.
pub(crate) async fn confirm_email(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .confirm_email_change(&signed_in.user, &form.token, requester(&viewer))
        .await
    {
        Ok(()) => {
            back_to_account(
                &state,
                signed_in,
                form.end_other_sessions == "true",
                jar,
                FlashKind::Success,
                "Your account uses the new address now.",
            )
            .await
        }
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            let page = MessagePage {
                layout: Layout::for_viewer(&ctx, &viewer, "/account"),
                title: "The address was not changed".into(),
                paragraphs: vec![message],
                link_href: "/account".into(),
                link_label: "Back to your account".into(),
            };
            render(&page, status)
        }
    }
}

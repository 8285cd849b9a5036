//! Turning two-factor authentication on and off, and new recovery codes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_ports::services::accounts::TotpError;

use super::back_to_account;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::FlashKind;
use crate::kit::{after_credential_change, end_other_sessions};
use crate::kit::{qr_data_url, requester};
use crate::pages::answer::{refusal, render};
use crate::pages::layout::Layout;
use crate::session::{Fresh, SignedIn, Viewer};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct TotpSetupPage {
    layout: Layout,
    pending: String,
    secret: String,
    qr_data_url: String,
    error: String,
}

async fn totp_setup_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    error: String,
    status: StatusCode,
    resume: Option<&str>,
) -> Result<Response, AppError> {
    let accounts = &state.services.accounts;
    // After a wrong code the same secret is shown again: the user has scanned it already.
    let enrolment = match resume.map(|pending| accounts.resume_totp(&signed_in.user, pending)) {
        Some(Ok(enrolment)) => enrolment,
        _ => accounts.begin_totp(&signed_in.user)?,
    };
    let page = TotpSetupPage {
        layout: Layout::for_viewer(ctx, viewer, "/account"),
        pending: enrolment.pending,
        secret: enrolment.secret_base32.expose().clone(),
        qr_data_url: qr_data_url(enrolment.otpauth_url.expose(), 220)?,
        error,
    };
    render(&page, status)
}

/// `GET /account/totp` (fresh).
pub(crate) async fn totp_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
) -> Result<Response, AppError> {
    totp_setup_page(
        &state,
        &ctx,
        &viewer,
        &signed_in,
        String::new(),
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TotpForm {
    pending: String,
    code: String,
    end_other_sessions: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

fn recovery_page(
    ctx: &RequestContext,
    viewer: &Viewer,
    codes: Vec<String>,
) -> Result<Response, AppError> {
    render(
        &RecoveryCodesPage {
            layout: Layout::for_viewer(ctx, viewer, "/account"),
            codes,
        },
        StatusCode::OK,
    )
}

/// `POST /account/totp` (fresh): turns the second factor on, shows the recovery codes once.
pub(crate) async fn totp_enable(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    Form(form): Form<TotpForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .confirm_totp(
            &signed_in.user,
            &form.pending,
            &form.code,
            requester(&viewer),
        )
        .await
    {
        Ok(codes) => {
            let codes = codes.iter().map(|c| c.display().to_owned()).collect();
            after_credential_change(&state, signed_in, form.end_other_sessions == "true").await?;
            recovery_page(&ctx, &viewer, codes)
        }
        Err(e) => {
            let resume = matches!(e, TotpError::WrongCode).then_some(form.pending.as_str());
            let (status, message, _) = refusal(AppError::from(e))?;
            totp_setup_page(&state, &ctx, &viewer, &signed_in, message, status, resume).await
        }
    }
}

/// `POST /account/totp/disable` (fresh).
pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    jar: SignedCookieJar,
    Form(form): Form<EndOthersForm>,
) -> Result<Response, AppError> {
    state
        .services
        .accounts
        .disable_totp(&signed_in.user, requester(&viewer))
        .await?;
    back_to_account(
        &state,
        signed_in,
        form.end_other_sessions == "true",
        jar,
        FlashKind::Info,
        "Two-factor authentication is off.",
    )
    .await
}

/// The "sign out my other sessions" box of a form that needs nothing else.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EndOthersForm {
    end_other_sessions: String,
}

/// `POST /account/recovery-codes` (fresh).
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    Form(form): Form<EndOthersForm>,
) -> Result<Response, AppError> {
    let codes = state
        .services
        .accounts
        .regenerate_recovery_codes(&signed_in.user, requester(&viewer))
        .await?;
    if form.end_other_sessions == "true" {
        end_other_sessions(&state, &signed_in, signed_in.session.key()).await?;
    }
    recovery_page(
        &ctx,
        &viewer,
        codes.iter().map(|c| c.display().to_owned()).collect(),
    )
}

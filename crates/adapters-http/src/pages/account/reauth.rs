//! Confirming it is still the same person before a sensitive change.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use wildid_domain::secret::SecretString;
use wildid_ports::services::accounts::ReauthError;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::kit;
use crate::kit::safe_next;
use crate::pages::answer::{refusal, render, with_retry_after};
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    layout: Layout,
    next: String,
    error: String,
    has_password: bool,
    totp: bool,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NextQuery {
    next: String,
}

async fn reauth_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    next: String,
    error: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    let page = ReauthPage {
        layout: Layout::for_viewer(ctx, viewer, "/auth/reauth"),
        next,
        error,
        has_password: profile.has_password,
        totp: profile.totp_enabled,
        email: profile.email,
    };
    render(&page, status)
}

/// `GET /auth/reauth?next=`.
pub(crate) async fn reauth_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    reauth_page(
        &state,
        &ctx,
        &viewer,
        &signed_in,
        safe_next(&query.next),
        String::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ReauthForm {
    password: String,
    totp_code: String,
    next: String,
}

/// `POST /auth/reauth`.
pub(crate) async fn reauth(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    Form(form): Form<ReauthForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next);
    let code = Some(form.totp_code.trim()).filter(|c| !c.is_empty());
    let password = SecretString::new(form.password);
    match state
        .services
        .sign_ins
        .reauthenticate(
            signed_in.user.clone(),
            &password,
            code,
            &kit::place(&viewer),
        )
        .await
    {
        Ok(signed) => {
            signed_in.handle.adopt(signed);
            Ok(Redirect::to(&next).into_response())
        }
        Err(ReauthError::Unavailable(cause)) => Err(AppError::Unavailable(cause)),
        Err(ReauthError::Session(e)) => Err(e.into()),
        Err(e) => {
            let (status, message, retry_after) = refusal(AppError::from(e))?;
            Ok(with_retry_after(
                reauth_page(&state, &ctx, &viewer, &signed_in, next, message, status).await?,
                retry_after,
            ))
        }
    }
}

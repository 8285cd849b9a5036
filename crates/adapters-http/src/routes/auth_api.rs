//! The JSON API of accounts and sign-in (`/api/auth/*`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wildid_domain::secret::SecretString;
use wildid_ports::services::accounts::{Credentials, Profile, Registration, Requester};

use crate::api_json::ApiJson;
use crate::error::AppError;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// `Requester` of the current request.
pub(crate) fn requester(viewer: &Viewer) -> Requester {
    Requester {
        ip: viewer.client_ip,
        request_id: viewer.handle.client().request_id,
    }
}

pub(crate) fn profile_json(p: &Profile) -> serde_json::Value {
    json!({
        "id": p.id.to_string(),
        "email": p.email,
        "role": p.role.as_str(),
        "email_verified": p.email_verified,
        "totp_enabled": p.totp_enabled,
        "has_password": p.has_password,
        "created_at": p.created_at.to_rfc3339(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    email: String,
    password: String,
    #[serde(default)]
    accept_privacy: bool,
}

/// `POST /api/auth/register` → 202 whether or not the address had an account.
pub(crate) async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, AppError> {
    let form = Registration {
        email: body.email,
        password: SecretString::new(body.password),
        accept_privacy: body.accept_privacy,
    };
    state
        .services
        .accounts
        .register(form, requester(&viewer))
        .await?;
    Ok(accepted(
        "verification_sent",
        "If the address can be used, a confirmation link is on its way. It works once and expires in 24 hours.",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    token: String,
}

/// `POST /api/auth/verify-email`.
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    state
        .services
        .accounts
        .verify_email(&body.token, requester(&viewer))
        .await?;
    Ok(Json(json!({ "status": "verified" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    email: String,
}

/// `POST /api/auth/resend-verification` → 202 whatever the address.
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<Response, AppError> {
    state
        .services
        .accounts
        .resend_verification(&body.email, requester(&viewer))
        .await?;
    Ok(accepted(
        "verification_sent",
        "If the address has an unconfirmed account, a new confirmation link is on its way.",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    email: String,
    password: String,
    #[serde(default)]
    totp_code: Option<String>,
}

/// `POST /api/auth/login`: a new session on success.
pub(crate) async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    let credentials = Credentials {
        email: body.email,
        password: SecretString::new(body.password),
        totp_code: body.totp_code,
    };
    let user = state
        .services
        .accounts
        .login(credentials, requester(&viewer))
        .await?;
    let profile = state.services.accounts.profile(&user)?;
    let session = viewer.handle.sign_in(user).await?;
    Ok(Json(
        json!({ "user": profile_json(&profile), "csrf_token": session.csrf.encode() }),
    ))
}

/// `POST /api/auth/logout`.
pub(crate) async fn logout(signed_in: SignedIn) -> Result<StatusCode, AppError> {
    signed_in.handle.sign_out().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`.
pub(crate) async fn me(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<serde_json::Value>, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    Ok(Json(
        json!({ "user": profile_json(&profile), "authenticated_at": signed_in.session.authenticated_at.map(|t| t.to_rfc3339()) }),
    ))
}

fn accepted(status: &str, message: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "status": status, "message": message })),
    )
        .into_response()
}

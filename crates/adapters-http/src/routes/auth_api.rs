//! The JSON API of accounts and sign-in (`/api/auth/*`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wildid_domain::secret::SecretString;
use wildid_domain::token::TokenPurpose;
use wildid_ports::services::accounts::{Credentials, Registration};

use crate::api_json::ApiJson;
use crate::api_types::{Accepted, Done, ErrorBody, MeBody, SignedInBody, UserView};
use crate::error::AppError;
use crate::kit;
use crate::kit::requester;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

pub(crate) fn accepted(status: &str, message: &str) -> (StatusCode, Json<Accepted>) {
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: status.to_owned(),
            message: message.to_owned(),
        }),
    )
}

/// Registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    /// An email address (at most 254 characters).
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// 10 to 128 characters, hard to guess, not containing the address.
    #[schema(min_length = 10, max_length = 128)]
    password: String,
    /// Must be `true`: the privacy notice at `/privacy` is accepted.
    #[serde(default)]
    accept_privacy: bool,
}

/// Creates an account and sends a confirmation link; a taken address answers the same and its
/// owner is told by mail.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses(
        (status = 202, body = Accepted, description = "Whatever the address"),
        (status = 422, body = ErrorBody, description = "invalid_email, weak_password, privacy_not_accepted, invalid_field"),
        (status = 429, body = ErrorBody, description = "too_many_requests, with Retry-After"),
    ))]
pub(crate) async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
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
    let lifetime = state
        .services
        .accounts
        .policy()
        .tokens
        .lifetime_text(TokenPurpose::EmailVerification);
    Ok(accepted(
        "verification_sent",
        &format!(
            "If the address can be used, a confirmation link is on its way. It works once and expires in {lifetime}."
        ),
    ))
}

/// A token from a link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    token: String,
}

/// Confirms an address with the token of its confirmation link (single use).
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "accounts", request_body = TokenRequest,
    responses((status = 200, body = Done), (status = 400, body = ErrorBody, description = "invalid_link")))]
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .services
        .accounts
        .verify_email(&body.token, requester(&viewer))
        .await?;
    Ok(Json(Done {
        status: "verified".into(),
    }))
}

/// An address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    /// An email address (at most 254 characters).
    #[schema(format = Email, max_length = 254)]
    email: String,
}

/// Sends a new confirmation link to an unconfirmed account.
#[utoipa::path(post, path = "/api/auth/resend-verification", tag = "accounts", request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
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

/// Password sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// An email address (at most 254 characters).
    #[schema(format = Email, max_length = 254)]
    email: String,
    password: String,
    /// Required when the account has a second factor: a TOTP code or a recovery code.
    #[serde(default)]
    totp_code: Option<String>,
}

/// Signs in with a password (and second factor); the session id is replaced.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = SignedInBody),
        (status = 401, body = ErrorBody, description = "invalid_credentials or totp_required"),
        (status = 403, body = ErrorBody, description = "account_locked or email_not_verified"),
        (status = 422, body = ErrorBody, description = "invalid_email, invalid_password, invalid_field"),
        (status = 429, body = ErrorBody, description = "too_many_requests from this client address, with Retry-After"),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<SignedInBody>, AppError> {
    let credentials = Credentials {
        email: body.email,
        password: SecretString::new(body.password),
        totp_code: body.totp_code,
    };
    let signed = state
        .services
        .sign_ins
        .with_password(credentials, &kit::place(&viewer))
        .await?;
    kit::welcome_body(&state, &viewer.handle, signed)
}

/// Ends the session server-side.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", responses((status = 204), (status = 401, body = ErrorBody)))]
pub(crate) async fn logout(signed_in: SignedIn) -> Result<StatusCode, AppError> {
    signed_in.handle.sign_out().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "accounts", responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<MeBody>, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    Ok(Json(MeBody {
        user: UserView::from(&profile),
        authenticated_at: signed_in.session.authenticated_at().map(|t| t.to_rfc3339()),
    }))
}

//! The JSON API of sign-in links, re-authentication, sessions, password and second factor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wildid_domain::audit::Actor;
use wildid_domain::secret::SecretString;
use wildid_domain::token::TokenPurpose;
use wildid_ports::services::admin::Deleter;

use crate::api_json::ApiJson;
use crate::api_types::{
    Accepted, ConfirmedBody, EndedBody, ErrorBody, RecoveryCodesBody, SessionView, SessionsBody,
    SignedInBody, TotpEnabledBody, TotpSetupBody,
};
use crate::error::AppError;
use crate::kit;
use crate::kit::{after_credential_change, end_other_sessions, requester, session_key};
use crate::routes::auth_api::accepted;
use crate::session::{Fresh, SignedIn, Viewer};
use crate::state::AppState;

/// An address to send a sign-in link to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MagicLinkRequest {
    /// An email address (at most 254 characters).
    #[schema(format = Email, max_length = 254)]
    email: String,
}

/// Sends a one-time sign-in link (which creates the account of a new address on first use).
#[utoipa::path(post, path = "/api/auth/magic-link", tag = "sign-in links", request_body = MagicLinkRequest,
    responses((status = 202, body = Accepted, description = "Whatever the address"), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn request_link(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<MagicLinkRequest>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    state
        .services
        .accounts
        .request_magic_link(&body.email, requester(&viewer))
        .await?;
    let lifetime = state
        .services
        .accounts
        .policy()
        .tokens
        .lifetime_text(TokenPurpose::MagicLink);
    Ok(accepted(
        "link_sent",
        &format!(
            "If the address can be used, a sign-in link is on its way. It works once and expires in {lifetime}."
        ),
    ))
}

/// Using a sign-in link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedeemRequest {
    token: String,
    /// Required (`true`) when the link creates a new account.
    #[serde(default)]
    accept_privacy: bool,
    /// Required when the account has a second factor.
    #[serde(default)]
    totp_code: Option<String>,
}

/// Signs in (or up) with a link's token; the session id is replaced.
#[utoipa::path(post, path = "/api/auth/magic-link/redeem", tag = "sign-in links", request_body = RedeemRequest,
    responses(
        (status = 200, body = SignedInBody),
        (status = 400, body = ErrorBody, description = "invalid_link"),
        (status = 401, body = ErrorBody, description = "totp_required (the link is still usable) or wrong_code (it is not)"),
        (status = 422, body = ErrorBody, description = "privacy_not_accepted (the link is still usable)"),
    ))]
pub(crate) async fn redeem_link(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<RedeemRequest>,
) -> Result<Json<SignedInBody>, AppError> {
    let signed = state
        .services
        .sign_ins
        .with_link(
            &body.token,
            body.accept_privacy,
            body.totp_code.as_deref(),
            &kit::place(&viewer),
        )
        .await?;
    kit::welcome_body(&state, &viewer.handle, signed)
}

/// Proof that the user is at the keyboard.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthRequest {
    password: String,
    #[serde(default)]
    totp_code: Option<String>,
}

/// Confirms the user before a sensitive change; the session id is replaced and counts as
/// freshly authenticated for 10 minutes.
#[utoipa::path(post, path = "/api/auth/reauth", tag = "account", request_body = ReauthRequest,
    responses((status = 200, body = ConfirmedBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "account_locked")))]
pub(crate) async fn reauth(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<ReauthRequest>,
) -> Result<Json<ConfirmedBody>, AppError> {
    let password = SecretString::new(body.password);
    let signed = state
        .services
        .sign_ins
        .reauthenticate(
            signed_in.user,
            &password,
            body.totp_code.as_deref(),
            &kit::place(&viewer),
        )
        .await?;
    let session = signed_in.handle.adopt(signed);
    Ok(Json(ConfirmedBody {
        status: "confirmed".into(),
        csrf_token: session.csrf().encode(),
    }))
}

/// The user's sessions.
#[utoipa::path(get, path = "/api/account/sessions", tag = "account", responses((status = 200, body = SessionsBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<SessionsBody>, AppError> {
    let list = state.services.sessions.list(signed_in.user.id()).await?;
    let sessions = list
        .iter()
        .map(|s| SessionView {
            id: hex::encode(s.key().as_bytes()),
            device: s.device().map(str::to_owned),
            network: s.coarse_ip().map(str::to_owned),
            created_at: s.created_at().to_rfc3339(),
            last_seen_at: s.last_seen_at().to_rfc3339(),
            current: s.key() == signed_in.session.key(),
        })
        .collect();
    Ok(Json(SessionsBody { sessions }))
}

/// Which sessions to end.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    /// One session, by the id listed.
    #[serde(default)]
    id: Option<String>,
    /// Every session but this one.
    #[serde(default)]
    all_others: bool,
}

/// Ends one of the user's sessions, or all but this one.
#[utoipa::path(post, path = "/api/account/sessions/revoke", tag = "account", request_body = RevokeRequest,
    responses((status = 200, body = EndedBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<RevokeRequest>,
) -> Result<Json<EndedBody>, AppError> {
    let sessions = &state.services.sessions;
    let client = signed_in.handle.client();
    let ended = match (body.id, body.all_others) {
        (_, true) => {
            sessions
                .revoke_others(
                    Actor::User(signed_in.user.id()),
                    signed_in.user.id(),
                    Some(signed_in.session.key()),
                    client.origin(),
                )
                .await?
        }
        (Some(id), false) => {
            let key = session_key(&id).ok_or_else(AppError::session_id_field_invalid)?;
            u64::from(sessions.revoke(signed_in.user.id(), &key, client).await?)
        }
        (None, false) => {
            return Err(AppError::no_session_chosen());
        }
    };
    Ok(Json(EndedBody { ended }))
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordRequest {
    /// 10 to 128 characters, hard to guess, not containing the address.
    #[schema(min_length = 10, max_length = 128)]
    new_password: String,
    #[serde(default)]
    end_other_sessions: bool,
}

/// Sets a new password (needs an authentication within 10 minutes).
#[utoipa::path(post, path = "/api/account/password", tag = "account", request_body = PasswordRequest,
    responses((status = 200, body = ConfirmedBody), (status = 403, body = ErrorBody, description = "reauthentication_required"), (status = 422, body = ErrorBody, description = "weak_password")))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<Json<ConfirmedBody>, AppError> {
    let password = SecretString::new(body.new_password);
    state
        .services
        .accounts
        .change_password(&signed_in.user, &password, requester(&viewer))
        .await?;
    let csrf_token = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    Ok(Json(ConfirmedBody {
        status: "changed".into(),
        csrf_token,
    }))
}

/// A new address for the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailChangeRequest {
    /// An email address (at most 254 characters).
    #[schema(format = Email, max_length = 254)]
    new_email: String,
}

/// Sends a confirmation link to a new address (needs an authentication within 10 minutes).
/// The account moves when the link is used; an address that has an account answers the same
/// and its owner is told.
#[utoipa::path(post, path = "/api/account/email", tag = "account", request_body = EmailChangeRequest,
    responses(
        (status = 202, body = Accepted, description = "confirmation_sent, whatever the address"),
        (status = 403, body = ErrorBody, description = "reauthentication_required"),
        (status = 422, body = ErrorBody, description = "invalid_email, same_address, invalid_field"),
        (status = 429, body = ErrorBody, description = "too_many_requests, with Retry-After"),
    ))]
pub(crate) async fn change_email(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<EmailChangeRequest>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    state
        .services
        .accounts
        .request_email_change(&signed_in.user, &body.new_email, requester(&viewer))
        .await?;
    Ok(accepted(
        "confirmation_sent",
        "If the address can be used, a confirmation link is on its way to it. Your address \
         changes when you open the link while signed in to this account.",
    ))
}

/// Using an address-change link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailConfirmRequest {
    token: String,
    /// Sign out every other session of the account.
    #[serde(default)]
    end_other_sessions: bool,
}

/// Moves the signed-in account to the address the link was sent to; the old address is told
/// and the session id is replaced.
#[utoipa::path(post, path = "/api/account/email/confirm", tag = "account", request_body = EmailConfirmRequest,
    responses(
        (status = 200, body = ConfirmedBody, description = "changed"),
        (status = 400, body = ErrorBody, description = "invalid_link (also another account's link)"),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "email_taken: the address got an account meanwhile"),
    ))]
pub(crate) async fn confirm_email(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<EmailConfirmRequest>,
) -> Result<Json<ConfirmedBody>, AppError> {
    state
        .services
        .accounts
        .confirm_email_change(&signed_in.user, &body.token, requester(&viewer))
        .await?;
    let csrf_token = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    Ok(Json(ConfirmedBody {
        status: "changed".into(),
        csrf_token,
    }))
}

/// A change to the second factor that needs nothing else, and may end the other sessions.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecondFactorChangeRequest {
    /// Also sign out every other session of this account.
    #[serde(default)]
    end_other_sessions: bool,
}

/// Starts enrolling a second factor (needs an authentication within 10 minutes).
#[utoipa::path(post, path = "/api/account/totp/setup", tag = "account", responses((status = 200, body = TotpSetupBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn totp_setup(
    State(state): State<AppState>,
    Fresh(signed_in): Fresh,
) -> Result<Json<TotpSetupBody>, AppError> {
    let enrolment = state.services.accounts.begin_totp(&signed_in.user)?;
    Ok(Json(TotpSetupBody {
        pending: enrolment.pending,
        secret: enrolment.secret_base32.expose().clone(),
        otpauth_url: enrolment.otpauth_url.expose().clone(),
    }))
}

/// The first code of a new second factor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpConfirmRequest {
    pending: String,
    code: String,
    #[serde(default)]
    end_other_sessions: bool,
}

/// Turns the second factor on; the recovery codes are in this answer only.
#[utoipa::path(post, path = "/api/account/totp/confirm", tag = "account", request_body = TotpConfirmRequest,
    responses((status = 200, body = TotpEnabledBody), (status = 400, body = ErrorBody, description = "setup_expired"), (status = 422, body = ErrorBody, description = "wrong_code")))]
pub(crate) async fn totp_confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<TotpConfirmRequest>,
) -> Result<Json<TotpEnabledBody>, AppError> {
    let codes = state
        .services
        .accounts
        .confirm_totp(
            &signed_in.user,
            &body.pending,
            &body.code,
            requester(&viewer),
        )
        .await?;
    let csrf_token = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    Ok(Json(TotpEnabledBody {
        status: "enabled".into(),
        recovery_codes: codes.iter().map(|c| c.display().to_owned()).collect(),
        csrf_token,
    }))
}

/// Turns the second factor off (needs an authentication within 10 minutes).
#[utoipa::path(post, path = "/api/account/totp/disable", tag = "account", request_body = SecondFactorChangeRequest, responses((status = 200, body = ConfirmedBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<SecondFactorChangeRequest>,
) -> Result<Json<ConfirmedBody>, AppError> {
    state
        .services
        .accounts
        .disable_totp(&signed_in.user, requester(&viewer))
        .await?;
    let csrf_token = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    Ok(Json(ConfirmedBody {
        status: "disabled".into(),
        csrf_token,
    }))
}

/// Replaces every recovery code (needs an authentication within 10 minutes).
#[utoipa::path(post, path = "/api/account/recovery-codes", tag = "account",
    request_body = SecondFactorChangeRequest,
    responses((status = 200, body = RecoveryCodesBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "totp_not_enabled")))]
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<SecondFactorChangeRequest>,
) -> Result<Json<RecoveryCodesBody>, AppError> {
    let codes = state
        .services
        .accounts
        .regenerate_recovery_codes(&signed_in.user, requester(&viewer))
        .await?;
    if body.end_other_sessions {
        // No privilege changes, so this session keeps its id.
        end_other_sessions(&state, &signed_in, signed_in.session.key()).await?;
    }
    Ok(Json(RecoveryCodesBody {
        recovery_codes: codes.iter().map(|c| c.display().to_owned()).collect(),
    }))
}

/// Deletes the caller's account with everything in it (identifications, photos, feedback,
/// sessions, sign-in links, recovery codes), at once; needs a fresh authentication. The
/// session cookie is cleared.
#[utoipa::path(delete, path = "/api/account", tag = "account",
    responses((status = 204, description = "Deleted; the session is gone"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`reauthentication_required`, or the anti-forgery check failed")))]
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
) -> Result<StatusCode, AppError> {
    state
        .services
        .admin
        .delete_account(Deleter::Owner, signed_in.user.id(), requester(&viewer))
        .await?;
    state.journal_pages.forget(signed_in.user.id());
    signed_in.handle.forget();
    Ok(StatusCode::NO_CONTENT)
}

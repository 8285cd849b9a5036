//! The JSON API of sign-in links, re-authentication, sessions, password and second factor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use wildid_domain::audit::Actor;
use wildid_domain::secret::SecretString;
use wildid_domain::session::SessionKey;

use crate::api_json::ApiJson;
use crate::error::AppError;
use crate::routes::auth_api::{profile_json, requester};
use crate::session::{Fresh, SignedIn, Viewer};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MagicLinkRequest {
    email: String,
}

/// `POST /api/auth/magic-link` → 202 whatever the address.
pub(crate) async fn request_link(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<MagicLinkRequest>,
) -> Result<Response, AppError> {
    state
        .services
        .accounts
        .request_magic_link(&body.email, requester(&viewer))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"status": "link_sent", "message": "If the address can be used, a sign-in link is on its way. It works once and expires in 15 minutes."})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedeemRequest {
    token: String,
    #[serde(default)]
    accept_privacy: bool,
    #[serde(default)]
    totp_code: Option<String>,
}

/// `POST /api/auth/magic-link/redeem`: signs in (or up) with a link's token.
pub(crate) async fn redeem_link(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<RedeemRequest>,
) -> Result<Json<Value>, AppError> {
    let accounts = &state.services.accounts;
    let user = accounts
        .redeem_magic_link(
            &body.token,
            body.accept_privacy,
            body.totp_code.as_deref(),
            requester(&viewer),
        )
        .await?;
    let profile = accounts.profile(&user)?;
    let session = viewer.handle.sign_in(user).await?;
    Ok(Json(
        json!({ "user": profile_json(&profile), "csrf_token": session.csrf.encode() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthRequest {
    password: String,
    #[serde(default)]
    totp_code: Option<String>,
}

/// `POST /api/auth/reauth`: confirms the user before a sensitive change; the session id is
/// replaced and marked freshly authenticated.
pub(crate) async fn reauth(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<ReauthRequest>,
) -> Result<Json<Value>, AppError> {
    let password = SecretString::new(body.password);
    state
        .services
        .accounts
        .reauthenticate(
            &signed_in.user,
            &password,
            body.totp_code.as_deref(),
            requester(&viewer),
        )
        .await?;
    let session = signed_in.handle.sign_in(signed_in.user).await?;
    Ok(Json(
        json!({ "status": "confirmed", "csrf_token": session.csrf.encode() }),
    ))
}

/// `GET /api/account/sessions`.
pub(crate) async fn sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<Value>, AppError> {
    let list = state.services.sessions.list(signed_in.user.id).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|s| {
            json!({
                "id": hex::encode(s.key.as_bytes()),
                "device": s.device,
                "network": s.coarse_ip,
                "created_at": s.created_at.to_rfc3339(),
                "last_seen_at": s.last_seen_at.to_rfc3339(),
                "current": s.key == signed_in.session.key,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    all_others: bool,
}

/// Parses a session id as listed (hex of the stored key).
pub(crate) fn session_key(id: &str) -> Option<SessionKey> {
    let bytes: [u8; 32] = hex::decode(id.trim()).ok()?.try_into().ok()?;
    Some(SessionKey::from_bytes(bytes))
}

/// `POST /api/account/sessions/revoke`: one session (`id`) or all but this one.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<RevokeRequest>,
) -> Result<Json<Value>, AppError> {
    let sessions = &state.services.sessions;
    let client = signed_in.handle.client();
    let ended = match (body.id, body.all_others) {
        (_, true) => {
            sessions
                .revoke_others(
                    Actor::User(signed_in.user.id),
                    signed_in.user.id,
                    Some(signed_in.session.key),
                    client.request_id,
                )
                .await?
        }
        (Some(id), false) => {
            let key = session_key(&id).ok_or_else(|| {
                AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    "Field id: not a session id.",
                )
            })?;
            u64::from(sessions.revoke(signed_in.user.id, &key, client).await?)
        }
        (None, false) => {
            return Err(AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "Give a session id, or all_others: true.",
            ));
        }
    };
    Ok(Json(json!({ "ended": ended })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordRequest {
    new_password: String,
    #[serde(default)]
    end_other_sessions: bool,
}

/// `POST /api/account/password` (fresh authentication required).
pub(crate) async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<Json<Value>, AppError> {
    let password = SecretString::new(body.new_password);
    state
        .services
        .accounts
        .change_password(&signed_in.user, &password, requester(&viewer))
        .await?;
    let csrf = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    Ok(Json(json!({ "status": "changed", "csrf_token": csrf })))
}

/// A credential changed: the session id is replaced (privilege change) and, if asked, every
/// other session ends. Returns the new CSRF token.
pub(crate) async fn after_credential_change(
    state: &AppState,
    signed_in: SignedIn,
    end_others: bool,
) -> Result<String, AppError> {
    let user = state
        .services
        .sessions
        .reload_user(signed_in.user.id)
        .await?;
    let session = signed_in.handle.sign_in(user).await?;
    if end_others {
        let id = signed_in.user.id;
        state
            .services
            .sessions
            .revoke_others(
                Actor::User(id),
                id,
                Some(session.key),
                signed_in.handle.client().request_id,
            )
            .await?;
    }
    Ok(session.csrf.encode())
}

/// `POST /api/account/totp/setup` (fresh): a new secret to enrol.
pub(crate) async fn totp_setup(
    State(state): State<AppState>,
    Fresh(signed_in): Fresh,
) -> Result<Json<Value>, AppError> {
    let enrolment = state.services.accounts.begin_totp(&signed_in.user)?;
    Ok(Json(json!({
        "pending": enrolment.pending,
        "secret": enrolment.secret_base32.expose(),
        "otpauth_url": enrolment.otpauth_url.expose(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpConfirmRequest {
    pending: String,
    code: String,
    #[serde(default)]
    end_other_sessions: bool,
}

/// `POST /api/account/totp/confirm` (fresh): enables the second factor; the recovery codes are
/// in this answer only.
pub(crate) async fn totp_confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    ApiJson(body): ApiJson<TotpConfirmRequest>,
) -> Result<Json<Value>, AppError> {
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
    let csrf = after_credential_change(&state, signed_in, body.end_other_sessions).await?;
    let codes: Vec<&str> = codes.iter().map(|c| c.display()).collect();
    Ok(Json(
        json!({ "status": "enabled", "recovery_codes": codes, "csrf_token": csrf }),
    ))
}

/// `POST /api/account/totp/disable` (fresh).
pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
) -> Result<Json<Value>, AppError> {
    state
        .services
        .accounts
        .disable_totp(&signed_in.user, requester(&viewer))
        .await?;
    let csrf = after_credential_change(&state, signed_in, false).await?;
    Ok(Json(json!({ "status": "disabled", "csrf_token": csrf })))
}

/// `POST /api/account/recovery-codes` (fresh): replaces every recovery code.
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
) -> Result<Json<Value>, AppError> {
    let codes = state
        .services
        .accounts
        .regenerate_recovery_codes(&signed_in.user, requester(&viewer))
        .await?;
    let codes: Vec<&str> = codes.iter().map(|c| c.display()).collect();
    Ok(Json(json!({ "recovery_codes": codes })))
}

//! `GET /api/security/status`: the session's anti-forgery token and adaptive-limit state, for
//! scripts (seed §6, §7). Creates an anonymous session when there is none, since the token
//! lives in the session.

use axum::Json;
use axum::extract::State;

use crate::api_types::{ErrorBody, SecurityStatus};
use crate::error::AppError;
use crate::session::Viewer;
use crate::state::AppState;

/// The session's anti-forgery token and where it stands against the adaptive limit.
#[utoipa::path(get, path = "/api/security/status", tag = "security",
    responses((status = 200, body = SecurityStatus), (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<SecurityStatus>, AppError> {
    let session = viewer.handle.ensure().await?;
    let settings = &state.settings;
    Ok(Json(SecurityStatus {
        csrf_token: session.csrf.encode(),
        captcha_enabled: settings.captcha.is_some(),
        captcha_kind: settings.captcha.map(|k| k.as_str().to_owned()),
        rate_limit_threshold: settings.rate_limit.threshold(),
        rate_limit_window_seconds: settings.rate_limit.window().num_seconds(),
        request_count: session.trust.request_count,
        rate_limited: session.trust.rate_limited,
        is_trusted: session.trust.is_trusted,
        authenticated: viewer.user.is_some(),
    }))
}

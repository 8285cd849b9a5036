//! The adaptive-trust API (seed §6, §7), in the exact shapes external clients rely on:
//!
//! - `GET /api/security/status`: the session's anti-forgery token and where it stands against
//!   the adaptive limit. Creates an anonymous session when there is none, since the token lives
//!   in the session.
//! - `POST /api/security/captcha`: a challenge for this session.
//! - `POST /api/security/verify`: an answer; passing makes the session trusted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wildid_domain::session::Session;
use wildid_domain::trust::Standing;
use wildid_ports::services::captcha::{Puzzle, VerifyCaptchaError};

use crate::api_json::ApiJson;
use crate::api_types::{
    AltchaChallenge, CaptchaAnswer, CaptchaFailed, CaptchaIssued, CaptchaPassed, ErrorBody,
    SecurityStatus,
};
use crate::error::AppError;
use crate::middleware::errors::KeepBody;
use crate::session::Viewer;
use crate::state::AppState;

/// The status of `session` (from the request's client) as the API reports it: where it
/// stands as the next identification will find it, its network's counts included.
pub(crate) async fn status_of(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
) -> Result<SecurityStatus, AppError> {
    let standing = state
        .services
        .trust
        .standing(session, viewer.handle.client().network.as_deref())
        .await?;
    Ok(status_from(state, session, viewer, &standing))
}

/// The status of `session` standing as `standing` says (from `TrustGate::standing`, or from
/// the admission that just counted an identification).
pub(crate) fn status_from(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
    standing: &Standing,
) -> SecurityStatus {
    let kind = state.services.captchas.kind();
    let limit = state.services.trust.policy();
    SecurityStatus {
        csrf_token: session.csrf().encode(),
        captcha_enabled: kind.is_some(),
        captcha_kind: kind.map(|k| k.as_str().to_owned()),
        rate_limit_threshold: limit.threshold(),
        rate_limit_window_seconds: limit.window().num_seconds(),
        request_count: standing.trust.request_count,
        identifications_left: standing.left,
        rate_limited: standing.held,
        is_trusted: standing.trust.is_trusted,
        authenticated: viewer.user.is_some(),
    }
}

/// The session's anti-forgery token and where it stands against the adaptive limit.
#[utoipa::path(get, path = "/api/security/status", tag = "security",
    responses((status = 200, body = SecurityStatus), (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<SecurityStatus>, AppError> {
    let session = viewer.handle.ensure().await?;
    Ok(Json(status_of(&state, &session, &viewer).await?))
}

/// Issues a CAPTCHA to this session (which is then rate-limited until it passes, unless it is
/// trusted already).
#[utoipa::path(post, path = "/api/security/captcha", tag = "security",
    responses((status = 200, body = CaptchaIssued),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 404, body = ErrorBody, description = "CAPTCHAs are disabled"),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn captcha(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<CaptchaIssued>, AppError> {
    let session = viewer.handle.ensure().await?;
    let issued = state
        .services
        .captchas
        .issue(&session, viewer.handle.client())
        .await?;
    let (question, challenge) = match issued.puzzle {
        Puzzle::Question(q) => (Some(q), None),
        Puzzle::ProofOfWork(c) => (
            None,
            Some(AltchaChallenge {
                algorithm: wildid_domain::pow::ALGORITHM.to_owned(),
                challenge: c.challenge,
                maxnumber: c.max_number,
                salt: c.salt,
                signature: c.signature,
            }),
        ),
    };
    Ok(Json(CaptchaIssued {
        captcha_id: issued.id.to_string(),
        kind: issued.kind.as_str().to_owned(),
        expires_in: issued.expires_in,
        question,
        challenge,
    }))
}

/// Checks an answer; passing makes the session trusted: its own counter no longer limits it
/// (the per-address ceiling still does).
#[utoipa::path(post, path = "/api/security/verify", tag = "security", request_body = CaptchaAnswer,
    responses((status = 200, body = CaptchaPassed),
        (status = 400, body = CaptchaFailed, description = "`incorrect_answer`, `too_many_attempts`, `expired` or `unknown_captcha`"),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 404, body = ErrorBody, description = "CAPTCHAs are disabled"),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiJson(body): ApiJson<CaptchaAnswer>,
) -> Result<Response, AppError> {
    let session = viewer.handle.ensure().await?;
    let outcome = state
        .services
        .captchas
        .verify(
            &session,
            &body.captcha_id,
            &body.answer.as_text(),
            viewer.handle.client(),
        )
        .await;
    match outcome {
        Ok(trust) => {
            let passed = session.with_trust(trust);
            Ok(Json(CaptchaPassed {
                success: true,
                status: status_of(&state, &passed, &viewer).await?,
            })
            .into_response())
        }
        Err(
            e @ (VerifyCaptchaError::IncorrectAnswer { .. }
            | VerifyCaptchaError::TooManyAttempts
            | VerifyCaptchaError::Expired
            | VerifyCaptchaError::UnknownCaptcha),
        ) => {
            let mut response = (
                StatusCode::BAD_REQUEST,
                Json(CaptchaFailed {
                    success: false,
                    error: e.code().to_owned(),
                }),
            )
                .into_response();
            response.extensions_mut().insert(KeepBody);
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

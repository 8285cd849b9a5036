//! The admin JSON API (`/api/admin/*`): admins only, with a second factor.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wildid_domain::audit::Actor;
use wildid_domain::ids::UserId;
use wildid_domain::role::Role;
use wildid_ports::repo::Page;
use wildid_ports::services::admin::UserSummary;

use crate::api_json::ApiJson;
use crate::error::AppError;
use crate::routes::auth_api::requester;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

pub(crate) fn summary_json(u: &UserSummary) -> Value {
    json!({
        "id": u.id.to_string(),
        "email": u.email,
        "role": u.role.as_str(),
        "active": u.active,
        "email_verified": u.email_verified,
        "totp_enabled": u.totp_enabled,
        "locked_until": u.locked_until.map(|t| t.to_rfc3339()),
        "last_login_at": u.last_login_at.map(|t| t.to_rfc3339()),
        "created_at": u.created_at.to_rfc3339(),
    })
}

/// A user id from the path; anything else is a 404 like a missing user.
pub(crate) fn target(raw: &str) -> Result<UserId, AppError> {
    UserId::parse(raw).map_err(|_| AppError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct PageQuery {
    offset: u64,
    limit: Option<u32>,
}

/// `GET /api/admin/users`.
pub(crate) async fn users(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Json<Value>, AppError> {
    let page = Page {
        offset: q.offset,
        limit: q.limit.unwrap_or(100).min(500),
    };
    let users = state.services.admin.list(page).await?;
    Ok(Json(
        json!({ "users": users.iter().map(summary_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRequest {
    role: String,
}

/// `POST /api/admin/users/{id}/role`.
pub(crate) async fn set_role(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<Value>, AppError> {
    let role: Role = body.role.parse().map_err(|_| {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "Field role: expected visitor, worker or admin.",
        )
    })?;
    state
        .services
        .admin
        .set_role(
            Actor::User(admin.user.id),
            target(&id)?,
            role,
            requester(&viewer),
        )
        .await?;
    Ok(Json(json!({ "status": "changed" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActiveRequest {
    active: bool,
}

/// `POST /api/admin/users/{id}/active`.
pub(crate) async fn set_active(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActiveRequest>,
) -> Result<Json<Value>, AppError> {
    state
        .services
        .admin
        .set_active(
            Actor::User(admin.user.id),
            target(&id)?,
            body.active,
            requester(&viewer),
        )
        .await?;
    Ok(Json(json!({ "status": "changed" })))
}

/// `POST /api/admin/users/{id}/unlock`.
pub(crate) async fn unlock(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    state
        .services
        .admin
        .unlock(Actor::User(admin.user.id), target(&id)?, requester(&viewer))
        .await?;
    Ok(Json(json!({ "status": "unlocked" })))
}

/// `POST /api/admin/users/{id}/sessions/revoke`.
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let ended = state
        .services
        .admin
        .end_sessions(Actor::User(admin.user.id), target(&id)?, requester(&viewer))
        .await?;
    Ok(Json(json!({ "ended": ended })))
}

//! The admin JSON API (`/api/admin/*`): admins only, with a second factor.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wildid_domain::audit::Actor;
use wildid_domain::role::Role;
use wildid_ports::repo::Page;
use wildid_ports::services::admin::Deleter;

use crate::api_json::{ApiJson, ApiQuery};
use crate::api_types::{AdminUserView, AdminUsersBody, Done, EndedBody, ErrorBody};
use crate::error::AppError;
use crate::kit::{requester, target};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// Largest page of [`users`].
const MAX_PAGE: u32 = 500;
/// Page size when none is asked for.
const DEFAULT_PAGE: u32 = 100;

/// Paging of the account list.
#[derive(Deserialize, Default, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Accounts to skip (at most 2^63 - 1).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    offset: u64,
    /// Accounts to return (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Lists accounts, oldest first.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(PageQuery),
    responses(
        (status = 200, body = AdminUsersBody),
        (status = 400, body = ErrorBody, description = "invalid_query"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "forbidden or totp_required"),
    ))]
pub(crate) async fn users(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AdminUsersBody>, AppError> {
    if i64::try_from(q.offset).is_err() {
        return Err(AppError::offset_out_of_range());
    }
    let page = Page {
        offset: q.offset,
        limit: super::journal_api::checked_limit(q.limit, DEFAULT_PAGE, MAX_PAGE)?,
    };
    let users = state.services.admin.list(page).await?;
    Ok(Json(AdminUsersBody {
        users: users.iter().map(AdminUserView::from).collect(),
    }))
}

/// A new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRequest {
    /// `visitor`, `worker` or `admin`.
    role: String,
}

/// Changes an account's role; the account's sessions end so the new role applies at once.
#[utoipa::path(post, path = "/api/admin/users/{id}/role", tag = "admin", request_body = RoleRequest,
    params(("id" = String, Path, description = "User id (UUID)")),
    responses(
        (status = 200, body = Done, description = "changed"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "self_change: admins cannot demote or deactivate themselves"),
        (status = 422, body = ErrorBody, description = "invalid_field"),
    ))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<Done>, AppError> {
    let role: Role = body
        .role
        .parse()
        .map_err(|_| AppError::role_field_invalid())?;
    state
        .services
        .admin
        .set_role(
            Actor::User(admin.user.id()),
            target(&id)?,
            role,
            requester(&viewer),
        )
        .await?;
    Ok(Json(Done {
        status: "changed".into(),
    }))
}

/// Activation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActiveRequest {
    /// `false` deactivates the account and ends its sessions.
    active: bool,
}

/// Deactivates or reactivates an account.
#[utoipa::path(post, path = "/api/admin/users/{id}/active", tag = "admin", request_body = ActiveRequest,
    params(("id" = String, Path, description = "User id (UUID)")),
    responses(
        (status = 200, body = Done, description = "changed"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "self_change: admins cannot demote or deactivate themselves"),
    ))]
pub(crate) async fn set_active(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActiveRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .services
        .admin
        .set_active(
            Actor::User(admin.user.id()),
            target(&id)?,
            body.active,
            requester(&viewer),
        )
        .await?;
    Ok(Json(Done {
        status: "changed".into(),
    }))
}

/// Lifts a password lockout.
#[utoipa::path(post, path = "/api/admin/users/{id}/unlock", tag = "admin",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 200, body = Done, description = "unlocked"), (status = 404, body = ErrorBody)))]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Done>, AppError> {
    state
        .services
        .admin
        .unlock(
            Actor::User(admin.user.id()),
            target(&id)?,
            requester(&viewer),
        )
        .await?;
    Ok(Json(Done {
        status: "unlocked".into(),
    }))
}

/// Ends every session of an account.
#[utoipa::path(post, path = "/api/admin/users/{id}/sessions/revoke", tag = "admin",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 200, body = EndedBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<EndedBody>, AppError> {
    let ended = state
        .services
        .admin
        .end_sessions(
            Actor::User(admin.user.id()),
            target(&id)?,
            requester(&viewer),
        )
        .await?;
    Ok(Json(EndedBody { ended }))
}

/// Deletes an account with everything in it (identifications, photos, feedback, sessions,
/// links, recovery codes); audited with the admin as actor. Admins cannot delete their own.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`self_change`: not your own account")))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let user = target(&id)?;
    state
        .services
        .admin
        .delete_account(Deleter::Admin(admin.user.id()), user, requester(&viewer))
        .await?;
    state.journal_pages.forget(user);
    Ok(StatusCode::NO_CONTENT)
}

//! `/admin`: the accounts, with their roles and state, and the admin actions as forms.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::audit::Actor;
use wildid_domain::role::Role;
use wildid_ports::repo::Page;
use wildid_ports::services::admin::{Deleter, UserSummary};

use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::{requester, target};
use crate::middleware::frame::RequestContext;
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    users: Vec<UserSummary>,
    me: String,
}

/// `GET /admin`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    admin: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let users = state.services.admin.list(Page::first(500)).await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = AdminPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/admin").with_flashes(flashes),
        users,
        me: admin.user.id.to_string(),
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActionForm {
    role: String,
    active: String,
    /// `yes` when the deletion box is ticked.
    confirm: String,
}

/// `POST /admin/users/{id}/{action}`: one form per action, back to the list with a message.
pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    jar: SignedCookieJar,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    let user = target(&id)?;
    let actor = Actor::User(admin.user.id);
    let who = requester(&viewer);
    let admin_service = &state.services.admin;
    if action == "delete" && form.confirm != "yes" {
        let jar = flash::push(
            jar,
            &state.settings,
            FlashKind::Error,
            "Nothing was deleted: tick the box beside the button to confirm the deletion.",
        );
        return Ok((jar, Redirect::to("/admin")).into_response());
    }
    let outcome = match action.as_str() {
        "role" => {
            let role: Role = form.role.parse().map_err(|_| {
                AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    "Choose visitor, worker or admin.",
                )
            })?;
            admin_service
                .set_role(actor, user, role, who)
                .await
                .map(|()| format!("Role changed to {role}; their sessions ended."))
        }
        "active" => {
            let active = form.active == "true";
            admin_service
                .set_active(actor, user, active, who)
                .await
                .map(|()| {
                    if active {
                        "Account reactivated.".into()
                    } else {
                        "Account deactivated; its sessions ended.".into()
                    }
                })
        }
        "unlock" => admin_service
            .unlock(actor, user, who)
            .await
            .map(|()| "Lock lifted.".into()),
        "end-sessions" => admin_service
            .end_sessions(actor, user, who)
            .await
            .map(|n| format!("{n} session(s) ended.")),
        "delete" => admin_service
            .delete_account(Deleter::Admin(admin.user.id), user, who)
            .await
            .map(|()| "Account deleted with everything in it.".into()),
        _ => return Err(AppError::NotFound),
    };
    let jar = match outcome {
        Ok(message) => flash::push(jar, &state.settings, FlashKind::Success, &message),
        Err(e) => {
            let error = AppError::from(e);
            match error {
                AppError::Refused { message, .. } => {
                    flash::push(jar, &state.settings, FlashKind::Error, &message)
                }
                other => return Err(other),
            }
        }
    };
    Ok((jar, Redirect::to("/admin")).into_response())
}

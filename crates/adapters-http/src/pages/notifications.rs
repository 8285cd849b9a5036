//! A person's in-app notifications (`/notifications`): exposures at sites they visited, newest
//! first, each with a button to mark it read. Someone else's notification is 404.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash;
use crate::kit::notification_id;
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

const PATH: &str = "/notifications";

/// One notification as the page shows it.
struct NotificationCard {
    id: String,
    /// Paragraphs of the message.
    paragraphs: Vec<String>,
    /// `5 May 2027, 09:00 UTC`.
    created: String,
    created_iso: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    notifications: Vec<NotificationCard>,
}

/// `GET /notifications`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let exposures = &state.services.exposures;
    let user = signed_in.user.id();
    let notifications = exposures.notifications(user).await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = NotificationsPage {
        layout: Layout::for_viewer(&ctx, &viewer, PATH).with_flashes(flashes),
        notifications: notifications
            .iter()
            .map(|n| NotificationCard {
                id: n.id.to_string(),
                paragraphs: n
                    .message
                    .as_str()
                    .split("\n\n")
                    .map(str::to_owned)
                    .collect(),
                created: n.created_at.format("%-d %b %Y, %H:%M UTC").to_string(),
                created_iso: n.created_at.to_rfc3339(),
                read: n.read_at.is_some(),
            })
            .collect(),
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// `POST /notifications/{id}/read`.
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state
        .services
        .exposures
        .mark_read(signed_in.user.id(), notification_id(&id)?)
        .await?;
    Ok(Redirect::to(PATH).into_response())
}

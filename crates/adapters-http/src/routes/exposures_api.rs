//! The JSON API of exposure reports and in-app notifications (seed 004 items 5 and 12).
//! Workers and admins report; everyone reads and marks their own notifications (someone
//! else's is 404, like a missing one).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_domain::visits::Notification;
use wildid_ports::services::visits::ExposureInput;

use crate::api_json::ApiJson;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::{chosen_site, notification_id, window_time};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// `POST /api/exposures`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExposureRequest {
    /// The site.
    pub site_id: String,
    /// When the exposure window starts (RFC 3339).
    pub from: String,
    /// When it ends (RFC 3339; not after now, at most 31 days after `from`).
    pub to: String,
    /// What was found and what people should do (1 to 1,000 characters).
    pub note: String,
}

/// A stored report.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportedBody {
    /// The report's id.
    pub id: String,
    /// How many people were told (in the app only).
    pub notified: usize,
}

/// One notification.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationView {
    /// Its id.
    pub id: String,
    /// What happened, where, when, and what to do.
    pub message: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was marked read, or `null`.
    pub read_at: Option<String>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.to_string(),
            message: n.message.as_str().to_owned(),
            created_at: n.created_at.to_rfc3339(),
            read_at: n.read_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// The caller's notifications.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationsBody {
    /// How many are unread.
    pub unread: u32,
    /// Newest first.
    pub notifications: Vec<NotificationView>,
}

/// Reports an exposure at a site (workers and admins): everyone checked in there during the
/// window is told in the app, once.
#[utoipa::path(post, path = "/api/exposures", tag = "visits", request_body = ExposureRequest,
    responses((status = 201, body = ReportedBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`unknown_site`, `invalid_time`, `invalid_window` or `invalid_note`")))]
pub(crate) async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<ExposureRequest>,
) -> Result<(StatusCode, Json<ReportedBody>), AppError> {
    let input = ExposureInput {
        site: chosen_site(&body.site_id)?,
        from: window_time(&body.from, 0)?,
        to: window_time(&body.to, 0)?,
        note: body.note,
    };
    let reported = state
        .services
        .exposures
        .report(signed_in.user.id(), &input, viewer.handle.client().origin())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportedBody {
            id: reported.report.id.to_string(),
            notified: reported.notified,
        }),
    ))
}

/// The caller's notifications, newest first, and how many are unread.
#[utoipa::path(get, path = "/api/notifications", tag = "visits",
    responses((status = 200, body = NotificationsBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<NotificationsBody>, AppError> {
    let exposures = &state.services.exposures;
    let notifications = exposures.notifications(signed_in.user.id()).await?;
    Ok(Json(NotificationsBody {
        unread: exposures.unread(signed_in.user.id()).await?,
        notifications: notifications.iter().map(NotificationView::from).collect(),
    }))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "visits",
    params(("id" = String, Path, description = "The notification's id")),
    responses((status = 204, description = "Marked read"),
        (status = 404, body = ErrorBody, description = "No such notification of the caller's (also when signed out)")))]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .exposures
        .mark_read(signed_in.user.id(), notification_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

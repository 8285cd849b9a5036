//! `POST /api/admin/cleanup` (seed 004's `/admin/cleanup`, as JSON): the retention purge of
//! visit data, now, for admins. The page's form posts to `/admin/cleanup`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::purge_now;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// What a purge deleted.
#[derive(Serialize, ToSchema)]
pub(crate) struct PurgeReport {
    /// Visit mappings older than the visit retention period.
    pub visit_mappings: u64,
    /// Bookings of visits that started before it.
    pub bookings: u64,
    /// Notifications read before their own period.
    pub notifications: u64,
    /// The visit retention period, in days.
    pub visit_retention_days: i64,
    /// How long read notifications are kept, in days.
    pub read_notification_retention_days: i64,
}

/// Deletes visit data past its retention period now (audited with its counts).
#[utoipa::path(post, path = "/api/admin/cleanup", tag = "visits",
    responses((status = 200, body = PurgeReport),
        (status = 409, body = ErrorBody, description = "`purge_running`: another server process is purging"),
        (status = 503, body = ErrorBody, description = "the database failed part-way; what was deleted stays deleted")))]
pub(crate) async fn cleanup(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
) -> Result<Json<PurgeReport>, AppError> {
    let purged = purge_now(&state, &viewer, &signed_in).await?;
    let policy = state.services.retention.policy();
    Ok(Json(PurgeReport {
        visit_mappings: purged.mappings,
        bookings: purged.bookings,
        notifications: purged.notifications,
        visit_retention_days: policy.visit_mappings().num_days(),
        read_notification_retention_days: policy.read_notifications().num_days(),
    }))
}

//! The workers' queue: open bookings and the caller's own, claiming one, checking the visitor
//! in, completing the visit.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_ports::services::visits::Step;

use super::bookings::step;
use super::views::BookingView;
use crate::api_json::ApiJson;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::{actor, booking_id};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// `POST /api/worker/bookings/{id}/check-in`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckInRequest {
    /// The visit token the visitor shows: 32 hex digits, spaces or dashes allowed between.
    pub token: String,
}

/// What a worker sees: the queue and their own visits.
#[derive(Serialize, ToSchema)]
pub(crate) struct WorkerBookingsBody {
    /// Requested bookings not over yet, soonest first.
    pub open: Vec<BookingView>,
    /// The bookings the caller holds, soonest first.
    pub mine: Vec<BookingView>,
}

/// The workers' queue and the caller's own visits (workers and admins).
#[utoipa::path(get, path = "/api/worker/bookings", tag = "visits",
    responses((status = 200, body = WorkerBookingsBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn worker_bookings(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<WorkerBookingsBody>, AppError> {
    let bookings = &state.services.bookings;
    let open = bookings.open().await?;
    let mine = bookings.held_by(signed_in.user.id()).await?;
    Ok(Json(WorkerBookingsBody {
        open: open.iter().map(|b| BookingView::of(b, true)).collect(),
        mine: mine.iter().map(|b| BookingView::of(b, true)).collect(),
    }))
}

/// Claims a requested booking (workers and admins); of two workers claiming at once, one
/// gets it and the other `booking_changed`.
#[utoipa::path(post, path = "/api/worker/bookings/{id}/claim", tag = "visits",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_booking_state`, `visit_over` or `booking_changed`")))]
pub(crate) async fn claim(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    step(&state, &viewer, &signed_in, &id, Step::Claim).await
}

/// Checks the visitor in with the visit token they show (the worker holding the booking, from
/// 30 minutes before the start until the end).
#[utoipa::path(post, path = "/api/worker/bookings/{id}/check-in", tag = "visits",
    request_body = CheckInRequest,
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`claimed_by_another`"),
        (status = 409, body = ErrorBody, description = "`wrong_booking_state`, `check_in_not_open`, `visit_over` or `booking_changed`"),
        (status = 422, body = ErrorBody, description = "`invalid_token` or `wrong_token`")))]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CheckInRequest>,
) -> Result<Json<BookingView>, AppError> {
    let booking = state
        .services
        .bookings
        .check_in(
            actor(&signed_in.user),
            booking_id(&id)?,
            &body.token,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(BookingView::of(&booking, true)))
}

/// Completes a visit (the worker holding the booking, after check-in).
#[utoipa::path(post, path = "/api/worker/bookings/{id}/complete", tag = "visits",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`claimed_by_another`"),
        (status = 409, body = ErrorBody, description = "`wrong_booking_state` or `booking_changed`")))]
pub(crate) async fn complete(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    step(&state, &viewer, &signed_in, &id, Step::Complete).await
}

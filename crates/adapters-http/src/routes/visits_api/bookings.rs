//! Visitors' bookings: booking a visit, the caller's bookings, one booking and its visit
//! token, and cancelling; and the step of a booking's life the workers' routes share.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_ports::services::visits::{BookingInput, Step};

use super::views::{BookingView, staff};
use crate::api_json::ApiJson;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::{actor, booking_id, chosen_service, chosen_site, visit_start};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// `POST /api/bookings`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookingRequest {
    /// The site.
    pub site_id: String,
    /// The kind of visit.
    pub service_id: String,
    /// When the visit starts: RFC 3339 on a whole quarter hour, in the future, at most 366
    /// days ahead.
    pub starts_at: String,
    /// A note for the guide (at most 2,000 characters).
    pub description: Option<String>,
}

/// `GET /api/bookings/{id}/token`.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenBody {
    /// The token (32 hex digits), or `null` once the visitor was checked in or the booking
    /// cancelled.
    pub token: Option<String>,
}

/// Books a visit for the caller.
#[utoipa::path(post, path = "/api/bookings", tag = "visits", request_body = BookingRequest,
    responses((status = 201, body = BookingView),
        (status = 409, body = ErrorBody, description = "`site_closed`, `fully_booked` or `already_booked`"),
        (status = 422, body = ErrorBody, description = "`unknown_site`, `unknown_service`, `invalid_time` or `invalid_description`")))]
pub(crate) async fn book(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<BookingRequest>,
) -> Result<(StatusCode, Json<BookingView>), AppError> {
    let input = BookingInput {
        site: chosen_site(&body.site_id)?,
        service: chosen_service(&body.service_id)?,
        start: visit_start(&body.starts_at, 0)?,
        description: body.description.unwrap_or_default(),
    };
    let booking = state
        .services
        .bookings
        .book(signed_in.user.id(), &input, viewer.handle.client().origin())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BookingView::of(&booking, staff(&signed_in))),
    ))
}

/// The caller's bookings, latest start first.
#[utoipa::path(get, path = "/api/bookings", tag = "visits",
    responses((status = 200, body = Vec<BookingView>), (status = 401, body = ErrorBody)))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<Vec<BookingView>>, AppError> {
    let bookings = state
        .services
        .bookings
        .of_visitor(signed_in.user.id())
        .await?;
    let staff = staff(&signed_in);
    Ok(Json(
        bookings.iter().map(|b| BookingView::of(b, staff)).collect(),
    ))
}

/// One booking: the caller's own, or any for workers and admins.
#[utoipa::path(get, path = "/api/bookings/{id}", tag = "visits",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView),
        (status = 404, body = ErrorBody, description = "No such booking of the caller's (also when signed out)")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    let booking = state
        .services
        .bookings
        .get(
            actor(&signed_in.user),
            booking_id(&id)?,
            signed_in.handle.client().origin(),
        )
        .await?;
    Ok(Json(BookingView::of(&booking, staff(&signed_in))))
}

/// The visit token of one of the caller's bookings, to show at check-in.
#[utoipa::path(get, path = "/api/bookings/{id}/token", tag = "visits",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = TokenBody),
        (status = 404, body = ErrorBody, description = "No such booking of the caller's (also when signed out)")))]
pub(crate) async fn token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<TokenBody>, AppError> {
    let token = state
        .services
        .bookings
        .visit_token(
            signed_in.user.id(),
            booking_id(&id)?,
            signed_in.handle.client().origin(),
        )
        .await?;
    Ok(Json(TokenBody {
        token: token.map(|t| t.to_string()),
    }))
}

/// Cancels a booking before its visit starts (its visitor, or an admin); its place is given
/// back.
#[utoipa::path(post, path = "/api/bookings/{id}/cancel", tag = "visits",
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`visit_started`, `wrong_booking_state` or `booking_changed`")))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    step(&state, &viewer, &signed_in, &id, Step::Cancel).await
}

/// One step of a booking's life, answered with the booking as the caller may see it.
pub(super) async fn step(
    state: &AppState,
    viewer: &Viewer,
    signed_in: &SignedIn,
    id: &str,
    step: Step,
) -> Result<Json<BookingView>, AppError> {
    let booking = state
        .services
        .bookings
        .step(
            actor(&signed_in.user),
            booking_id(id)?,
            step,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(BookingView::of(&booking, staff(signed_in))))
}

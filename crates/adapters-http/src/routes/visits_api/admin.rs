//! The admins' changes: sites and kinds of visit added and changed, and a booking handed to
//! another worker.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wildid_ports::services::visits::{ServiceInput, SiteInput};

use super::views::{BookingView, ServiceView, SiteView};
use crate::api_json::ApiJson;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::{actor, area, assignee, booking_id, service_id, site_id};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// `POST /api/admin/sites`, `PUT /api/admin/sites/{id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteRequest {
    /// 1 to 80 characters (markup is removed).
    pub name: String,
    /// At most 2,000 characters; omit or leave blank for none.
    pub description: Option<String>,
    /// The map's southern edge, degrees (-90 to 90).
    pub south: f64,
    /// Western edge (-180 to 180).
    pub west: f64,
    /// Northern edge, not south of `south`.
    pub north: f64,
    /// Eastern edge, not west of `west`.
    pub east: f64,
    /// Whether it takes bookings (default `true`).
    pub active: Option<bool>,
}

impl SiteRequest {
    fn input(self) -> Result<SiteInput, AppError> {
        Ok(SiteInput {
            area: area(self.south, self.west, self.north, self.east)?,
            name: self.name,
            description: self.description.unwrap_or_default(),
            active: self.active.unwrap_or(true),
        })
    }
}

/// `POST /api/admin/services`, `PUT /api/admin/services/{id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceRequest {
    /// 1 to 80 characters (markup is removed).
    pub name: String,
    /// Whole quarter hours, 15 to 720.
    pub duration_minutes: u32,
    /// Places per slot, 1 to 500.
    pub capacity: u32,
}

impl From<ServiceRequest> for ServiceInput {
    fn from(r: ServiceRequest) -> Self {
        Self {
            name: r.name,
            duration_minutes: r.duration_minutes,
            capacity: r.capacity,
        }
    }
}

/// `POST /api/admin/bookings/{id}/reassign`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReassignRequest {
    /// The worker (or admin) who takes the booking over.
    pub worker_id: String,
}

/// Adds a site (admins).
#[utoipa::path(post, path = "/api/admin/sites", tag = "visits", request_body = SiteRequest,
    responses((status = 201, body = SiteView),
        (status = 409, body = ErrorBody, description = "`name_taken`"),
        (status = 422, body = ErrorBody, description = "`invalid_name`, `invalid_description` or `invalid_area`")))]
pub(crate) async fn add_site(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<SiteRequest>,
) -> Result<(StatusCode, Json<SiteView>), AppError> {
    let site = state
        .services
        .catalogue
        .add_site(
            signed_in.user.id(),
            &body.input()?,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SiteView::from(&site))))
}

/// Changes a site (admins). Closing it keeps its bookings and takes no new ones.
#[utoipa::path(put, path = "/api/admin/sites/{id}", tag = "visits", request_body = SiteRequest,
    params(("id" = String, Path, description = "The site's id")),
    responses((status = 200, body = SiteView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`name_taken`"),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn change_site(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteRequest>,
) -> Result<Json<SiteView>, AppError> {
    let site = state
        .services
        .catalogue
        .change_site(
            signed_in.user.id(),
            site_id(&id)?,
            &body.input()?,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(SiteView::from(&site)))
}

/// Adds a kind of visit (admins).
#[utoipa::path(post, path = "/api/admin/services", tag = "visits", request_body = ServiceRequest,
    responses((status = 201, body = ServiceView),
        (status = 409, body = ErrorBody, description = "`name_taken`"),
        (status = 422, body = ErrorBody, description = "`invalid_name`, `invalid_duration` or `invalid_capacity`")))]
pub(crate) async fn add_service(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<ServiceRequest>,
) -> Result<(StatusCode, Json<ServiceView>), AppError> {
    let service = state
        .services
        .catalogue
        .add_service(
            signed_in.user.id(),
            &body.into(),
            viewer.handle.client().origin(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ServiceView::from(&service))))
}

/// Changes a kind of visit (admins). Bookings already made keep their length.
#[utoipa::path(put, path = "/api/admin/services/{id}", tag = "visits", request_body = ServiceRequest,
    params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = ServiceView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn change_service(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceRequest>,
) -> Result<Json<ServiceView>, AppError> {
    let service = state
        .services
        .catalogue
        .change_service(
            signed_in.user.id(),
            service_id(&id)?,
            &body.into(),
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(ServiceView::from(&service)))
}

/// Hands a claimed or checked-in booking to another worker (admins).
#[utoipa::path(post, path = "/api/admin/bookings/{id}/reassign", tag = "visits",
    request_body = ReassignRequest,
    params(("id" = String, Path, description = "The booking's id")),
    responses((status = 200, body = BookingView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_booking_state` or `booking_changed`"),
        (status = 422, body = ErrorBody, description = "`unknown_worker` or `assignee_not_a_worker`")))]
pub(crate) async fn reassign(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReassignRequest>,
) -> Result<Json<BookingView>, AppError> {
    let booking = state
        .services
        .bookings
        .reassign(
            actor(&signed_in.user),
            booking_id(&id)?,
            assignee(&body.worker_id)?,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(BookingView::of(&booking, true)))
}

//! The JSON API of field visits (seed 004 item 2 and its booking, worker and admin routes):
//! the catalogue of sites and services, visitors' bookings, the workers' queue, and the
//! admins' changes. Who may call what is declared in the route table; a visitor asking for
//! someone else's booking gets 404, exactly as for a missing one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_domain::sighting::MICRODEGREES;
use wildid_domain::visits::{Booking, ServiceType, Site};
use wildid_ports::services::visits::{BookingInput, ServiceInput, SiteInput, Step};

use crate::api_json::ApiJson;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::kit::{
    actor, area, assignee, booking_id, chosen_service, chosen_site, service_id, site_id,
    visit_start,
};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// A rectangle of the globe, in decimal degrees.
#[derive(Serialize, ToSchema)]
pub(crate) struct AreaView {
    /// Southern edge.
    pub south: f64,
    /// Western edge.
    pub west: f64,
    /// Northern edge.
    pub north: f64,
    /// Eastern edge.
    pub east: f64,
}

/// A wildlife site.
#[derive(Serialize, ToSchema)]
pub(crate) struct SiteView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What visitors should know; `null` for nothing.
    pub description: Option<String>,
    /// What its map shows.
    pub area: AreaView,
    /// Whether it takes bookings.
    pub active: bool,
}

impl From<&Site> for SiteView {
    fn from(site: &Site) -> Self {
        let a = site.area();
        let degrees = |micro: i32| f64::from(micro) / f64::from(MICRODEGREES);
        Self {
            id: site.id().to_string(),
            name: site.name().as_str().to_owned(),
            description: site.description().map(|d| d.as_str().to_owned()),
            area: AreaView {
                south: degrees(a.south()),
                west: degrees(a.west()),
                north: degrees(a.north()),
                east: degrees(a.east()),
            },
            active: site.is_active(),
        }
    }
}

/// A kind of visit.
#[derive(Serialize, ToSchema)]
pub(crate) struct ServiceView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How long a visit lasts, in minutes.
    pub duration_minutes: u32,
    /// Places per slot.
    pub capacity: u32,
}

impl From<&ServiceType> for ServiceView {
    fn from(s: &ServiceType) -> Self {
        Self {
            id: s.id().to_string(),
            name: s.name().as_str().to_owned(),
            duration_minutes: s.duration_minutes(),
            capacity: s.capacity(),
        }
    }
}

/// A booking.
#[derive(Serialize, ToSchema)]
pub(crate) struct BookingView {
    /// Its id.
    pub id: String,
    /// The site.
    pub site_id: String,
    /// The kind of visit.
    pub service_id: String,
    /// When the visit starts (RFC 3339, UTC).
    pub starts_at: String,
    /// When it ends.
    pub ends_at: String,
    /// The visitor's note.
    pub description: Option<String>,
    /// `requested`, `claimed`, `checked_in`, `completed` or `cancelled`.
    pub status: String,
    /// The worker holding it (shown to workers and admins only).
    pub worker_id: Option<String>,
    /// When it was booked.
    pub created_at: String,
    /// When the visitor was checked in.
    pub checked_in_at: Option<String>,
    /// When the visit was completed.
    pub completed_at: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
}

impl BookingView {
    /// `booking` as `viewer` may see it: a visitor does not see which worker holds it.
    fn of(booking: &Booking, staff: bool) -> Self {
        let r = booking.record();
        let time = |t: Option<wildid_domain::Timestamp>| t.map(|t| t.to_rfc3339());
        Self {
            id: r.id.to_string(),
            site_id: r.site.to_string(),
            service_id: r.service.to_string(),
            starts_at: r.slot.start().to_rfc3339(),
            ends_at: r.slot.end().to_rfc3339(),
            description: r.description.as_ref().map(|d| d.as_str().to_owned()),
            status: r.status.as_str().to_owned(),
            worker_id: r.worker.filter(|_| staff).map(|w| w.to_string()),
            created_at: r.created_at.to_rfc3339(),
            checked_in_at: time(r.checked_in_at),
            completed_at: time(r.completed_at),
            cancelled_at: time(r.cancelled_at),
        }
    }
}

fn staff(signed_in: &SignedIn) -> bool {
    signed_in
        .user
        .role
        .includes(wildid_domain::role::Role::Worker)
}

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

/// `POST /api/worker/bookings/{id}/check-in`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckInRequest {
    /// The visit token the visitor shows: 32 hex digits, spaces or dashes allowed between.
    pub token: String,
}

/// `GET /api/bookings/{id}/token`.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenBody {
    /// The token (32 hex digits), or `null` once the visitor was checked in or the booking
    /// cancelled.
    pub token: Option<String>,
}

/// `POST /api/admin/bookings/{id}/reassign`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReassignRequest {
    /// The worker (or admin) who takes the booking over.
    pub worker_id: String,
}

/// What a worker sees: the queue and their own visits.
#[derive(Serialize, ToSchema)]
pub(crate) struct WorkerBookingsBody {
    /// Requested bookings not over yet, soonest first.
    pub open: Vec<BookingView>,
    /// The bookings the caller holds, soonest first.
    pub mine: Vec<BookingView>,
}

/// Sites taking bookings, by name.
#[utoipa::path(get, path = "/api/sites", tag = "visits",
    responses((status = 200, body = Vec<SiteView>)))]
pub(crate) async fn sites(State(state): State<AppState>) -> Result<Json<Vec<SiteView>>, AppError> {
    let sites = state.services.catalogue.sites(true).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
}

/// Every site, open or closed (admins).
#[utoipa::path(get, path = "/api/admin/sites", tag = "visits",
    responses((status = 200, body = Vec<SiteView>), (status = 403, body = ErrorBody)))]
pub(crate) async fn all_sites(
    State(state): State<AppState>,
) -> Result<Json<Vec<SiteView>>, AppError> {
    let sites = state.services.catalogue.sites(false).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
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
            signed_in.user.id,
            &body.input()?,
            viewer.handle.client().request_id,
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
            signed_in.user.id,
            site_id(&id)?,
            &body.input()?,
            viewer.handle.client().request_id,
        )
        .await?;
    Ok(Json(SiteView::from(&site)))
}

/// The kinds of visit offered, by name.
#[utoipa::path(get, path = "/api/services", tag = "visits",
    responses((status = 200, body = Vec<ServiceView>)))]
pub(crate) async fn services(
    State(state): State<AppState>,
) -> Result<Json<Vec<ServiceView>>, AppError> {
    let services = state.services.catalogue.services().await?;
    Ok(Json(services.iter().map(ServiceView::from).collect()))
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
            signed_in.user.id,
            &body.into(),
            viewer.handle.client().request_id,
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
            signed_in.user.id,
            service_id(&id)?,
            &body.into(),
            viewer.handle.client().request_id,
        )
        .await?;
    Ok(Json(ServiceView::from(&service)))
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
        .book(signed_in.user.id, &input, viewer.handle.client().request_id)
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
        .of_visitor(signed_in.user.id)
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
        .get(actor(&signed_in.user), booking_id(&id)?)
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
        .visit_token(signed_in.user.id, booking_id(&id)?)
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

/// The workers' queue and the caller's own visits (workers and admins).
#[utoipa::path(get, path = "/api/worker/bookings", tag = "visits",
    responses((status = 200, body = WorkerBookingsBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn worker_bookings(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<WorkerBookingsBody>, AppError> {
    let bookings = &state.services.bookings;
    let open = bookings.open().await?;
    let mine = bookings.held_by(signed_in.user.id).await?;
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
            viewer.handle.client().request_id,
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

/// One step of a booking's life, answered with the booking as the caller may see it.
async fn step(
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
            viewer.handle.client().request_id,
        )
        .await?;
    Ok(Json(BookingView::of(&booking, staff(signed_in))))
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
            viewer.handle.client().request_id,
        )
        .await?;
    Ok(Json(BookingView::of(&booking, true)))
}

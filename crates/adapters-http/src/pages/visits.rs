//! The field-visit pages: the sites and the booking form (`/visits`), a visitor's bookings
//! (`/visits/mine`), the workers' dashboard (`/worker`) and the admins' catalogue
//! (`/admin/visits`). Every form answers with a redirect and a message, or shows the form
//! again with the refusal beside it; what may be done is the JSON API's (`visits_api`) and the
//! route table's.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::Timestamp;
use wildid_domain::ids::{ServiceTypeId, SiteId};
use wildid_domain::sighting::MICRODEGREES;
use wildid_domain::visits::{Booking, BookingStatus, MAX_CAPACITY, ServiceType, Site};
use wildid_ports::services::visits::{BookingInput, ExposureInput, ServiceInput, SiteInput, Step};

use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::{
    actor, area, booking_id, chosen_service, chosen_site, qr_data_url, service_id, site_id,
    visit_start, window_time,
};
use crate::middleware::frame::RequestContext;
use crate::pages::answer::{refusal, render};
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

const VISITS: &str = "/visits";
const MINE: &str = "/visits/mine";
const WORKER: &str = "/worker";
const CATALOGUE: &str = "/admin/visits";

/// `5 May 2027, 09:00 UTC`.
fn when(t: Timestamp) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// `1 h 30 min`.
fn duration(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn degrees(micro: i32) -> String {
    format!("{:.4}", f64::from(micro) / f64::from(MICRODEGREES))
}

/// A site as the pages show it.
pub(crate) struct SiteCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub south: String,
    pub west: String,
    pub north: String,
    pub east: String,
    pub active: bool,
}

impl From<&Site> for SiteCard {
    fn from(site: &Site) -> Self {
        let a = site.area();
        Self {
            id: site.id().to_string(),
            name: site.name().as_str().to_owned(),
            description: site
                .description()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            south: degrees(a.south()),
            west: degrees(a.west()),
            north: degrees(a.north()),
            east: degrees(a.east()),
            active: site.is_active(),
        }
    }
}

/// A kind of visit as the pages show it.
pub(crate) struct ServiceCard {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    /// `1 h 30 min`.
    pub length: String,
    pub capacity: u32,
}

impl From<&ServiceType> for ServiceCard {
    fn from(s: &ServiceType) -> Self {
        Self {
            id: s.id().to_string(),
            name: s.name().as_str().to_owned(),
            minutes: s.duration_minutes(),
            length: duration(s.duration_minutes()),
            capacity: s.capacity(),
        }
    }
}

/// A booking as the pages show it, with its site's and service's names.
pub(crate) struct BookingCard {
    pub id: String,
    pub site: String,
    pub service: String,
    /// `5 May 2027, 09:00 UTC`.
    pub starts: String,
    pub starts_iso: String,
    pub length: String,
    pub description: Option<String>,
    pub status: BookingStatus,
    /// The visitor may still cancel it.
    pub cancellable: bool,
    /// Its worker may check the visitor in now.
    pub check_in_open: bool,
    /// The visit token in groups of four, shown to its visitor until check-in.
    pub token: Option<String>,
    /// The token as a QR code (`data:` URL).
    pub token_qr: Option<String>,
}

/// Names of sites and services by id, for the booking cards.
struct Names {
    sites: HashMap<SiteId, String>,
    services: HashMap<ServiceTypeId, String>,
}

impl Names {
    async fn load(state: &AppState) -> Result<Self, AppError> {
        let catalogue = &state.services.catalogue;
        Ok(Self {
            sites: catalogue
                .sites(false)
                .await?
                .iter()
                .map(|s| (s.id(), s.name().as_str().to_owned()))
                .collect(),
            services: catalogue
                .services()
                .await?
                .iter()
                .map(|s| (s.id(), s.name().as_str().to_owned()))
                .collect(),
        })
    }

    fn card(&self, booking: &Booking, now: Timestamp) -> BookingCard {
        let r = booking.record();
        let status = r.status;
        let unknown = || "(removed)".to_owned();
        BookingCard {
            id: r.id.to_string(),
            site: self.sites.get(&r.site).cloned().unwrap_or_else(unknown),
            service: self
                .services
                .get(&r.service)
                .cloned()
                .unwrap_or_else(unknown),
            starts: when(r.slot.start()),
            starts_iso: r.slot.start().to_rfc3339(),
            length: duration(r.slot.minutes()),
            description: r.description.as_ref().map(|d| d.as_str().to_owned()),
            cancellable: matches!(status, BookingStatus::Requested | BookingStatus::Claimed)
                && now < r.slot.start(),
            check_in_open: r.slot.open_for_check_in(now),
            status,
            token: None,
            token_qr: None,
        }
    }
}

fn flash_back(
    state: &AppState,
    jar: SignedCookieJar,
    to: &str,
    outcome: Result<String, AppError>,
) -> Result<Response, AppError> {
    let (kind, message) = match outcome {
        Ok(message) => (FlashKind::Success, message),
        Err(e) => (FlashKind::Error, refusal(e)?.1),
    };
    let jar = flash::push(jar, &state.settings, kind, &message);
    Ok((jar, Redirect::to(to)).into_response())
}

#[derive(Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    layout: Layout,
    sites: Vec<SiteCard>,
    services: Vec<ServiceCard>,
    form: BookForm,
    error: String,
}

/// The booking form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BookForm {
    site_id: String,
    service_id: String,
    /// `2027-05-01T09:00` (a browser's date-time field, in its own time zone).
    starts_at: String,
    /// Minutes east of UTC of the browser (set by a script; 0 without one).
    utc_offset_minutes: String,
    description: String,
}

async fn visits_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    flashes: Vec<crate::flash::Flash>,
) -> Result<VisitsPage, AppError> {
    let catalogue = &state.services.catalogue;
    let unread = match &viewer.user {
        Some(user) => state.services.exposures.unread(user.id).await?,
        None => 0,
    };
    Ok(VisitsPage {
        layout: Layout::for_viewer(ctx, viewer, VISITS)
            .with_flashes(flashes)
            .with_unread(unread),
        sites: catalogue
            .sites(true)
            .await?
            .iter()
            .map(SiteCard::from)
            .collect(),
        services: catalogue
            .services()
            .await?
            .iter()
            .map(ServiceCard::from)
            .collect(),
        form: BookForm::default(),
        error: String::new(),
    })
}

/// `GET /visits`: the sites taking bookings, the kinds of visit, and (signed in) the form.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = visits_page(&state, &ctx, &viewer, flashes).await?;
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// `POST /visits`: books a visit, or shows the form again with what is wrong.
pub(crate) async fn book(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<BookForm>,
) -> Result<Response, AppError> {
    let outcome = async {
        let offset = form.utc_offset_minutes.trim().parse::<i64>().unwrap_or(0);
        let input = BookingInput {
            site: chosen_site(&form.site_id)?,
            service: chosen_service(&form.service_id)?,
            start: visit_start(&form.starts_at, offset.clamp(-18 * 60, 18 * 60))?,
            description: form.description.clone(),
        };
        state
            .services
            .bookings
            .book(signed_in.user.id, &input, viewer.handle.client().request_id)
            .await
            .map_err(AppError::from)
    }
    .await;
    match outcome {
        Ok(booking) => {
            let message = format!(
                "Booked for {}. A guide will confirm it; you can cancel until it starts.",
                when(booking.slot().start())
            );
            flash_back(&state, jar, MINE, Ok(message))
        }
        Err(e) => {
            let (status, message, _) = refusal(e)?;
            let mut page = visits_page(&state, &ctx, &viewer, Vec::new()).await?;
            page.error = message;
            page.form = form;
            render(&page, status)
        }
    }
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    layout: Layout,
    upcoming: Vec<BookingCard>,
    past: Vec<BookingCard>,
}

/// `GET /visits/mine`: the visitor's bookings, coming ones first.
pub(crate) async fn mine(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let now = chrono::Utc::now();
    let names = Names::load(&state).await?;
    let bookings = state
        .services
        .bookings
        .of_visitor(signed_in.user.id)
        .await?;
    let (mut upcoming, past): (Vec<_>, Vec<_>) = bookings
        .iter()
        .map(|b| (b.slot().end() >= now && b.status().holds_a_place(), b))
        .partition(|(coming, b)| *coming && b.status() != BookingStatus::Completed);
    // Soonest first for what is coming; latest first (as listed) for the rest.
    upcoming.reverse();
    let mut cards = Vec::with_capacity(upcoming.len());
    for (_, booking) in &upcoming {
        let mut card = names.card(booking, now);
        let token = state
            .services
            .bookings
            .visit_token(signed_in.user.id, booking.id())
            .await?;
        if let Some(token) = token {
            card.token_qr = Some(qr_data_url(&token.to_string(), 160)?);
            card.token = Some(token.grouped());
        }
        cards.push(card);
    }
    let unread = state.services.exposures.unread(signed_in.user.id).await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = BookingsPage {
        layout: Layout::for_viewer(&ctx, &viewer, MINE)
            .with_flashes(flashes)
            .with_unread(unread),
        upcoming: cards,
        past: past.iter().map(|(_, b)| names.card(b, now)).collect(),
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// `POST /visits/mine/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let outcome = state
        .services
        .bookings
        .step(
            actor(&signed_in.user),
            booking_id(&id)?,
            Step::Cancel,
            viewer.handle.client().request_id,
        )
        .await
        .map(|b| {
            format!(
                "Your visit of {} is cancelled; its place is free again.",
                when(b.slot().start())
            )
        })
        .map_err(AppError::from);
    flash_back(&state, jar, MINE, outcome)
}

#[derive(Template)]
#[template(path = "worker.html")]
struct WorkerPage {
    layout: Layout,
    held: Vec<BookingCard>,
    open: Vec<BookingCard>,
    /// Every site, for the exposure form.
    sites: Vec<SiteCard>,
}

/// `GET /worker`: the visits the worker holds, and the queue.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let now = chrono::Utc::now();
    let names = Names::load(&state).await?;
    let bookings = &state.services.bookings;
    let held = bookings.held_by(signed_in.user.id).await?;
    let open = bookings.open().await?;
    let sites = state.services.catalogue.sites(false).await?;
    let unread = state.services.exposures.unread(signed_in.user.id).await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = WorkerPage {
        layout: Layout::for_viewer(&ctx, &viewer, WORKER)
            .with_flashes(flashes)
            .with_unread(unread),
        held: held.iter().map(|b| names.card(b, now)).collect(),
        open: open.iter().map(|b| names.card(b, now)).collect(),
        sites: sites.iter().map(SiteCard::from).collect(),
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// The worker's forms: only check-in sends something (the visitor's token).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WorkerForm {
    token: String,
}

/// `POST /worker/bookings/{id}/{action}`: `claim`, `check-in` or `complete`.
pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<WorkerForm>,
) -> Result<Response, AppError> {
    let id = booking_id(&id)?;
    let who = actor(&signed_in.user);
    let request = viewer.handle.client().request_id;
    let bookings = &state.services.bookings;
    let (outcome, done) = match action.as_str() {
        "claim" => (
            bookings.step(who, id, Step::Claim, request).await,
            "You run this visit.",
        ),
        "check-in" => (
            bookings.check_in(who, id, &form.token, request).await,
            "The visitor is checked in.",
        ),
        "complete" => (
            bookings.step(who, id, Step::Complete, request).await,
            "The visit is completed. Thank you!",
        ),
        _ => return Err(AppError::NotFound),
    };
    let outcome = outcome.map(|b| format!("{done} ({}).", when(b.slot().start())));
    flash_back(&state, jar, WORKER, outcome.map_err(AppError::from))
}

#[derive(Template)]
#[template(path = "admin_visits.html")]
struct CataloguePage {
    layout: Layout,
    sites: Vec<SiteCard>,
    services: Vec<ServiceCard>,
    max_capacity: u32,
}

/// The exposure form of the worker's page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ExposureForm {
    site_id: String,
    from: String,
    to: String,
    /// Minutes east of UTC of the browser (set by a script; 0 without one).
    utc_offset_minutes: String,
    note: String,
}

/// `POST /worker/exposures`: reports an exposure; the message says how many people were told.
pub(crate) async fn report_exposure(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<ExposureForm>,
) -> Result<Response, AppError> {
    let outcome = async {
        let offset = form
            .utc_offset_minutes
            .trim()
            .parse::<i64>()
            .unwrap_or(0)
            .clamp(-18 * 60, 18 * 60);
        let input = ExposureInput {
            site: chosen_site(&form.site_id)?,
            from: window_time(&form.from, offset)?,
            to: window_time(&form.to, offset)?,
            note: form.note.clone(),
        };
        let reported = state
            .services
            .exposures
            .report(signed_in.user.id, &input, viewer.handle.client().request_id)
            .await?;
        Ok(match reported.notified {
            0 => "Exposure reported. Nobody was checked in there during that time.".to_owned(),
            1 => "Exposure reported: 1 person was told in the app.".to_owned(),
            n => format!("Exposure reported: {n} people were told in the app."),
        })
    }
    .await;
    flash_back(&state, jar, WORKER, outcome)
}

/// `GET /admin/visits`: every site and kind of visit, with forms to add and change them.
pub(crate) async fn catalogue(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let catalogue = &state.services.catalogue;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = CataloguePage {
        layout: Layout::for_viewer(&ctx, &viewer, CATALOGUE).with_flashes(flashes),
        sites: catalogue
            .sites(false)
            .await?
            .iter()
            .map(SiteCard::from)
            .collect(),
        services: catalogue
            .services()
            .await?
            .iter()
            .map(ServiceCard::from)
            .collect(),
        max_capacity: MAX_CAPACITY,
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// The site form (add and change).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SiteForm {
    name: String,
    description: String,
    south: String,
    west: String,
    north: String,
    east: String,
    /// `on` when ticked.
    active: String,
}

impl SiteForm {
    fn input(&self) -> Result<SiteInput, AppError> {
        let side = |raw: &str, name: &str| {
            raw.trim().parse::<f64>().map_err(|_| {
                AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_area",
                    format!("The site's {name} edge must be a number of degrees."),
                )
            })
        };
        Ok(SiteInput {
            name: self.name.clone(),
            description: self.description.clone(),
            area: area(
                side(&self.south, "southern")?,
                side(&self.west, "western")?,
                side(&self.north, "northern")?,
                side(&self.east, "eastern")?,
            )?,
            active: self.active == "on",
        })
    }
}

/// `POST /admin/visits/sites`: a new site.
pub(crate) async fn add_site(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<SiteForm>,
) -> Result<Response, AppError> {
    save_site(&state, &viewer, &signed_in, jar, None, &form).await
}

/// `POST /admin/visits/sites/{id}`: a change of a site.
pub(crate) async fn change_site(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
    Form(form): Form<SiteForm>,
) -> Result<Response, AppError> {
    save_site(&state, &viewer, &signed_in, jar, Some(&id), &form).await
}

async fn save_site(
    state: &AppState,
    viewer: &Viewer,
    signed_in: &SignedIn,
    jar: SignedCookieJar,
    id: Option<&str>,
    form: &SiteForm,
) -> Result<Response, AppError> {
    let catalogue = &state.services.catalogue;
    let request = viewer.handle.client().request_id;
    let admin = signed_in.user.id;
    let outcome = async {
        let input = form.input()?;
        let site = match id {
            Some(id) => {
                catalogue
                    .change_site(admin, site_id(id)?, &input, request)
                    .await?
            }
            None => catalogue.add_site(admin, &input, request).await?,
        };
        Ok(format!("Saved the site {}.", site.name().as_str()))
    }
    .await;
    flash_back(state, jar, CATALOGUE, outcome)
}

/// The service form (add and change).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ServiceForm {
    name: String,
    duration_minutes: String,
    capacity: String,
}

impl ServiceForm {
    fn input(&self) -> Result<ServiceInput, AppError> {
        let number = |raw: &str, code: &'static str, what: &str| {
            raw.trim().parse::<u32>().map_err(|_| {
                AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    format!("The {what} must be a whole number."),
                )
            })
        };
        Ok(ServiceInput {
            name: self.name.clone(),
            duration_minutes: number(&self.duration_minutes, "invalid_duration", "length")?,
            capacity: number(&self.capacity, "invalid_capacity", "number of places")?,
        })
    }
}

/// `POST /admin/visits/services`: a new kind of visit.
pub(crate) async fn add_service(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<ServiceForm>,
) -> Result<Response, AppError> {
    save_service(&state, &viewer, &signed_in, jar, None, &form).await
}

/// `POST /admin/visits/services/{id}`: a change of a kind of visit.
pub(crate) async fn change_service(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
    Form(form): Form<ServiceForm>,
) -> Result<Response, AppError> {
    save_service(&state, &viewer, &signed_in, jar, Some(&id), &form).await
}

async fn save_service(
    state: &AppState,
    viewer: &Viewer,
    signed_in: &SignedIn,
    jar: SignedCookieJar,
    id: Option<&str>,
    form: &ServiceForm,
) -> Result<Response, AppError> {
    let catalogue = &state.services.catalogue;
    let request = viewer.handle.client().request_id;
    let admin = signed_in.user.id;
    let outcome = async {
        let input = form.input()?;
        let service = match id {
            Some(id) => {
                catalogue
                    .change_service(admin, service_id(id)?, &input, request)
                    .await?
            }
            None => catalogue.add_service(admin, &input, request).await?,
        };
        Ok(format!("Saved the visit {}.", service.name().as_str()))
    }
    .await;
    flash_back(state, jar, CATALOGUE, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(duration(45), "45 min");
        assert_eq!(duration(120), "2 h");
        assert_eq!(duration(90), "1 h 30 min");
    }
}

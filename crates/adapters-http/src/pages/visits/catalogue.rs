//! The admins' catalogue (`/admin/visits`): sites and kinds of visit, added and changed, and
//! visits in progress handed from one worker to another, and the retention purge run at once.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::role::Role;
use wildid_domain::visits::MAX_CAPACITY;
use wildid_ports::repo::Page;
use wildid_ports::services::admin::UserSummary;
use wildid_ports::services::visits::{Purged, ServiceInput, SiteInput};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash;
use crate::kit::{actor, area, assignee, booking_id, purge_now, service_id, site_id};
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

use super::*;

#[derive(Template)]
#[template(path = "admin_visits.html")]
struct CataloguePage {
    layout: Layout,
    sites: Vec<SiteCard>,
    services: Vec<ServiceCard>,
    max_capacity: u32,
    retention: RetentionCard,
    /// Visits a worker holds, each with a form to hand it to another worker.
    in_progress: Vec<Handover>,
    /// The active workers, for those forms.
    workers: Vec<WorkerChoice>,
}

/// A held visit and who holds it.
struct Handover {
    card: BookingCard,
    /// The holder's address, or `(unknown)`.
    holder: String,
    holder_id: String,
}

/// A worker an admin can hand a visit to.
struct WorkerChoice {
    id: String,
    email: String,
}

/// The retention periods and when the purge last ran.
struct RetentionCard {
    visit_days: i64,
    read_notification_days: i64,
    /// When the purge last ran to its end, as people read it; empty: never.
    last_purge: String,
    /// Past their period and not yet purged.
    waiting: Purged,
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
    let staff: Vec<UserSummary> = state
        .services
        .admin
        .list(Page::first(500))
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Worker && u.active)
        .collect();
    let (sites, services) = (catalogue.sites(false).await?, catalogue.services().await?);
    let names = Names::of(&sites, &services);
    let now = chrono::Utc::now();
    let in_progress = state
        .services
        .bookings
        .in_progress()
        .await?
        .iter()
        .map(|b| {
            let holder = b.worker();
            Handover {
                card: names.card(b, now),
                holder: holder
                    .and_then(|id| staff.iter().find(|u| u.id == id))
                    .map_or_else(|| "(not a worker now)".to_owned(), |u| u.email.clone()),
                holder_id: holder.map(|id| id.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let workers = staff
        .iter()
        .map(|u| WorkerChoice {
            id: u.id.to_string(),
            email: u.email.clone(),
        })
        .collect();
    let page = CataloguePage {
        layout: Layout::for_viewer(&ctx, &viewer, CATALOGUE).with_flashes(flashes),
        sites: sites.iter().map(SiteCard::from).collect(),
        services: services.iter().map(ServiceCard::from).collect(),
        max_capacity: MAX_CAPACITY,
        retention: retention_card(&state).await?,
        in_progress,
        workers,
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

async fn retention_card(state: &AppState) -> Result<RetentionCard, AppError> {
    let retention = &state.services.retention;
    let policy = retention.policy();
    let last = retention
        .last_finished()
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let waiting = retention
        .waiting()
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    Ok(RetentionCard {
        waiting,
        visit_days: policy.visit_mappings().num_days(),
        read_notification_days: policy.read_notifications().num_days(),
        last_purge: last.map_or_else(String::new, |at| {
            at.format("%-d %B %Y at %H:%M UTC").to_string()
        }),
    })
}

/// The hand-over form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HandoverForm {
    worker_id: String,
}

/// `POST /admin/visits/bookings/{id}/reassign`: hands a held visit to another worker.
pub(crate) async fn reassign(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
    Form(form): Form<HandoverForm>,
) -> Result<Response, AppError> {
    let outcome = async {
        let booking = state
            .services
            .bookings
            .reassign(
                actor(&signed_in.user),
                booking_id(&id)?,
                assignee(&form.worker_id)?,
                viewer.handle.client().origin(),
            )
            .await?;
        Ok(format!(
            "The visit of {} is handed over.",
            super::when(booking.slot().start())
        ))
    }
    .await;
    flash_back(&state, jar, CATALOGUE, outcome)
}

/// `POST /admin/cleanup` (seed 004): deletes visit data past its retention period now, and
/// says what it deleted.
pub(crate) async fn cleanup(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let outcome = purge_now(&state, &viewer, &signed_in).await.map(|purged| {
        format!(
            "Purged {} visit record(s), {} booking(s) and {} read notification(s) past their retention period.",
            purged.mappings, purged.bookings, purged.notifications
        )
    });
    flash_back(&state, jar, CATALOGUE, outcome)
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
            raw.trim()
                .parse::<f64>()
                .map_err(|_| AppError::site_edge_unreadable(name))
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
    let origin = viewer.handle.client().origin();
    let admin = signed_in.user.id();
    let outcome = async {
        let input = form.input()?;
        let site = match id {
            Some(id) => {
                catalogue
                    .change_site(admin, site_id(id)?, &input, origin)
                    .await?
            }
            None => catalogue.add_site(admin, &input, origin).await?,
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
        let number =
            |raw: &str, refusal: fn() -> AppError| raw.trim().parse::<u32>().map_err(|_| refusal());
        Ok(ServiceInput {
            name: self.name.clone(),
            duration_minutes: number(&self.duration_minutes, AppError::duration_not_whole)?,
            capacity: number(&self.capacity, AppError::capacity_not_whole)?,
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
    let origin = viewer.handle.client().origin();
    let admin = signed_in.user.id();
    let outcome = async {
        let input = form.input()?;
        let service = match id {
            Some(id) => {
                catalogue
                    .change_service(admin, service_id(id)?, &input, origin)
                    .await?
            }
            None => catalogue.add_service(admin, &input, origin).await?,
        };
        Ok(format!("Saved the visit {}.", service.name().as_str()))
    }
    .await;
    flash_back(state, jar, CATALOGUE, outcome)
}

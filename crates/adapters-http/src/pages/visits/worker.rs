//! The worker's dashboard (`/worker`): the visits they hold, the queue, and the exposure form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::visits::BookingStatus;
use wildid_ports::services::visits::{ExposureInput, Step};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash;
use crate::kit::{actor, booking_id, chosen_site, window_time};
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

use super::*;

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
    let catalogue = &state.services.catalogue;
    let sites = catalogue.sites(false).await?;
    let names = Names::of(&sites, &catalogue.services().await?);
    let bookings = &state.services.bookings;
    let held = bookings.held_by(signed_in.user.id()).await?;
    let open = bookings.open().await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = WorkerPage {
        layout: Layout::for_viewer(&ctx, &viewer, WORKER).with_flashes(flashes),
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
    let origin = viewer.handle.client().origin();
    let bookings = &state.services.bookings;
    let (outcome, done) = match action.as_str() {
        "claim" => (
            bookings.step(who, id, Step::Claim, origin).await,
            "You run this visit.",
        ),
        "check-in" => (
            bookings.check_in(who, id, &form.token, origin).await,
            "The visitor is checked in.",
        ),
        "complete" => (
            bookings.step(who, id, Step::Complete, origin).await,
            "The visit is completed. Thank you!",
        ),
        _ => return Err(AppError::NotFound),
    };
    let outcome = outcome.map(|b| format!("{done} ({}).", when(b.slot().start())));
    flash_back(&state, jar, WORKER, outcome.map_err(AppError::from))
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
            .report(signed_in.user.id(), &input, viewer.handle.client().origin())
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

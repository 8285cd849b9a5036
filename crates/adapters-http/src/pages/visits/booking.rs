//! The visitor's pages: the sites and the booking form (`/visits`), and their bookings with
//! the visit token (`/visits/mine`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::visits::BookingStatus;
use wildid_ports::services::visits::{BookingInput, Step};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash;
use crate::kit::{actor, booking_id, chosen_service, chosen_site, qr_data_url, visit_start};
use crate::pages::answer::{refusal, render};
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

use super::*;

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
    Ok(VisitsPage {
        layout: Layout::for_viewer(ctx, viewer, VISITS).with_flashes(flashes),
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
            .book(signed_in.user.id(), &input, viewer.handle.client().origin())
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
        .of_visitor(signed_in.user.id())
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
            .visit_token(
                signed_in.user.id(),
                booking.id(),
                signed_in.handle.client().origin(),
            )
            .await?;
        if let Some(token) = token {
            card.token_qr = Some(qr_data_url(&token.to_string(), 160)?);
            card.token = Some(token.grouped());
        }
        cards.push(card);
    }
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = BookingsPage {
        layout: Layout::for_viewer(&ctx, &viewer, MINE).with_flashes(flashes),
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
            viewer.handle.client().origin(),
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

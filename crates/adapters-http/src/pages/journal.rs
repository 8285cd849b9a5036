//! The field journal's pages (seed §9, §12): a signed-in person's identifications, newest
//! first, each with its photo, the whole answer, where and when the animal was seen, and a form
//! to say whether the answer was right.
//!
//! - `GET /history`: the journal, a page at a time (`?cursor=`), filtered by animal type
//!   (`?type=bird`) and by "marked wrong" (`?wrong=1`).
//! - `GET /history/{id}`: one entry; `POST /history/{id}/feedback`, `/visibility`, `/delete`
//!   change it and come back with a message.
//!
//! Entry routes are `Access::Owner`: someone else's entry, a malformed id and a signed-out
//! visitor all get the same 404 page. Photos come from the journal's JSON routes, which serve
//! them to their owner only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::identification::Identification;
use wildid_domain::sighting::Visibility;
use wildid_ports::repo::JournalFilter;
use wildid_ports::services::journal::{DEFAULT_PAGE, FeedbackInput};

use crate::api_types::SpeciesView;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::visibility;
use crate::kit::{entry_id, megabytes};
use crate::page_cache::{EscapedFragment, MadePage, PageKey, RenderedHtml};
use crate::pages::answer::{refusal, render};
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

const PATH: &str = "/history";

/// The animal groups the filter offers (what the offline model and most providers say).
const GROUPS: &[(&str, &str)] = &[
    ("bird", "Birds"),
    ("mammal", "Mammals"),
    ("reptile", "Reptiles"),
    ("amphibian", "Amphibians"),
    ("fish", "Fish"),
    ("insect", "Insects"),
    ("arachnid", "Spiders and kin"),
    ("crustacean", "Crustaceans"),
    ("mollusc", "Molluscs"),
];

/// One entry as the pages show it.
pub(crate) struct EntryCard {
    pub id: String,
    pub result: SpeciesView,
    /// `5 May 2026, 06:30 UTC`.
    pub created: String,
    /// `2026-05-05T06:30:00+00:00`, for `<time datetime>`.
    pub created_iso: String,
    /// `-33.85678, 151.21530`, when a place was given.
    pub place: Option<String>,
    pub observed: Option<String>,
    pub notes: Option<String>,
    pub provider: String,
    /// `open`, `obscured`, `private`.
    pub visibility: &'static str,
    /// `None`: no feedback; `Some(true)`: marked right.
    pub marked_correct: Option<bool>,
    pub corrected_species: Option<String>,
    pub feedback_notes: Option<String>,
    pub width: u32,
    pub height: u32,
}

/// `5 May 2026, 06:30 UTC`, the format read once rather than for every date of every page.
fn when(t: wildid_domain::Timestamp) -> String {
    static FORMAT: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| {
            chrono::format::StrftimeItems::new("%-d %b %Y, %H:%M UTC").collect()
        });
    t.format_with_items(FORMAT.iter()).to_string()
}

impl From<&Identification> for EntryCard {
    fn from(i: &Identification) -> Self {
        let text =
            |t: &Option<wildid_domain::text::PlainText>| t.as_ref().map(|t| t.as_str().to_owned());
        let feedback = i.feedback.as_ref();
        Self {
            id: i.id.to_string(),
            result: SpeciesView::from(&i.result),
            created: when(i.created_at),
            created_iso: i.created_at.to_rfc3339(),
            place: i
                .sighting
                .position
                .map(|p| format!("{:.5}, {:.5}", p.latitude(), p.longitude())),
            observed: i.sighting.observed_at.map(when),
            notes: text(&i.sighting.notes),
            provider: i.provider.clone(),
            visibility: i.visibility.as_str(),
            marked_correct: feedback.map(|f| f.correct),
            corrected_species: feedback.and_then(|f| text(&f.corrected_species)),
            feedback_notes: feedback.and_then(|f| text(&f.notes)),
            width: i.photo.width,
            height: i.photo.height,
        }
    }
}

/// The entries of one page of the journal, as kept by [`crate::JournalPages`].
#[derive(Template)]
#[template(path = "history_entries.html")]
struct HistoryEntries {
    entries: Vec<EntryCard>,
    filtered: bool,
    later: bool,
}

/// `history_entries.html` escapes every value and marks none safe.
impl EscapedFragment for HistoryEntries {}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    /// [`HistoryEntries`], rendered, and the link to the next page.
    entries: Arc<MadePage>,
    /// Whether this is a later page (a link back to the first is offered).
    later: bool,
    groups: &'static [(&'static str, &'static str)],
    animal_type: String,
    wrong: bool,
    /// `12.3 MB of 512.0 MB`.
    usage: String,
    filtered: bool,
}

/// `GET /history` parameters.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HistoryQuery {
    cursor: Option<String>,
    #[serde(rename = "type")]
    animal_type: Option<String>,
    wrong: Option<String>,
}

fn query_part(name: &str, value: &str) -> String {
    format!("{name}={}", crate::kit::percent_encoded(value))
}

/// `GET /history`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, AppError> {
    let animal_type = query
        .animal_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let wrong = query.wrong.as_deref().is_some_and(|w| w == "1");
    let filter = JournalFilter {
        animal_type: animal_type.clone(),
        marked_wrong: wrong,
    };
    let journal = &state.services.journal;
    let owner = signed_in.user.id();
    let filtered = animal_type.is_some() || wrong;
    let later = query.cursor.is_some();
    // The stamp first: the entries read after it are at least as new as its version.
    let stamp = journal.stamp(owner).await?;
    let key = PageKey {
        owner,
        version: stamp.version,
        animal_type: animal_type.clone(),
        marked_wrong: wrong,
        cursor: query.cursor,
    };
    // Only the filters the page offers are kept, so made-up ones cannot push out others' pages.
    let offered = animal_type
        .as_deref()
        .is_none_or(|t| GROUPS.iter().any(|(value, _)| *value == t));
    let entries = match state.journal_pages.get(&key) {
        Some(made) => made,
        None => {
            let page = journal
                .page(owner, &filter, key.cursor.as_deref(), DEFAULT_PAGE)
                .await?;
            let next = page
                .next_cursor
                .map(|cursor| next_link(animal_type.as_deref(), wrong, &cursor));
            let entries = RenderedHtml::of(&HistoryEntries {
                entries: page.entries.iter().map(EntryCard::from).collect(),
                filtered,
                later,
            })
            .map_err(|e| AppError::Internal(format!("template: {e}")))?;
            let made = Arc::new(MadePage { entries, next });
            if offered {
                state.journal_pages.keep(key, Arc::clone(&made));
            }
            made
        }
    };
    let (jar, flashes) = flash::take(jar, &state.settings);
    let html = HistoryPage {
        layout: Layout::for_viewer(&ctx, &viewer, PATH).with_flashes(flashes),
        entries,
        later,
        groups: GROUPS,
        filtered,
        animal_type: animal_type.unwrap_or_default(),
        wrong,
        usage: format!(
            "{} of {}",
            megabytes(stamp.bytes),
            megabytes(journal.allowance_bytes())
        ),
    };
    Ok((jar, render(&html, StatusCode::OK)?).into_response())
}

/// The link to the page after `cursor`, filters kept.
fn next_link(animal_type: Option<&str>, wrong: bool, cursor: &str) -> String {
    let mut parts = Vec::with_capacity(3);
    if let Some(t) = animal_type {
        parts.push(query_part("type", t));
    }
    if wrong {
        parts.push("wrong=1".to_owned());
    }
    parts.push(query_part("cursor", cursor));
    format!("{PATH}?{}", parts.join("&"))
}

#[derive(Template)]
#[template(path = "history_entry.html")]
struct EntryPage {
    layout: Layout,
    entry: EntryCard,
    visibilities: [Visibility; 3],
    /// A refused feedback's message, shown beside the form.
    error: String,
    /// What the refused form held.
    species_input: String,
    notes_input: String,
}

async fn entry_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    id: &str,
    flashes: Vec<crate::flash::Flash>,
) -> Result<EntryPage, AppError> {
    let entry = state
        .services
        .journal
        .entry(
            signed_in.user.id(),
            entry_id(id)?,
            signed_in.handle.client().origin(),
        )
        .await?;
    let card = EntryCard::from(&entry);
    Ok(EntryPage {
        layout: Layout::for_viewer(ctx, viewer, PATH).with_flashes(flashes),
        species_input: card.corrected_species.clone().unwrap_or_default(),
        notes_input: card.feedback_notes.clone().unwrap_or_default(),
        entry: card,
        visibilities: Visibility::ALL,
        error: String::new(),
    })
}

/// `GET /history/{id}`.
pub(crate) async fn entry(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = entry_page(&state, &ctx, &viewer, &signed_in, &id, flashes).await?;
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// The feedback form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FeedbackForm {
    /// `correct` or `wrong`.
    verdict: String,
    corrected_species: String,
    notes: String,
}

/// `POST /history/{id}/feedback`.
pub(crate) async fn feedback(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
    Form(form): Form<FeedbackForm>,
) -> Result<Response, AppError> {
    let entry = entry_id(&id)?;
    let correct = match form.verdict.as_str() {
        "correct" => Some(true),
        "wrong" => Some(false),
        _ => None,
    };
    let outcome = match correct {
        None => Err(AppError::feedback_verdict_missing()),
        Some(correct) => {
            let said = FeedbackInput {
                correct,
                corrected_species: Some(form.corrected_species.clone()),
                notes: Some(form.notes.clone()),
            };
            state
                .services
                .journal
                .give_feedback(
                    signed_in.user.id(),
                    entry,
                    &said,
                    viewer.handle.client().origin(),
                )
                .await
                .map_err(AppError::from)
        }
    };
    match outcome {
        Ok(_) => {
            let jar = flash::push(
                jar,
                &state.settings,
                FlashKind::Success,
                "Thank you: your feedback is saved.",
            );
            Ok((jar, Redirect::to(&format!("{PATH}/{entry}"))).into_response())
        }
        Err(e) => {
            let (status, message, _) = refusal(e)?;
            let mut page = entry_page(&state, &ctx, &viewer, &signed_in, &id, Vec::new()).await?;
            page.error = message;
            page.species_input = form.corrected_species;
            page.notes_input = form.notes;
            render(&page, status)
        }
    }
}

/// The visibility form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct VisibilityForm {
    visibility: String,
}

/// `POST /history/{id}/visibility`.
pub(crate) async fn set_visibility(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
    Form(form): Form<VisibilityForm>,
) -> Result<Response, AppError> {
    let entry = entry_id(&id)?;
    let chosen = visibility(&form.visibility)?;
    state
        .services
        .journal
        .set_visibility(
            signed_in.user.id(),
            entry,
            chosen,
            viewer.handle.client().origin(),
        )
        .await?;
    let message = match chosen {
        Visibility::Open => "This sighting is shared where you saw it.",
        Visibility::Obscured => "This sighting is shared at a blurred place (within about 20 km).",
        Visibility::Private => "This sighting is private: only you see it.",
    };
    let jar = flash::push(jar, &state.settings, FlashKind::Success, message);
    Ok((jar, Redirect::to(&format!("{PATH}/{entry}"))).into_response())
}

/// `POST /history/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state
        .services
        .journal
        .delete(
            signed_in.user.id(),
            entry_id(&id)?,
            viewer.handle.client().origin(),
        )
        .await?;
    let jar = flash::push(
        jar,
        &state.settings,
        FlashKind::Success,
        "The identification and its photo are deleted.",
    );
    Ok((jar, Redirect::to(PATH)).into_response())
}

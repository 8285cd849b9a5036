//! The JSON API of the field journal (seed §9, §12): a signed-in person's identifications,
//! their photos, and the feedback on them.
//!
//! Every entry route is `Access::Owner`: an entry that is not the caller's, a malformed id,
//! and a signed-out request are all answered 404, so no answer tells whether an entry exists.
//! Photos are served only here, with `Cache-Control: private` (never from a public path).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wildid_ports::repo::{JournalFilter, PhotoSize};
use wildid_ports::services::journal::{DEFAULT_PAGE, FeedbackInput, MAX_PAGE};

use crate::api_json::{ApiJson, ApiQuery};
use crate::api_types::{EntryView, ErrorBody};
use crate::error::AppError;
use crate::kit::{entry_id, visibility};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// How long a browser may keep a photo it was given (only in its own cache: `private`).
pub(crate) const PHOTO_CACHE: &str = "private, max-age=3600";

/// A page of a journal.
#[derive(Serialize, ToSchema)]
pub(crate) struct JournalBody {
    /// Newest first.
    pub entries: Vec<EntryView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/identifications` parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct JournalQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this animal type (`bird`, `reptile`...; case does not matter).
    pub animal_type: Option<String>,
    /// Only entries marked wrong.
    pub marked_wrong: Option<bool>,
    /// Entries per page, 1 to 100 (default 24).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

impl JournalQuery {
    /// The filter it asks for.
    pub(crate) fn filter(&self) -> JournalFilter {
        JournalFilter {
            animal_type: self
                .animal_type
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            marked_wrong: self.marked_wrong.unwrap_or(false),
        }
    }
}

/// `POST /api/feedback`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackRequest {
    /// The entry.
    pub identification_id: String,
    /// Whether the answer was right.
    pub correct: bool,
    /// The species it is, when the answer was wrong (at most 200 characters).
    pub corrected_species: Option<String>,
    /// A note (at most 2,000 characters).
    pub notes: Option<String>,
}

/// `PUT /api/identifications/{id}/visibility`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisibilityRequest {
    /// `open`, `obscured` or `private`.
    pub visibility: String,
}

/// `limit`, or `default` when absent; 400 `invalid_query` outside `1..=max`.
pub(crate) fn checked_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, AppError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::limit_out_of_range(max)),
    }
}

/// Lists the caller's journal, newest first, a page at a time.
#[utoipa::path(get, path = "/api/identifications", tag = "journal", params(JournalQuery),
    responses((status = 200, body = JournalBody),
        (status = 400, body = ErrorBody, description = "`invalid_cursor` (changed, or another person's) or `invalid_query`"),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<JournalQuery>,
) -> Result<Json<JournalBody>, AppError> {
    let page = state
        .services
        .journal
        .page(
            signed_in.user.id(),
            &query.filter(),
            query.cursor.as_deref(),
            checked_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?,
        )
        .await?;
    Ok(Json(JournalBody {
        entries: page.entries.iter().map(EntryView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One entry of the caller's journal.
#[utoipa::path(get, path = "/api/identifications/{id}", tag = "journal",
    params(("id" = String, Path, description = "The entry's id")),
    responses((status = 200, body = EntryView),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<EntryView>, AppError> {
    let entry = state
        .services
        .journal
        .entry(
            signed_in.user.id(),
            entry_id(&id)?,
            signed_in.handle.client().origin(),
        )
        .await?;
    Ok(Json(EntryView::from(&entry)))
}

/// Deletes an entry of the caller's journal, with its photo and feedback.
#[utoipa::path(delete, path = "/api/identifications/{id}", tag = "journal",
    params(("id" = String, Path, description = "The entry's id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .journal
        .delete(
            signed_in.user.id(),
            entry_id(&id)?,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The photo of an entry (re-encoded when it was checked: no metadata of the upload).
#[utoipa::path(get, path = "/api/identifications/{id}/photo", tag = "journal",
    params(("id" = String, Path, description = "The entry's id")),
    responses((status = 200, content_type = "image/jpeg", description = "The photo; `Cache-Control: private`"),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)")))]
pub(crate) async fn photo(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    picture(&state, &signed_in, &id, PhotoSize::Full).await
}

/// The thumbnail of an entry (JPEG, at most 512 pixels on its longer side).
#[utoipa::path(get, path = "/api/identifications/{id}/thumbnail", tag = "journal",
    params(("id" = String, Path, description = "The entry's id")),
    responses((status = 200, content_type = "image/jpeg", description = "The thumbnail; `Cache-Control: private`"),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)")))]
pub(crate) async fn thumbnail(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    picture(&state, &signed_in, &id, PhotoSize::Thumbnail).await
}

/// A picture of an entry of the caller's, for pages and the API alike.
pub(crate) async fn picture(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    size: PhotoSize,
) -> Result<Response, AppError> {
    let picture = state
        .services
        .journal
        .picture(
            signed_in.user.id(),
            entry_id(id)?,
            size,
            signed_in.handle.client().origin(),
        )
        .await?;
    let media_type = match picture.media_type.as_str() {
        known @ ("image/jpeg" | "image/png" | "image/gif" | "image/webp" | "image/bmp") => known,
        _ => {
            return Err(AppError::Internal(
                "a stored photo of an unknown type".into(),
            ));
        }
    };
    Ok((
        [
            (CONTENT_TYPE, media_type),
            (CACHE_CONTROL, PHOTO_CACHE),
            (VARY, "Cookie"),
        ],
        picture.bytes,
    )
        .into_response())
}

/// Says whether an identification's answer was right; a second feedback replaces the first.
#[utoipa::path(post, path = "/api/feedback", tag = "journal", request_body = FeedbackRequest,
    responses((status = 200, body = EntryView, description = "The entry with its feedback"),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)"),
        (status = 422, body = ErrorBody, description = "`invalid_field` (`correct` missing, an unknown field) or `invalid_feedback` (a text too long)")))]
pub(crate) async fn feedback(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> Result<Json<EntryView>, AppError> {
    let said = FeedbackInput {
        correct: body.correct,
        corrected_species: body.corrected_species,
        notes: body.notes,
    };
    let entry = state
        .services
        .journal
        .give_feedback(
            signed_in.user.id(),
            entry_id(&body.identification_id)?,
            &said,
            viewer.handle.client().origin(),
        )
        .await?;
    Ok(Json(EntryView::from(&entry)))
}

/// Sets who may see where the animal of an entry was seen.
#[utoipa::path(put, path = "/api/identifications/{id}/visibility", tag = "journal",
    params(("id" = String, Path, description = "The entry's id")),
    request_body = VisibilityRequest,
    responses((status = 200, body = EntryView),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 404, body = ErrorBody, description = "No such entry in the caller's journal (also when signed out)"),
        (status = 422, body = ErrorBody, description = "`invalid_visibility`")))]
pub(crate) async fn set_visibility(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VisibilityRequest>,
) -> Result<Json<EntryView>, AppError> {
    let id = entry_id(&id)?;
    let visibility = visibility(&body.visibility)?;
    let journal = &state.services.journal;
    let owner = signed_in.user.id();
    journal
        .set_visibility(owner, id, visibility, viewer.handle.client().origin())
        .await?;
    let origin = viewer.handle.client().origin();
    Ok(Json(EntryView::from(
        &journal.entry(owner, id, origin).await?,
    )))
}

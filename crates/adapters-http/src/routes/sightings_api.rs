//! The sightings maps' data (issue 15): `GET /api/sightings` (everyone's shared sightings in an
//! area, for the public map) and `GET /api/sightings/mine` (the caller's own, for their map).
//!
//! Geoprivacy holds here by construction: the public answer is built from
//! `Journal::shared_in`, which never returns a true point that must be obscured, and carries
//! no entry id, owner, note or photo; the true points leave the server only to their owner.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wildid_domain::sighting::Area;
use wildid_ports::services::journal::MAX_SIGHTINGS;

use crate::api_json::ApiQuery;
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::session::SignedIn;
use crate::state::AppState;

/// A sighting on the public map.
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedSightingView {
    /// Where it is shown (decimal degrees): the obscured point when `obscured`.
    pub latitude: f64,
    /// See `latitude`.
    pub longitude: f64,
    /// Whether this is a point chosen inside the 0.2 degree cell of the true one.
    pub obscured: bool,
    /// Common name.
    pub common_name: String,
    /// Scientific name.
    pub species: String,
    /// The day it was seen (`YYYY-MM-DD`).
    pub seen_on: String,
}

/// The public map's sightings in an area.
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedSightingsBody {
    /// Newest first.
    pub sightings: Vec<SharedSightingView>,
    /// Whether there are more in the area than were sent (zoom in to see them).
    pub truncated: bool,
}

/// One of the caller's own sightings.
#[derive(Serialize, ToSchema)]
pub(crate) struct OwnSightingView {
    /// The journal entry (`/history/{id}`).
    pub id: String,
    /// The true point.
    pub latitude: f64,
    /// The true point.
    pub longitude: f64,
    /// Common name.
    pub common_name: String,
    /// The day it was seen (`YYYY-MM-DD`).
    pub seen_on: String,
    /// `open`, `obscured` or `private`.
    pub visibility: String,
}

/// The caller's sightings.
#[derive(Serialize, ToSchema)]
pub(crate) struct OwnSightingsBody {
    /// Newest first.
    pub sightings: Vec<OwnSightingView>,
}

/// `GET /api/sightings` parameters: the area shown, in decimal degrees.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AreaQuery {
    /// -90 to 90.
    #[param(minimum = -90, maximum = 90)]
    pub south: f64,
    /// -180 to 180.
    #[param(minimum = -180, maximum = 180)]
    pub west: f64,
    /// -90 to 90, at least `south`.
    #[param(minimum = -90, maximum = 90)]
    pub north: f64,
    /// -180 to 180, at least `west` (an area across the 180th meridian is asked for as two).
    #[param(minimum = -180, maximum = 180)]
    pub east: f64,
    /// Most sightings to send, 1 to 2000 (default 2000).
    #[param(minimum = 1, maximum = 2000)]
    pub limit: Option<u32>,
}

/// Everyone's shared sightings in an area: open ones where they were seen, obscured ones (by
/// their owner's choice, or because the species is threatened) at a fixed point inside their
/// 0.2 degree cell. Private sightings are never included.
#[utoipa::path(get, path = "/api/sightings", tag = "journal", params(AreaQuery),
    responses((status = 200, body = SharedSightingsBody),
        (status = 400, body = ErrorBody, description = "`invalid_query`: a side missing or not a number, or `limit` out of range"),
        (status = 422, body = ErrorBody, description = "`invalid_area`: a side out of range, or the area inverted")))]
pub(crate) async fn shared(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AreaQuery>,
) -> Result<Json<SharedSightingsBody>, AppError> {
    let area = Area::new(query.south, query.west, query.north, query.east)
        .map_err(AppError::sightings_area_refused)?;
    let limit = super::journal_api::checked_limit(query.limit, MAX_SIGHTINGS, MAX_SIGHTINGS)?;
    let found = state.services.journal.shared_in(area, limit).await?;
    Ok(Json(SharedSightingsBody {
        truncated: found.len() >= limit as usize,
        sightings: found
            .into_iter()
            .map(|s| SharedSightingView {
                latitude: s.position.latitude(),
                longitude: s.position.longitude(),
                obscured: s.obscured,
                common_name: s.common_name.as_str().to_owned(),
                species: s.species.as_str().to_owned(),
                seen_on: s.seen.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    }))
}

/// The caller's own sightings with a position, at their true points.
#[utoipa::path(get, path = "/api/sightings/mine", tag = "journal",
    responses((status = 200, body = OwnSightingsBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<OwnSightingsBody>, AppError> {
    let found = state
        .services
        .journal
        .sightings_of(signed_in.user.id())
        .await?;
    Ok(Json(OwnSightingsBody {
        sightings: found
            .into_iter()
            .map(|s| OwnSightingView {
                id: s.id.to_string(),
                latitude: s.position.latitude(),
                longitude: s.position.longitude(),
                common_name: s.common_name.as_str().to_owned(),
                seen_on: s.seen.format("%Y-%m-%d").to_string(),
                visibility: s.visibility.as_str().to_owned(),
            })
            .collect(),
    }))
}

//! The sightings maps (issue 15): `GET /map`, everyone's shared sightings, and
//! `GET /history/map`, the signed-in person's own. The map is drawn by `static/map.js` with the
//! self-hosted Leaflet over an offline outline of the world (`static/vendor/world.geojson`), or
//! over the configured tile server (`WILDID_MAP_TILE_URL`); the markers come from
//! `/api/sightings` and `/api/sightings/mine`. Without scripts the page lists the same
//! sightings as text, so nothing on it needs the map.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use wildid_domain::sighting::Area;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// How many sightings the text list under the map shows.
const LISTED: u32 = 50;

/// A sighting as the list under the map shows it.
struct Listed {
    name: String,
    species: String,
    place: String,
    seen_on: String,
    note: &'static str,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    layout: Layout,
    title: &'static str,
    lead: &'static str,
    /// Where `map.js` reads the markers.
    endpoint: &'static str,
    /// The tile URL template, or empty for the offline outline.
    tiles: String,
    attribution: String,
    listed: Vec<Listed>,
    own: bool,
}

/// `GET /map`.
pub(crate) async fn public(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let shared = state
        .services
        .journal
        .shared_in(Area::WORLD, LISTED)
        .await?;
    let page = MapPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/map"),
        title: "Sightings map",
        lead: "Animals that WildID members identified and chose to share. Sightings of \
               threatened species, and any their finder asked to blur, are shown at a point \
               within about 20 km of where they were seen, never the exact place.",
        endpoint: "/api/sightings",
        tiles: state.settings.map_tiles.url.clone(),
        attribution: state.settings.map_tiles.attribution.clone(),
        listed: shared
            .into_iter()
            .map(|s| Listed {
                name: s.common_name.as_str().to_owned(),
                species: s.species.as_str().to_owned(),
                place: format!(
                    "{:.2}, {:.2}",
                    s.position.latitude(),
                    s.position.longitude()
                ),
                seen_on: s.seen.format("%-d %b %Y").to_string(),
                note: if s.obscured { "blurred place" } else { "" },
                href: None,
            })
            .collect(),
        own: false,
    };
    render(&page, StatusCode::OK)
}

/// `GET /history/map`.
pub(crate) async fn own(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
) -> Result<Response, AppError> {
    let mine = state
        .services
        .journal
        .sightings_of(signed_in.user.id())
        .await?;
    let page = MapPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/history/map"),
        title: "Your sightings",
        lead: "Where you saw the animals in your journal, at the exact places you gave. Only \
               you see this map.",
        endpoint: "/api/sightings/mine",
        tiles: state.settings.map_tiles.url.clone(),
        attribution: state.settings.map_tiles.attribution.clone(),
        listed: mine
            .into_iter()
            .take(LISTED as usize)
            .map(|s| Listed {
                name: s.common_name.as_str().to_owned(),
                species: String::new(),
                place: format!(
                    "{:.5}, {:.5}",
                    s.position.latitude(),
                    s.position.longitude()
                ),
                seen_on: s.seen.format("%-d %b %Y").to_string(),
                note: match s.visibility.as_str() {
                    "open" => "shared",
                    "obscured" => "shared, blurred",
                    _ => "private",
                },
                href: Some(format!("/history/{}", s.id)),
            })
            .collect(),
        own: true,
    };
    render(&page, StatusCode::OK)
}

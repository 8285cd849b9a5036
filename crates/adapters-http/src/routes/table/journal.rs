//! The field journal: pages and the JSON API (photos are served there only, to their owner).

use axum::http::Method as M;
use axum::routing::{delete, get, post, put};

use super::{OWNER, Public, RouteSpec, SIGNED_IN, route};
use crate::pages::journal as journal_pages;
use crate::pages::map as map_pages;
use crate::routes::{journal_api, sightings_api};

/// The journal routes.
pub(super) fn routes() -> Vec<RouteSpec> {
    vec![
        // The field journal: pages.
        route(M::GET, "/history", SIGNED_IN, get(journal_pages::list)),
        route(M::GET, "/history/map", SIGNED_IN, get(map_pages::own)),
        route(M::GET, "/map", Public, get(map_pages::public)),
        route(M::GET, "/api/sightings", Public, get(sightings_api::shared)),
        route(
            M::GET,
            "/api/sightings/mine",
            SIGNED_IN,
            get(sightings_api::mine),
        ),
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000",
            ..route(M::GET, "/history/{id}", OWNER, get(journal_pages::entry))
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/feedback",
            ..route(
                M::POST,
                "/history/{id}/feedback",
                OWNER,
                post(journal_pages::feedback),
            )
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/visibility",
            ..route(
                M::POST,
                "/history/{id}/visibility",
                OWNER,
                post(journal_pages::set_visibility),
            )
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/delete",
            ..route(
                M::POST,
                "/history/{id}/delete",
                OWNER,
                post(journal_pages::delete),
            )
        },
        // The field journal: JSON API (photos are served here only, to their owner).
        route(
            M::GET,
            "/api/identifications",
            SIGNED_IN,
            get(journal_api::list),
        ),
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000",
            ..route(
                M::GET,
                "/api/identifications/{id}",
                OWNER,
                get(journal_api::get),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000",
            ..route(
                M::DELETE,
                "/api/identifications/{id}",
                OWNER,
                delete(journal_api::delete),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/photo",
            ..route(
                M::GET,
                "/api/identifications/{id}/photo",
                OWNER,
                get(journal_api::photo),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/thumbnail",
            ..route(
                M::GET,
                "/api/identifications/{id}/thumbnail",
                OWNER,
                get(journal_api::thumbnail),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/visibility",
            ..route(
                M::PUT,
                "/api/identifications/{id}/visibility",
                OWNER,
                put(journal_api::set_visibility),
            )
        },
        route(M::POST, "/api/feedback", OWNER, post(journal_api::feedback)),
    ]
}

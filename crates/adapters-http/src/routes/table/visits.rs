//! Field visits: pages, exposure reports and notifications, and the JSON API of the catalogue, bookings and the workers' queue.

use axum::http::Method as M;
use axum::routing::{get, post, put};

use super::{ADMIN, OWNER, Public, RouteSpec, SIGNED_IN, WORKER, route};
use crate::pages::notifications as notification_pages;
use crate::pages::visits as visit_pages;
use crate::routes::{exposures_api, retention_api, visits_api};

const BOOKING: &str = "/api/bookings/00000000-0000-4000-8000-000000000000";

/// The visits routes.
pub(super) fn routes() -> Vec<RouteSpec> {
    vec![
        // Field visits: pages.
        route(M::GET, "/visits", Public, get(visit_pages::list)),
        route(M::POST, "/visits", SIGNED_IN, post(visit_pages::book)),
        route(M::GET, "/visits/mine", SIGNED_IN, get(visit_pages::mine)),
        RouteSpec {
            example: "/visits/mine/00000000-0000-4000-8000-000000000000/cancel",
            ..route(
                M::POST,
                "/visits/mine/{id}/cancel",
                OWNER,
                post(visit_pages::cancel),
            )
        },
        route(M::GET, "/worker", WORKER, get(visit_pages::dashboard)),
        RouteSpec {
            example: "/worker/bookings/00000000-0000-4000-8000-000000000000/claim",
            ..route(
                M::POST,
                "/worker/bookings/{id}/{action}",
                WORKER,
                post(visit_pages::act),
            )
        },
        route(M::GET, "/admin/visits", ADMIN, get(visit_pages::catalogue)),
        route(
            M::POST,
            "/admin/visits/sites",
            ADMIN,
            post(visit_pages::add_site),
        ),
        RouteSpec {
            example: "/admin/visits/sites/00000000-0000-4000-8000-000000000000",
            ..route(
                M::POST,
                "/admin/visits/sites/{id}",
                ADMIN,
                post(visit_pages::change_site),
            )
        },
        route(
            M::POST,
            "/admin/visits/services",
            ADMIN,
            post(visit_pages::add_service),
        ),
        RouteSpec {
            example: "/admin/visits/services/00000000-0000-4000-8000-000000000000",
            ..route(
                M::POST,
                "/admin/visits/services/{id}",
                ADMIN,
                post(visit_pages::change_service),
            )
        },
        RouteSpec {
            example: "/admin/visits/bookings/00000000-0000-4000-8000-000000000000/reassign",
            ..route(
                M::POST,
                "/admin/visits/bookings/{id}/reassign",
                ADMIN,
                post(visit_pages::reassign),
            )
        },
        route(M::POST, "/admin/cleanup", ADMIN, post(visit_pages::cleanup)),
        route(
            M::POST,
            "/api/admin/cleanup",
            ADMIN,
            post(retention_api::cleanup),
        ),
        // Exposure reports and in-app notifications.
        route(
            M::POST,
            "/api/exposures",
            WORKER,
            post(exposures_api::report),
        ),
        route(
            M::GET,
            "/api/notifications",
            SIGNED_IN,
            get(exposures_api::list),
        ),
        RouteSpec {
            example: "/api/notifications/00000000-0000-4000-8000-000000000000/read",
            ..route(
                M::POST,
                "/api/notifications/{id}/read",
                OWNER,
                post(exposures_api::mark_read),
            )
        },
        route(
            M::GET,
            "/notifications",
            SIGNED_IN,
            get(notification_pages::list),
        ),
        RouteSpec {
            example: "/notifications/00000000-0000-4000-8000-000000000000/read",
            ..route(
                M::POST,
                "/notifications/{id}/read",
                OWNER,
                post(notification_pages::mark_read),
            )
        },
        route(
            M::POST,
            "/worker/exposures",
            WORKER,
            post(visit_pages::report_exposure),
        ),
        // Field visits: the catalogue, visitors' bookings, the workers' queue, admins'
        // changes (JSON).
        route(
            M::GET,
            "/api/sites",
            Public,
            get(visits_api::catalogue::sites),
        ),
        route(
            M::GET,
            "/api/services",
            Public,
            get(visits_api::catalogue::services),
        ),
        route(
            M::GET,
            "/api/admin/sites",
            ADMIN,
            get(visits_api::catalogue::all_sites),
        ),
        route(
            M::POST,
            "/api/admin/sites",
            ADMIN,
            post(visits_api::admin::add_site),
        ),
        RouteSpec {
            example: "/api/admin/sites/00000000-0000-4000-8000-000000000000",
            ..route(
                M::PUT,
                "/api/admin/sites/{id}",
                ADMIN,
                put(visits_api::admin::change_site),
            )
        },
        route(
            M::POST,
            "/api/admin/services",
            ADMIN,
            post(visits_api::admin::add_service),
        ),
        RouteSpec {
            example: "/api/admin/services/00000000-0000-4000-8000-000000000000",
            ..route(
                M::PUT,
                "/api/admin/services/{id}",
                ADMIN,
                put(visits_api::admin::change_service),
            )
        },
        route(
            M::GET,
            "/api/bookings",
            SIGNED_IN,
            get(visits_api::bookings::mine),
        ),
        route(
            M::POST,
            "/api/bookings",
            SIGNED_IN,
            post(visits_api::bookings::book),
        ),
        RouteSpec {
            example: BOOKING,
            ..route(
                M::GET,
                "/api/bookings/{id}",
                OWNER,
                get(visits_api::bookings::get),
            )
        },
        RouteSpec {
            example: "/api/bookings/00000000-0000-4000-8000-000000000000/token",
            ..route(
                M::GET,
                "/api/bookings/{id}/token",
                OWNER,
                get(visits_api::bookings::token),
            )
        },
        RouteSpec {
            example: "/api/bookings/00000000-0000-4000-8000-000000000000/cancel",
            ..route(
                M::POST,
                "/api/bookings/{id}/cancel",
                OWNER,
                post(visits_api::bookings::cancel),
            )
        },
        route(
            M::GET,
            "/api/worker/bookings",
            WORKER,
            get(visits_api::worker::worker_bookings),
        ),
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/claim",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/claim",
                WORKER,
                post(visits_api::worker::claim),
            )
        },
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/check-in",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/check-in",
                WORKER,
                post(visits_api::worker::check_in),
            )
        },
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/complete",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/complete",
                WORKER,
                post(visits_api::worker::complete),
            )
        },
        RouteSpec {
            example: "/api/admin/bookings/00000000-0000-4000-8000-000000000000/reassign",
            ..route(
                M::POST,
                "/api/admin/bookings/{id}/reassign",
                ADMIN,
                post(visits_api::admin::reassign),
            )
        },
    ]
}

//! Administration (admins only, with a second factor).

use axum::http::Method as M;
use axum::routing::{delete, get, post};

use super::{ADMIN, RouteSpec, route};
use crate::pages::admin as admin_pages;
use crate::routes::admin_api;

const EXAMPLE_ROLE_PATH: &str = "/admin/users/00000000-0000-4000-8000-000000000000/role";

/// The admin routes.
pub(super) fn routes() -> Vec<RouteSpec> {
    vec![
        // Administration.
        route(M::GET, "/admin", ADMIN, get(admin_pages::page)),
        RouteSpec {
            example: EXAMPLE_ROLE_PATH,
            ..route(
                M::POST,
                "/admin/users/{id}/{action}",
                ADMIN,
                post(admin_pages::act),
            )
        },
        route(M::GET, "/admin/audit", ADMIN, get(admin_pages::audit::page)),
        route(
            M::POST,
            "/admin/audit/verify",
            ADMIN,
            post(admin_pages::audit::verify),
        ),
        route(M::GET, "/api/admin/users", ADMIN, get(admin_api::users)),
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000",
            ..route(
                M::DELETE,
                "/api/admin/users/{id}",
                ADMIN,
                delete(admin_api::delete_user),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/role",
            ..route(
                M::POST,
                "/api/admin/users/{id}/role",
                ADMIN,
                post(admin_api::set_role),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/active",
            ..route(
                M::POST,
                "/api/admin/users/{id}/active",
                ADMIN,
                post(admin_api::set_active),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/unlock",
            ..route(
                M::POST,
                "/api/admin/users/{id}/unlock",
                ADMIN,
                post(admin_api::unlock),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/sessions/revoke",
            ..route(
                M::POST,
                "/api/admin/users/{id}/sessions/revoke",
                ADMIN,
                post(admin_api::end_sessions),
            )
        },
    ]
}

//! The routes anyone may use: the landing page, health, static files, identification and the request defences' own endpoints.

use axum::extract::DefaultBodyLimit;
use axum::http::Method as M;
use axum::routing::{get, post};
use wildid_ports::services::limits::RouteGroup;

use super::{Public, RouteSpec, route};
use crate::pages::api_docs;
use crate::pages::identify as identify_page;
use crate::pages::landing::landing;
use crate::routes::paths;
use crate::routes::{csp_report, health, identify_api, openapi, security, static_files};

/// The public routes.
pub(super) fn routes() -> Vec<RouteSpec> {
    vec![
        route(M::GET, paths::HOME, Public, get(landing)),
        route(M::GET, "/healthz", Public, get(health::healthz)).in_group(RouteGroup::Unlimited),
        route(M::GET, "/readyz", Public, get(health::readyz)).in_group(RouteGroup::Unlimited),
        RouteSpec {
            example: "/static/app.css",
            ..route(M::GET, "/static/{file}", Public, get(static_files::serve))
                .in_group(RouteGroup::Unlimited)
        },
        route(M::GET, "/robots.txt", Public, get(static_files::robots))
            .in_group(RouteGroup::Unlimited),
        route(
            M::POST,
            "/api/csp-report",
            Public,
            post(csp_report::receive).layer(DefaultBodyLimit::max(csp_report::MAX_REPORT_BYTES)),
        )
        .in_group(RouteGroup::Reports),
        route(M::GET, "/api/openapi.json", Public, get(openapi::serve)),
        route(M::GET, "/api/docs", Public, get(api_docs::page)),
        // Identification: counted per session and network by the use case, and the request
        // itself by the `Identify` limit group. The body limit is the upload limit (set by
        // `body_limit`, so axum's own default is lifted here).
        route(
            M::POST,
            "/api/identify",
            Public,
            post(identify_api::identify).layer(DefaultBodyLimit::disable()),
        )
        .in_group(RouteGroup::Identify)
        .upload(),
        route(M::GET, "/identify", Public, get(identify_page::page)),
        route(
            M::POST,
            "/identify",
            Public,
            post(identify_page::identify).layer(DefaultBodyLimit::disable()),
        )
        .in_group(RouteGroup::Identify)
        .upload(),
        route(
            M::GET,
            "/api/security/status",
            Public,
            get(security::status),
        ),
        route(
            M::POST,
            "/api/security/captcha",
            Public,
            post(security::captcha),
        )
        .in_group(RouteGroup::Captcha),
        route(
            M::POST,
            "/api/security/verify",
            Public,
            post(security::verify),
        )
        .in_group(RouteGroup::Captcha),
    ]
}

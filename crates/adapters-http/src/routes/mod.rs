//! The router: every route, and the layers every request passes through.

pub(crate) mod auth_api;
pub(crate) mod csp_report;
pub(crate) mod health;
pub(crate) mod security;
pub(crate) mod static_files;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::access::{self, Access};
use crate::csrf::csrf;
use crate::error::AppError;
use crate::middleware::frame::frame;
use crate::pages::auth;
use crate::pages::landing::landing;
use crate::session::sessions;
use crate::state::AppState;

/// Largest request body accepted anywhere unless a route allows more.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One route: its method and path, who may use it, and its handler. The table below is the
/// only way routes are added, so every route has an access rule; the role-matrix test walks
/// the same table.
pub(crate) struct RouteSpec {
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the role-matrix test"))]
    pub method: Method,
    pub path: &'static str,
    /// A concrete path for tests (path parameters filled in).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the role-matrix test"))]
    pub example: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        example: path,
        access,
        handler,
    }
}

/// Every route of the application, with its access rule.
pub(crate) fn table() -> Vec<RouteSpec> {
    vec![
        route(Method::GET, "/", Access::Public, get(landing)),
        route(
            Method::GET,
            "/healthz",
            Access::Public,
            get(health::healthz),
        ),
        route(Method::GET, "/readyz", Access::Public, get(health::readyz)),
        RouteSpec {
            example: "/static/app.css",
            ..route(
                Method::GET,
                "/static/{file}",
                Access::Public,
                get(static_files::serve),
            )
        },
        route(
            Method::POST,
            "/api/csp-report",
            Access::Public,
            post(csp_report::receive).layer(DefaultBodyLimit::max(csp_report::MAX_REPORT_BYTES)),
        ),
        route(
            Method::GET,
            "/api/security/status",
            Access::Public,
            get(security::status),
        ),
        // Accounts and sign-in: pages.
        route(
            Method::GET,
            "/auth/sign-in",
            Access::Public,
            get(auth::sign_in_page),
        ),
        route(
            Method::POST,
            "/auth/sign-in",
            Access::Public,
            post(auth::sign_in),
        ),
        route(
            Method::GET,
            "/auth/register",
            Access::Public,
            get(auth::register_page),
        ),
        route(
            Method::POST,
            "/auth/register",
            Access::Public,
            post(auth::register),
        ),
        route(
            Method::GET,
            "/auth/verify",
            Access::Public,
            get(auth::verify_page),
        ),
        route(
            Method::POST,
            "/auth/verify",
            Access::Public,
            post(auth::verify),
        ),
        route(
            Method::GET,
            "/auth/resend",
            Access::Public,
            get(auth::resend_page),
        ),
        route(
            Method::POST,
            "/auth/resend",
            Access::Public,
            post(auth::resend),
        ),
        route(
            Method::POST,
            "/auth/sign-out",
            Access::Public,
            post(auth::sign_out),
        ),
        route(Method::GET, "/privacy", Access::Public, get(auth::privacy)),
        route(
            Method::GET,
            "/account",
            Access::SIGNED_IN,
            get(auth::account),
        ),
        // Accounts and sign-in: JSON API.
        route(
            Method::POST,
            "/api/auth/register",
            Access::Public,
            post(auth_api::register),
        ),
        route(
            Method::POST,
            "/api/auth/verify-email",
            Access::Public,
            post(auth_api::verify_email),
        ),
        route(
            Method::POST,
            "/api/auth/resend-verification",
            Access::Public,
            post(auth_api::resend_verification),
        ),
        route(
            Method::POST,
            "/api/auth/login",
            Access::Public,
            post(auth_api::login),
        ),
        route(
            Method::POST,
            "/api/auth/logout",
            Access::SIGNED_IN,
            post(auth_api::logout),
        ),
        route(
            Method::GET,
            "/api/auth/me",
            Access::SIGNED_IN,
            get(auth_api::me),
        ),
    ]
}

/// The whole application: routes plus the layers around them.
pub fn router(state: AppState) -> Router {
    with_layers(routes(&state), state)
}

/// The routes of [`table`].
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    build(table(), state)
}

/// Puts each route behind its guards: the anti-forgery check first, then its access rule.
/// Every route goes through here, so none can escape either.
pub(crate) fn build(specs: Vec<RouteSpec>, state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for spec in specs {
        let access = spec.access;
        let guarded = spec
            .handler
            .route_layer(from_fn(move |request: Request, next: Next| {
                access::enforce(access, request, next)
            }))
            .route_layer(from_fn_with_state(state.clone(), csrf));
        let merged = match by_path.remove(spec.path) {
            Some(existing) => existing.merge(guarded),
            None => guarded,
        };
        by_path.insert(spec.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
        .fallback(not_found)
}

/// The layers every request passes through, outermost first. They wrap the fallback too, so
/// 404s carry the same headers and error rendering as everything else.
pub(crate) fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), frame))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(from_fn_with_state(state.clone(), sessions))
                .layer(RequestBodyLimitLayer::new(DEFAULT_BODY_LIMIT)),
        )
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

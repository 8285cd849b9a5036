//! The router: every route, and the layers every request passes through.

pub(crate) mod csp_report;
pub(crate) mod health;
pub(crate) mod static_files;

#[cfg(test)]
mod tests;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::AppError;
use crate::middleware::frame::frame;
use crate::pages::landing::landing;
use crate::state::AppState;

/// Largest request body accepted anywhere unless a route allows more.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application: routes plus the layers around them.
pub fn router(state: AppState) -> Router {
    with_layers(routes(), state)
}

/// Every route of the application.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{file}", get(static_files::serve))
        .route(
            "/api/csp-report",
            post(csp_report::receive).layer(DefaultBodyLimit::max(csp_report::MAX_REPORT_BYTES)),
        )
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
                .layer(RequestBodyLimitLayer::new(DEFAULT_BODY_LIMIT)),
        )
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

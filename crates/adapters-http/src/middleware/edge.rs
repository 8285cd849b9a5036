//! The edge checks, in this order, right inside the frame (so their answers carry the request
//! id and the security headers) and before the session layer (so a refused request never
//! creates a session):
//!
//! 1. the `Host` must be allowed (`hosts`), else 400 `host_not_allowed`;
//! 2. in production, a request that did not arrive over HTTPS (as a trusted proxy tells) is
//!    sent to the same path on the public URL with 308; the health probes are exempt, since
//!    orchestrators call them directly over plain HTTP;
//! 3. CORS on `/api/*` (`cors`): preflights are answered here, other API answers annotated.

use axum::extract::{Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::context::RequestContext;
use crate::context::is_api;
use crate::error::AppError;
use crate::middleware::cors::{self, CorsVerdict};
use crate::state::AppState;

/// Paths served over plain HTTP even in production: the probes of orchestrators and load
/// balancers, which reveal nothing but up or down.
pub(crate) const PLAIN_HTTP_ALLOWED: &[&str] = &["/healthz", "/readyz"];

pub(crate) async fn edge(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let settings = &state.settings;
    if !settings.allowed_hosts.allows(request.headers()) {
        tracing::warn!(
            security_event = "host_refused",
            "request for a host that is not allowed"
        );
        return AppError::host_not_allowed().into_response();
    }
    let path = request.uri().path();
    let https = request
        .extensions()
        .get::<RequestContext>()
        .is_some_and(|ctx| ctx.https);
    if settings.production && !https && !PLAIN_HTTP_ALLOWED.contains(&path) {
        return to_https(&settings.public_url, &request);
    }
    let api = is_api(path);
    let verdict = settings
        .cors
        .verdict(request.method(), api, request.headers());
    let mut response = match verdict {
        CorsVerdict::NotCors => next.run(request).await,
        CorsVerdict::GrantPreflight(grant) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().extend(grant);
            response
        }
        CorsVerdict::RefusePreflight => {
            tracing::warn!(
                security_event = "cors_refused",
                "preflight from an origin that is not allowed"
            );
            AppError::cors_origin_not_allowed().into_response()
        }
        CorsVerdict::Annotate(grant) => {
            let mut response = next.run(request).await;
            response.headers_mut().extend(grant);
            response
        }
    };
    if api {
        cors::vary_on_origin(response.headers_mut());
    }
    response
}

/// 308 to the same path and query on the public URL (never on the request's `Host`).
fn to_https(public_url: &str, request: &Request) -> Response {
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    match HeaderValue::from_str(&format!("{public_url}{path_and_query}")) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, location)]).into_response(),
        Err(_) => AppError::malformed_request().into_response(),
    }
}

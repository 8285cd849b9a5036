//! The router: every route, and the layers every request passes through.

pub(crate) mod account_api;
pub(crate) mod admin_api;
pub(crate) mod auth_api;
pub(crate) mod csp_report;
pub(crate) mod exposures_api;
pub(crate) mod health;
pub(crate) mod identify_api;
pub(crate) mod journal_api;
pub(crate) mod openapi;
mod openapi_frame;
pub(crate) mod profile_api;
pub(crate) mod retention_api;
pub(crate) mod security;
pub(crate) mod sightings_api;
pub(crate) mod static_files;
pub(crate) mod visits_api;

pub(crate) mod body_limit;
mod table;

pub use table::{DeclaredRoute, declared};

#[cfg(test)]
mod tests;

/// The pages that links in mail lead to: named once, used by the route table below and by
/// [`account_links`], so a link in a message always reaches its page.
pub(crate) mod paths {
    pub(crate) const HOME: &str = "/";
    pub(crate) const SIGN_IN: &str = "/auth/sign-in";
    pub(crate) const VERIFY_EMAIL: &str = "/auth/verify";
    pub(crate) const MAGIC_LINK: &str = "/auth/magic";
    pub(crate) const CONFIRM_EMAIL_CHANGE: &str = "/account/email/confirm";
}

/// Where the links in account mail lead on a server reached at `public_url` (scheme and
/// host): the pages of this router.
pub fn account_links(public_url: &str) -> AccountLinks {
    AccountLinks {
        home: PageLink::new(public_url, paths::HOME),
        verify_email: PageLink::new(public_url, paths::VERIFY_EMAIL),
        magic_link: PageLink::new(public_url, paths::MAGIC_LINK),
        sign_in: PageLink::new(public_url, paths::SIGN_IN),
        confirm_email_change: PageLink::new(public_url, paths::CONFIRM_EMAIL_CHANGE),
    }
}

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::routing::MethodRouter;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use wildid_ports::services::accounts::{AccountLinks, PageLink};

use crate::access;
use crate::csrf::csrf;
use crate::error::AppError;
use crate::limits;
use crate::middleware::edge::edge;
use crate::middleware::frame::frame;
use crate::session::sessions;
use crate::state::AppState;
pub use body_limit::DEFAULT_UPLOAD_LIMIT;
use body_limit::{BodyLimits, body_limit, upload_paths, upload_slots};
#[cfg(test)]
use table::route;
pub(crate) use table::{RouteSpec, table};

/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application: routes plus the layers around them.
pub fn router(state: AppState) -> Router {
    with_layers(routes(&state), state)
}

/// The routes of [`table`].
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    build(table(), state)
}

/// Puts each route behind its guards: its request limit first (so refused requests count
/// too), then the anti-forgery check, then its access rule. Every route goes through here, so
/// none can escape any of them.
pub(crate) fn build(specs: Vec<RouteSpec>, state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for spec in specs {
        let access = spec.access;
        let group = spec.group;
        let guarded = spec
            .handler
            .route_layer(from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    access::enforce(access, state, request, next)
                },
            ))
            .route_layer(from_fn_with_state(state.clone(), csrf))
            .route_layer(from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    limits::enforce(group, state, request, next)
                },
            ));
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
                .layer(from_fn_with_state(state.clone(), edge))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(from_fn_with_state(state.clone(), sessions))
                .layer(from_fn_with_state(
                    BodyLimits {
                        state: state.clone(),
                        upload_paths: Arc::new(upload_paths()),
                        uploads: Arc::new(Semaphore::new(upload_slots())),
                    },
                    body_limit,
                )),
        )
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

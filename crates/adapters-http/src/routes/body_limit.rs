//! The body limit on every request, and the upload slots.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use tokio::sync::Semaphore;

use super::table::table;
use crate::error::AppError;
use crate::state::AppState;

/// Largest request body accepted anywhere but on the upload routes ([`super::RouteSpec::upload`]).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The upload limit when none is configured.
pub const DEFAULT_UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// Uploads whose bodies may be in the server at once: two per core, so that every decoding
/// slot (one per core) has the next upload ready while memory stays bounded whatever the
/// number of uploads in flight. The others wait before a byte of their body is read (the
/// request timeout still runs).
pub(super) fn upload_slots() -> usize {
    2 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The paths of the table's upload routes ([`super::RouteSpec::upload`]). The body limit applies
/// before routing (so a request to no route is bounded too), hence by path.
pub(super) fn upload_paths() -> BTreeSet<&'static str> {
    table()
        .into_iter()
        .filter(|spec| spec.upload)
        .map(|spec| spec.path)
        .collect()
}

/// What [`body_limit`] needs: the settings, the upload routes' paths, and the upload slots.
#[derive(Clone)]
pub(super) struct BodyLimits {
    pub(super) state: AppState,
    pub(super) upload_paths: Arc<BTreeSet<&'static str>>,
    pub(super) uploads: Arc<Semaphore>,
}

/// Bounds every request body: [`DEFAULT_BODY_LIMIT`], or the upload limit on the upload
/// routes. A declared `Content-Length` beyond it is answered 413 at once; a body
/// that grows beyond it fails its reader with 413. An upload also waits for one of the upload
/// slots ([`upload_slots`]) before its body is read, and holds it (`kit::UploadSlot`) until its
/// photo is checked or, at the latest, until it is answered.
pub(super) async fn body_limit(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let upload = limits.upload_paths.contains(request.uri().path());
    let limit = if upload {
        limits.state.settings.max_upload_bytes
    } else {
        DEFAULT_BODY_LIMIT
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return AppError::PayloadTooLarge.into_response();
    }
    let mut request = request;
    if upload && request.method() == axum::http::Method::POST {
        match Arc::clone(&limits.uploads).acquire_owned().await {
            Ok(slot) => {
                request
                    .extensions_mut()
                    .insert(crate::kit::UploadSlot::new(slot));
            }
            Err(_) => {
                return AppError::Unavailable("the upload slots are closed".into()).into_response();
            }
        }
    }
    next.run(request.map(|body| Body::new(Limited::new(body, limit))))
        .await
}

//! The outermost middleware: gives each request an id and a CSP nonce, runs it inside a
//! tracing span that carries the id and the client's coarse network (so every log line of the
//! request has them), renders error responses, sets the security headers, writes one
//! access-log line and counts the request in the metrics.
//!
//! The access log and the request metrics (`wildid_http_requests_total`,
//! `wildid_http_request_duration_seconds`) name the *route template* (`/api/csp-report`),
//! never the raw path or query, which may hold tokens or personal data.

use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tracing::Instrument;
use wildid_domain::ids::RequestId;
use wildid_domain::session::coarse_ip;
use wildid_ports::random::random_array;

use crate::client;
use crate::context::{RequestContext, is_api};
use crate::middleware::{errors, headers};
use crate::state::AppState;

pub(crate) async fn frame(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (Ok(id), Ok(nonce)) = (
        random_array::<16>(state.random.as_ref()),
        random_array::<16>(state.random.as_ref()),
    ) else {
        tracing::error!("no secure randomness: refusing the request");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = &state.settings.trusted_proxies;
    let ctx = RequestContext {
        request_id: RequestId::from_random(id),
        nonce: URL_SAFE_NO_PAD.encode(nonce).into(),
        client_ip: client::client_ip(peer, request.headers(), trusted),
        https: client::forwarded_https(peer, request.headers(), trusted),
        fingerprint: client::fingerprint(request.headers()),
    };
    let api = is_api(request.uri().path());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str)
        .to_owned();
    // Every line of the request carries its id, the client's coarse network (the /24 or /48,
    // never the address: ASVS 16.2.1 "where", within the logging rules) and the browser's
    // fingerprint (a digest of its identifying headers, as the session stores it: seed 000
    // section 14), so the security events of one browser can be followed.
    let network = ctx.client_ip.map(coarse_ip).unwrap_or_default();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %ctx.request_id,
        client = %network,
        fingerprint = %ctx.fingerprint.to_hex(),
        method = %method,
        route = %route
    );
    request.extensions_mut().insert(ctx.clone());

    let mut response = next.run(request).instrument(span.clone()).await;
    if (response.status().is_client_error() || response.status().is_server_error())
        && response.extensions().get::<errors::KeepBody>().is_none()
    {
        response = errors::render(response, api, &ctx);
    }
    headers::apply(response.headers_mut(), &ctx.nonce, &state.settings, api);
    if let Ok(value) = HeaderValue::from_str(&ctx.request_id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let latency_ms = elapsed * 1000.0;
    tracing::info!(parent: &span, status, latency_ms, "served");
    // Per route template, never per raw path, and extension methods as one: the label set
    // stays small whatever clients send, and holds no ids.
    let method = metric_method(&method);
    metrics::counter!(
        "wildid_http_requests_total",
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "wildid_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(elapsed);
    response
}

/// The method as a metric label: the standard ones by name, any other as `OTHER` (a client
/// may send any token as a method; each would otherwise be a new series).
fn metric_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::metric_method;

    #[test]
    fn extension_methods_share_one_label() {
        assert_eq!(metric_method(&axum::http::Method::GET), "GET");
        let odd = axum::http::Method::from_bytes(b"FROBNICATE-1").unwrap();
        let other = axum::http::Method::from_bytes(b"FROBNICATE-2").unwrap();
        assert_eq!(metric_method(&odd), "OTHER");
        assert_eq!(metric_method(&other), "OTHER");
    }
}

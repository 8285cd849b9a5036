//! Cross-site request forgery defence on every state-changing request (POST, PUT, PATCH,
//! DELETE) of every route, pages and API alike:
//!
//! 1. a browser that says the request is cross-site (`Sec-Fetch-Site: cross-site` or
//!    `same-site`), or sends an `Origin` other than this host, is refused, unless the origin
//!    is one of the CORS allowlist (a front end of ours, which must still present the token);
//! 2. the session's synchronizer token must be presented: the `X-CSRF-Token` header, else a
//!    `csrf_token` field of a JSON body, else a `csrf_token` form field (urlencoded or
//!    multipart); compared in constant time. Bodies reach the handler exactly as they came,
//!    never re-serialised: JSON handlers pass the field over (`api_json`), form handlers
//!    ignore fields they do not name, multipart handlers skip it. A body is read here only
//!    when no header carries the token (bounded by its route's body limit; its request limit
//!    was counted before this check).
//!
//! Failure answers 403 `{"error":"csrf_failed"}` to API and JSON requests and redirects form
//! posts back with a message; neither says which check failed. Exemptions: [`EXEMPT`] only.

use std::convert::Infallible;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, LOCATION, ORIGIN, REFERER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::SignedCookieJar;

use crate::context::is_api;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::safe_next;
use crate::routes::body_limit::DEFAULT_BODY_LIMIT;
use crate::session::SessionHandle;
use crate::state::AppState;

/// The only routes that accept state-changing requests without a token, and why:
/// `/api/csp-report` receives reports the browser sends on its own, with no page script
/// involved and no state of the user changed.
pub(crate) const EXEMPT: &[&str] = &["/api/csp-report"];

const HEADER: &str = "x-csrf-token";
/// The body field that may carry the token (JSON, urlencoded and multipart forms).
pub(crate) const FIELD: &str = "csrf_token";

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

enum BodyKind {
    Json,
    Form,
    /// `multipart/form-data`, with its boundary.
    Multipart(String),
    Other,
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "multipart/form-data" => {
            multer::parse_boundary(ct).map_or(BodyKind::Other, BodyKind::Multipart)
        }
        _ => BodyKind::Other,
    }
}

/// The request announces itself as coming from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

/// The token field of a JSON object or an urlencoded form, read without changing the body.
fn body_field(kind: &BodyKind, bytes: &[u8]) -> Option<String> {
    /// Only the token: every other field is skipped unread.
    #[derive(serde::Deserialize)]
    struct TokenOnly {
        csrf_token: Option<String>,
    }
    match kind {
        BodyKind::Json => serde_json::from_slice::<TokenOnly>(bytes)
            .ok()
            .and_then(|body| body.csrf_token),
        BodyKind::Form => form_urlencoded::parse(bytes)
            .find(|(key, _)| key == FIELD)
            .map(|(_, value)| value.into_owned()),
        BodyKind::Multipart(_) | BodyKind::Other => None,
    }
}

/// The token field of a multipart body, wherever it stands among the parts; `None` when it
/// is missing, the body is not well-formed multipart, or the field is not UTF-8.
async fn multipart_field(boundary: &str, bytes: Bytes) -> Option<String> {
    let whole = futures_util::stream::once(std::future::ready(Ok::<_, Infallible>(bytes)));
    let mut parts = multer::Multipart::new(whole, boundary);
    while let Ok(Some(part)) = parts.next_field().await {
        if part.name() == Some(FIELD) {
            return part.text().await.ok();
        }
    }
    None
}

/// Middleware; runs after the session layer.
pub(crate) async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_unsafe(request.method()) || EXEMPT.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let kind = body_kind(request.headers());
    let wants_json = is_api(&path) || matches!(kind, BodyKind::Json);
    if cross_site(request.headers()) && !state.settings.cors.allows_origin_of(request.headers()) {
        return refuse(&state, request.headers(), wants_json, "cross-site request");
    }
    let Some(session) = request
        .extensions()
        .get::<SessionHandle>()
        .and_then(|h| h.current().session().cloned())
    else {
        return refuse(&state, request.headers(), wants_json, "no session");
    };
    let (parts, body) = request.into_parts();
    let header_token = parts
        .headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (token, body) = match (header_token, &kind) {
        // The header wins: the body is not read here at all.
        (Some(token), _) => (Some(token), body),
        // No field can carry the token in other bodies: nothing to read.
        (None, BodyKind::Other) => (None, body),
        (None, BodyKind::Multipart(boundary)) => {
            // Already bounded by the route's body limit (`routes::body_limit`).
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                return AppError::PayloadTooLarge.into_response();
            };
            (
                multipart_field(boundary, bytes.clone()).await,
                Body::from(bytes),
            )
        }
        // The handler gets the very bytes that came: JSON handlers pass the field over
        // (`api_json::WithoutToken`), form handlers ignore fields they do not name.
        (None, BodyKind::Json | BodyKind::Form) => {
            let Ok(bytes) = to_bytes(body, DEFAULT_BODY_LIMIT).await else {
                return AppError::PayloadTooLarge.into_response();
            };
            (body_field(&kind, &bytes), Body::from(bytes))
        }
    };
    if !token.is_some_and(|t| session.csrf().matches(&t)) {
        return refuse(&state, &parts.headers, wants_json, "token missing or wrong");
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Where a refused form post goes back to: the page the form was on (the `Referer`, when it is
/// this host), else the landing page. Never anywhere else.
fn back_to(headers: &HeaderMap) -> String {
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|uri| {
            uri.authority()
                .is_some_and(|a| host.is_some_and(|h| a.as_str().eq_ignore_ascii_case(h)))
        })
        .and_then(|uri| uri.path_and_query().map(|pq| safe_next(pq.as_str())))
        .unwrap_or_else(|| "/".to_owned())
}

fn refuse(state: &AppState, headers: &HeaderMap, wants_json: bool, why: &str) -> Response {
    tracing::warn!(
        security_event = "csrf_failed",
        reason = why,
        "csrf check failed"
    );
    if wants_json {
        return AppError::CsrfFailed.into_response();
    }
    // A form post: back to the page, with a message, to try again with a fresh token.
    let jar = SignedCookieJar::new(state.settings.cookie_key.clone());
    let jar = flash::push(
        jar,
        &state.settings,
        FlashKind::Error,
        "That form had expired. Please try again.",
    );
    let mut response = (jar, StatusCode::SEE_OTHER).into_response();
    if let Ok(value) = HeaderValue::from_str(&back_to(headers)) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, value: &str) -> String {
        format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    }

    #[tokio::test]
    async fn the_token_field_of_a_multipart_form_is_found_wherever_it_stands() {
        let body = |parts: &[String]| Bytes::from(format!("{}--B--\r\n", parts.concat()));
        let first = body(&[part("csrf_token", "tok"), part("image", "xx")]);
        assert_eq!(multipart_field("B", first).await.as_deref(), Some("tok"));
        let last = body(&[part("image", "xx"), part("csrf_token", "tok")]);
        assert_eq!(multipart_field("B", last).await.as_deref(), Some("tok"));
        let none = body(&[part("image", "xx"), part("csrf_tokens", "tok")]);
        assert_eq!(multipart_field("B", none).await, None);
        let broken =
            Bytes::from_static(b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"");
        assert_eq!(multipart_field("B", broken).await, None);
        let other_boundary = body(&[part("csrf_token", "tok")]);
        assert_eq!(multipart_field("C", other_boundary).await, None);
    }

    #[test]
    fn multipart_bodies_are_recognised_by_their_boundary() {
        let headers = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, ct.parse().unwrap());
            h
        };
        assert!(matches!(
            body_kind(&headers("multipart/form-data; boundary=xyz")),
            BodyKind::Multipart(b) if b == "xyz"
        ));
        assert!(matches!(
            body_kind(&headers("multipart/form-data")),
            BodyKind::Other
        ));
    }

    #[test]
    fn refused_forms_go_back_only_to_a_page_of_this_host() {
        let headers = |referer: &str| {
            let mut h = HeaderMap::new();
            h.insert(HOST, "127.0.0.1:8080".parse().unwrap());
            h.insert(REFERER, referer.parse().unwrap());
            h
        };
        assert_eq!(
            back_to(&headers(
                "http://127.0.0.1:8080/auth/sign-in?next=%2Faccount"
            )),
            "/auth/sign-in?next=%2Faccount"
        );
        for elsewhere in [
            "https://evil.example/auth/sign-in",
            "http://127.0.0.1:9999/account",
            "/relative",
            "javascript:alert(1)",
        ] {
            assert_eq!(back_to(&headers(elsewhere)), "/", "{elsewhere}");
        }
        assert_eq!(back_to(&HeaderMap::new()), "/");
    }

    #[test]
    fn cross_site_signals() {
        let mut h = HeaderMap::new();
        h.insert(HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(!cross_site(&h));
        h.insert(ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(!cross_site(&h));
        h.insert(ORIGIN, "http://evil.example".parse().unwrap());
        assert!(cross_site(&h));
        h.insert(ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(cross_site(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(!cross_site(&h));
    }

    #[test]
    fn the_token_field_is_read_from_json_and_form_bodies() {
        let json = br#"{"email":"a@b.org","nested":{"csrf_token":"N"},"csrf_token":"T"}"#;
        assert_eq!(body_field(&BodyKind::Json, json).as_deref(), Some("T"));
        assert_eq!(body_field(&BodyKind::Json, br#"{"email":"a@b.org"}"#), None);
        assert_eq!(body_field(&BodyKind::Json, br#"{"csrf_token":5}"#), None);
        assert_eq!(body_field(&BodyKind::Json, b"[1,2]"), None);
        let form = b"email=a%40b.org&csrf_token=T%2B";
        assert_eq!(body_field(&BodyKind::Form, form).as_deref(), Some("T+"));
        assert_eq!(body_field(&BodyKind::Other, b"csrf_token=T"), None);
    }
}

//! Security headers on every response: pages, API, static files and errors alike.
//!
//! The CSP allows scripts only from our origin or carrying this response's nonce; no inline
//! styles, no plugins, no framing, no `<base>`, forms only to ourselves. Violations are
//! reported to `/api/csp-report`. `X-XSS-Protection` is `0`: current OWASP guidance, since the
//! legacy filter can itself be abused and a strict CSP does its job.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS, X_XSS_PROTECTION,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::state::HttpSettings;

/// Every powerful feature is denied to all, but the location and the camera for this origin's
/// own pages (the identify page's "Use my current location", the worker page's "Scan the
/// visitor's code"; each asked only when pressed).
const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(self), geolocation=(self), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

pub(crate) fn apply(headers: &mut HeaderMap, nonce: &str, settings: &HttpSettings, api: bool) {
    // Pages and API answers are never cached; static files set their own (long) lifetime, and
    // a person's own photos may stay in their browser's private cache (`journal_api`).
    let own_photo = headers
        .get(CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"private,"));
    let no_store = (api && !own_photo) || !headers.contains_key(CACHE_CONTROL);
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(CONTENT_SECURITY_POLICY, &settings.csp.with_nonce(nonce));
    set(
        HeaderName::from_static("reporting-endpoints"),
        "csp=\"/api/csp-report\"",
    );
    set(X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(X_FRAME_OPTIONS, "DENY");
    set(REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(X_XSS_PROTECTION, "0");
    if settings.production {
        set(
            STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    if no_store {
        set(CACHE_CONTROL, "no-store");
    }
}

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

/// The policy for a response with this nonce.
pub(crate) fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'; report-uri /api/csp-report; report-to csp"
    )
}

const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

pub(crate) fn apply(headers: &mut HeaderMap, nonce: &str, settings: &HttpSettings, api: bool) {
    // Pages and API answers are never cached; static files set their own (long) lifetime.
    let no_store = api || !headers.contains_key(CACHE_CONTROL);
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(CONTENT_SECURITY_POLICY, &content_security_policy(nonce));
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

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
use crate::{CorsPolicy, InvalidOrigin};

/// The Content-Security-Policy of every response, but for its nonce: built once at start,
/// so that `img-src` can name the configured map tile origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSecurityPolicy {
    /// Everything after the nonce (the part before it, [`HEAD`], never changes).
    tail: String,
}

/// Everything before the nonce.
const HEAD: &str = "default-src 'self'; script-src 'self' 'nonce-";

impl ContentSecurityPolicy {
    /// The policy whose `img-src` allows this origin, `data:`, `blob:` and the map tile
    /// `origins` (normalised as [`CorsPolicy`] does, duplicates dropped),
    /// and nothing else.
    ///
    /// # Errors
    /// [`InvalidOrigin`] for anything but `http(s)://host[:port]`: a path, a wildcard, a
    /// quote or a `;` could widen the policy, so they are refused rather than passed on.
    pub fn new<'a>(
        map_tile_origins: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, InvalidOrigin> {
        Ok(Self::allowing_images_from(&CorsPolicy::new(
            map_tile_origins,
        )?))
    }

    fn allowing_images_from(tiles: &CorsPolicy) -> Self {
        let mut img_src = String::from("'self' data: blob:");
        for origin in tiles.origins() {
            img_src.push(' ');
            img_src.push_str(origin);
        }
        Self {
            tail: format!(
                "'; style-src 'self'; img-src {img_src}; font-src 'self'; connect-src 'self'; \
                 object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; \
                 report-uri /api/csp-report; report-to csp"
            ),
        }
    }

    /// The policy of a response with this nonce.
    pub(crate) fn with_nonce(&self, nonce: &str) -> String {
        let mut policy = String::with_capacity(HEAD.len() + nonce.len() + self.tail.len());
        policy.push_str(HEAD);
        policy.push_str(nonce);
        policy.push_str(&self.tail);
        policy
    }
}

impl Default for ContentSecurityPolicy {
    /// The policy without map tile origins.
    fn default() -> Self {
        Self::allowing_images_from(&CorsPolicy::default())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_come_only_from_here_and_the_map_tile_origins() {
        let plain = ContentSecurityPolicy::default().with_nonce("n0nce");
        assert!(
            plain.contains("script-src 'self' 'nonce-n0nce';"),
            "{plain}"
        );
        assert!(plain.contains("; img-src 'self' data: blob:;"), "{plain}");

        let tiles = ContentSecurityPolicy::new([
            "https://Tiles.example.org/",
            "https://tiles.example.org:443",
            "http://localhost:8081",
        ])
        .unwrap()
        .with_nonce("n0nce");
        assert!(
            tiles.contains(
                "; img-src 'self' data: blob: http://localhost:8081 https://tiles.example.org;"
            ),
            "{tiles}"
        );
    }

    #[test]
    fn a_tile_origin_cannot_widen_the_policy() {
        for bad in [
            "https://tiles.example.org; script-src *",
            "https://*.example.org",
            "*",
            "https://tiles.example.org/path",
            "https://tiles.example.org 'unsafe-inline'",
            "tiles.example.org",
            "data:",
        ] {
            assert!(ContentSecurityPolicy::new([bad]).is_err(), "{bad} accepted");
        }
    }
}

//! One-shot messages shown on the next page ("Signed out", "Check your mail"), carried in a
//! short-lived cookie signed with the server key so that nobody can plant text in our pages.

use axum_extra::extract::SignedCookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::state::HttpSettings;

const MAX_FLASHES: usize = 3;
const MAX_CHARS: usize = 300;

/// How a message is styled and announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlashKind {
    /// Neutral information.
    Info,
    /// Something worked.
    Success,
    /// Something failed.
    Error,
}

impl FlashKind {
    /// CSS class suffix and ARIA semantics.
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Info => "info",
            FlashKind::Success => "success",
            FlashKind::Error => "error",
        }
    }

    /// Errors interrupt screen readers; the rest waits politely.
    pub fn role(self) -> &'static str {
        match self {
            FlashKind::Error => "alert",
            FlashKind::Info | FlashKind::Success => "status",
        }
    }
}

/// A message for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Kind.
    pub kind: FlashKind,
    /// Text (escaped when rendered).
    pub message: String,
}

fn cookie_name(settings: &HttpSettings) -> &'static str {
    if settings.secure_cookies {
        "__Host-wildid-flash"
    } else {
        "wildid-flash"
    }
}

fn decode(value: &str) -> Vec<Flash> {
    URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<Flash>>(&bytes).ok())
        .unwrap_or_default()
}

/// Adds a message for the next page (at most three are kept).
#[allow(dead_code)] // Used by the form flows that follow the foundation.
pub(crate) fn push(
    jar: SignedCookieJar,
    settings: &HttpSettings,
    kind: FlashKind,
    message: &str,
) -> SignedCookieJar {
    let name = cookie_name(settings);
    let mut flashes = jar.get(name).map(|c| decode(c.value())).unwrap_or_default();
    flashes.push(Flash {
        kind,
        message: message.chars().take(MAX_CHARS).collect(),
    });
    let keep = flashes.len().saturating_sub(MAX_FLASHES);
    let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&flashes[keep..]).unwrap_or_default());
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(time_minutes(5));
    jar.add(cookie)
}

/// Takes the pending messages; the returned jar deletes the cookie.
pub(crate) fn take(jar: SignedCookieJar, settings: &HttpSettings) -> (SignedCookieJar, Vec<Flash>) {
    let name = cookie_name(settings);
    match jar.get(name) {
        Some(cookie) => {
            let flashes = decode(cookie.value());
            let removal = Cookie::build((name, ""))
                .path("/")
                .secure(settings.secure_cookies);
            (jar.remove(removal), flashes)
        }
        None => (jar, Vec::new()),
    }
}

fn time_minutes(m: i64) -> cookie::time::Duration {
    cookie::time::Duration::minutes(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum_extra::extract::cookie::Key;

    fn settings() -> HttpSettings {
        HttpSettings {
            production: false,
            secure_cookies: true,
            cookie_key: Key::from(&[7u8; 64]),
            trusted_proxies: Vec::new(),
            allowed_hosts: crate::HostAllowlist::new(["localhost"]).unwrap(),
            cors: crate::CorsPolicy::default(),
            csp: crate::ContentSecurityPolicy::default(),
            map_tiles: crate::state::MapTiles::default(),
            public_url: "http://localhost".into(),
            session_lifetime_seconds: 3600,
            totp_required_roles: Vec::new(),
            max_upload_bytes: crate::routes::DEFAULT_UPLOAD_LIMIT,
            effective: Vec::new(),
        }
    }

    #[test]
    fn round_trip_and_tampering() {
        let s = settings();
        let jar = SignedCookieJar::new(s.cookie_key.clone());
        let jar = push(jar, &s, FlashKind::Success, "Signed out.");
        let jar = push(jar, &s, FlashKind::Error, "<b>bad</b>");
        let cookie = jar.get("__Host-wildid-flash").unwrap();
        let (_, flashes) = take(jar, &s);
        assert_eq!(flashes.len(), 2);
        assert_eq!(
            flashes[1].message, "<b>bad</b>",
            "escaping is the template's job"
        );

        let _ = cookie;
        // A cookie the server did not sign is ignored: nobody can plant text in our pages.
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&vec![Flash {
                kind: FlashKind::Info,
                message: "Call +1 555 scam".into(),
            }])
            .unwrap(),
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            format!("__Host-wildid-flash={forged}").parse().unwrap(),
        );
        let (_, none) = take(
            SignedCookieJar::from_headers(&headers, s.cookie_key.clone()),
            &s,
        );
        assert!(none.is_empty());
    }
}

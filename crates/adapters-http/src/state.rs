//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use wildid_ports::random::SecureRandom;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::readiness::ReadinessCheck;

/// The use cases the HTTP layer calls.
pub struct Services {
    /// `/readyz`.
    pub readiness: ReadinessCheck,
    /// Security events.
    pub audit: AuditTrail,
}

/// HTTP-level settings, read once by the composition root.
pub struct HttpSettings {
    /// Production mode: HSTS and strict cookies.
    pub production: bool,
    /// Whether cookies carry `Secure` (and the `__Host-` prefix).
    pub secure_cookies: bool,
    /// Signs flash cookies (derived from the session key).
    pub cookie_key: Key,
}

/// Shared state of the router.
#[derive(Clone)]
pub struct AppState {
    /// Use cases.
    pub services: Arc<Services>,
    /// Settings.
    pub settings: Arc<HttpSettings>,
    /// CSPRNG for request ids and CSP nonces.
    pub random: Arc<dyn SecureRandom>,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.settings.cookie_key.clone()
    }
}

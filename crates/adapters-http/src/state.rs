//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use wildid_domain::captcha::CaptchaKind;
use wildid_domain::trust::RateLimitPolicy;
use wildid_ports::random::SecureRandom;
use wildid_ports::services::accounts::Accounts;
use wildid_ports::services::admin::Admin;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::readiness::ReadinessCheck;
use wildid_ports::services::sessions::SessionService;

/// The use cases the HTTP layer calls.
pub struct Services {
    /// `/readyz`.
    pub readiness: ReadinessCheck,
    /// Security events.
    pub audit: AuditTrail,
    /// Sessions.
    pub sessions: SessionService,
    /// Accounts and sign-in.
    pub accounts: Accounts,
    /// Administration of accounts.
    pub admin: Admin,
}

/// HTTP-level settings, read once by the composition root.
pub struct HttpSettings {
    /// Production mode: HSTS and strict cookies.
    pub production: bool,
    /// Whether cookies carry `Secure` (and the `__Host-` prefix).
    pub secure_cookies: bool,
    /// Signs flash cookies (derived from the session key).
    pub cookie_key: Key,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `Max-Age` of the cookie of a signed-in session (its absolute lifetime).
    pub session_lifetime_seconds: i64,
    /// The adaptive limit of identifications (reported by `/api/security/status`).
    pub rate_limit: RateLimitPolicy,
    /// The CAPTCHA kind in use, `None` when CAPTCHAs are disabled.
    pub captcha: Option<CaptchaKind>,
    /// Roles that must enrol a second factor before reaching worker and admin routes.
    pub totp_required_roles: Vec<wildid_domain::role::Role>,
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

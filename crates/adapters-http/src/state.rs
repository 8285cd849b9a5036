//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;

use crate::middleware::cors::CorsPolicy;
use crate::middleware::csp::ContentSecurityPolicy;
use crate::middleware::hosts::HostAllowlist;
use wildid_ports::identify::ProviderMonitor;
use wildid_ports::random::SecureRandom;
use wildid_ports::services::accounts::Accounts;
use wildid_ports::services::admin::Admin;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::captcha::Captchas;
use wildid_ports::services::identify::Identifications;
use wildid_ports::services::journal::Journal;
use wildid_ports::services::limits::RequestLimits;
use wildid_ports::services::readiness::ReadinessCheck;
use wildid_ports::services::reencryption::Reencryption;
use wildid_ports::services::sessions::SessionService;
use wildid_ports::services::sign_ins::SignIns;
use wildid_ports::services::trust::TrustGate;
use wildid_ports::services::visits::{Bookings, Catalogue, Exposures, VisitRetention};

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
    /// Finishing a sign-in: the credential checked, the session id replaced.
    pub sign_ins: SignIns,
    /// Administration of accounts.
    pub admin: Admin,
    /// CAPTCHAs and the trust they grant.
    pub captchas: Captchas,
    /// General request limits per route group.
    pub limits: RequestLimits,
    /// The adaptive limit on identifications (its policy is reported by the status API).
    pub trust: TrustGate,
    /// Identifying the animal in a photo (behind the same `trust` gate).
    pub identify: Identifications,
    /// Each signed-in person's field journal.
    pub journal: Journal,
    /// The sites and kinds of visit that can be booked.
    pub catalogue: Catalogue,
    /// Visitors' bookings and the workers' queue.
    pub bookings: Bookings,
    /// Exposure reports and the notifications they cause.
    pub exposures: Exposures,
    /// The retention purge of visit data (admins may run it at once).
    pub retention: VisitRetention,
    /// Re-encryption under the newest key (its progress is shown to admins).
    pub keys: Reencryption,
    /// The identification providers' recent health (shown to admins).
    pub providers: Arc<dyn ProviderMonitor>,
}

/// Where the sightings maps take their background from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapTiles {
    /// A tile URL template (`https://tile.example.org/{z}/{x}/{y}.png`) on one of the
    /// configured tile origins; empty: the built-in outline of the world.
    pub url: String,
    /// The attribution the tile server asks for (plain text).
    pub attribution: String,
}

/// One group of the effective configuration, as `/admin` shows it and `wildid config check`
/// prints it: labelled values in order. Secrets are never among the values (only whether each
/// is set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsSection {
    /// The group, as a heading (`Sessions and sign-in`).
    pub name: String,
    /// (label, value) pairs.
    pub rows: Vec<(String, String)>,
}

/// HTTP-level settings, read once by the composition root.
pub struct HttpSettings {
    /// Production mode: HSTS and strict cookies.
    pub production: bool,
    /// Whether cookies carry `Secure` (and the `__Host-` prefix).
    pub secure_cookies: bool,
    /// Signs flash cookies (derived from the session key).
    pub cookie_key: Key,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The host names this server answers for; other `Host`s get 400.
    pub allowed_hosts: HostAllowlist,
    /// Origins whose scripts may call `/api/*` with credentials.
    pub cors: CorsPolicy,
    /// The Content-Security-Policy of every response (its `img-src` names the map tile
    /// origins).
    pub csp: ContentSecurityPolicy,
    /// The sightings maps' background.
    pub map_tiles: MapTiles,
    /// Scheme and host (and port) of the public site, without a trailing slash: where links
    /// in mail and the production redirect to HTTPS point.
    pub public_url: String,
    /// `Max-Age` of the cookie of a signed-in session (its absolute lifetime).
    pub session_lifetime_seconds: i64,
    /// Roles that must enrol a second factor before reaching worker and admin routes.
    pub totp_required_roles: Vec<wildid_domain::role::Role>,
    /// Largest request body of the upload routes (`RouteSpec::upload` in the route table); every other
    /// route keeps `routes::body_limit::DEFAULT_BODY_LIMIT`.
    pub max_upload_bytes: usize,
    /// The effective configuration, for admins to read on `/admin`.
    pub effective: Vec<SettingsSection>,
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
    /// Journal pages already rendered, per person and journal version.
    pub journal_pages: Arc<crate::JournalPages>,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.settings.cookie_key.clone()
    }
}

//! The composition root: builds every adapter from the settings and secrets, hands the ports to
//! the use cases and the use cases to the HTTP adapter. The only place that knows which
//! implementation stands behind each port.

use std::sync::Arc;

use axum::Router;
use axum_extra::extract::cookie::Key;
use wildid_adapters_db::Database;
use wildid_adapters_http::{AppState, HttpSettings, Services};
use wildid_ports::builtin::{OsRandom, derive_key};
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::readiness::ReadinessCheck;

use crate::config::Settings;
use crate::secrets::Secrets;

/// Everything `serve` needs.
pub struct Composed {
    /// The HTTP application.
    pub router: Router,
    /// The audit trail (for start and stop events).
    pub audit: AuditTrail,
}

/// Whether cookies can be `Secure`: always in production (TLS is required there); in
/// development when the server is reached on a loopback address, which browsers treat as
/// secure even over plain http.
pub fn secure_cookies(settings: &Settings) -> bool {
    settings.production() || settings.bind.ip().is_loopback()
}

/// Wires the application.
pub fn compose(settings: &Settings, secrets: &Secrets, db: &Arc<Database>) -> Composed {
    let audit = AuditTrail::new(db.audit_log());
    let services = Services {
        readiness: ReadinessCheck::new(db.health()),
        audit: audit.clone(),
    };
    let cookie_key = Key::from(derive_key(&secrets.session_key, "flash-cookie").expose());
    let http = HttpSettings {
        production: settings.production(),
        secure_cookies: secure_cookies(settings),
        cookie_key,
    };
    let state = AppState {
        services: Arc::new(services),
        settings: Arc::new(http),
        random: Arc::new(OsRandom),
    };
    Composed {
        router: wildid_adapters_http::router(state),
        audit,
    }
}

//! The composition root: builds every adapter from the settings and secrets, hands the ports to
//! the use cases and the use cases to the HTTP adapter. The only place that knows which
//! implementation stands behind each port.

mod identification;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum_extra::extract::cookie::Key;
use wildid_adapters_db::Database;
use wildid_adapters_http::{
    AppState, ContentSecurityPolicy, CorsPolicy, HostAllowlist, HttpSettings, Services,
};
use wildid_adapters_mail::{FileOutbox, SmtpMailer};
use wildid_domain::pow::PowKey;
use wildid_ports::builtin::{
    Argon2Hasher, FernetKeyRing, HmacDigest, MemoryRateLimits, OsRandom, SystemClock,
    ZxcvbnEstimator, derive_key,
};
use wildid_ports::clock::Clock;
use wildid_ports::crypto::{EmailIndex, FieldCipher, KeyedDigest};
use wildid_ports::mail::Mailer;
use wildid_ports::random::{SecureRandom, random_array};
use wildid_ports::services::accounts::{AccountPorts, Accounts};
use wildid_ports::services::admin::Admin;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::captcha::{CaptchaPorts, CaptchaSettings, Captchas};
use wildid_ports::services::journal::Journal;
use wildid_ports::services::limits::RequestLimits;
use wildid_ports::services::mail::MailQueue;
use wildid_ports::services::readiness::ReadinessCheck;
use wildid_ports::services::reencryption::{Reencryption, ReencryptionPorts};
use wildid_ports::services::sessions::SessionService;
use wildid_ports::services::sign_ins::SignIns;
use wildid_ports::services::trust::TrustGate;
use wildid_ports::services::visits::{
    BookingPorts, Bookings, Catalogue, ExposurePorts, Exposures, RetentionPorts, VisitRetention,
};

use crate::config::{MailTransport, Settings};
use crate::jobs::Jobs;
use crate::secrets::Secrets;
use identification::identifications;
pub use identification::local_model;

/// Everything `serve` needs.
pub struct Composed {
    /// The HTTP application.
    pub router: Router,
    /// The audit trail (for start and stop events).
    pub audit: AuditTrail,
    /// The periodic jobs.
    pub jobs: Jobs,
}

/// Whether cookies can be `Secure`: always in production (TLS is required there); in
/// development when the server is reached on a loopback address, which browsers treat as
/// secure even over plain http.
pub fn secure_cookies(settings: &Settings) -> bool {
    settings.production() || settings.bind.ip().is_loopback()
}

/// Wires the application. `address` is where the server listens (the public URL in
/// development when none is configured).
///
/// # Errors
/// A message when a secret cannot build its component (validated earlier, so unexpected).
pub fn compose(
    settings: &Settings,
    secrets: &Secrets,
    db: &Arc<Database>,
    address: SocketAddr,
) -> Result<Composed, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    let cipher: Arc<dyn FieldCipher> =
        Arc::new(FernetKeyRing::new(&secrets.fernet_keys).map_err(|e| e.to_string())?);
    let audit = AuditTrail::new(db.audit_log()).with_clock(Arc::clone(&clock));
    let counter_keys: Arc<dyn KeyedDigest> = Arc::new(HmacDigest::new(derive_key(
        &secrets.session_key,
        "counter-keys",
    )));
    let sessions = SessionService::new(
        db.sessions(),
        db.users(),
        audit.clone(),
        Arc::clone(&clock),
        Arc::clone(&random),
        settings.session_policy,
    )
    .with_anonymous_cap(
        db.rate_limits(),
        Arc::clone(&counter_keys),
        settings.anonymous_sessions_per_hour,
    );
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let (accounts, mail) = accounts(settings, secrets, db, &public_url)?;
    let email_index: Arc<dyn EmailIndex> = Arc::new(secrets.email_index()?);
    let admin = Admin::new(
        db.users(),
        db.sessions(),
        Arc::clone(&cipher),
        email_index,
        audit.clone(),
        Arc::clone(&clock),
    );
    let captcha_key = derive_key(&secrets.session_key, "captcha-pow");
    let pow_key = PowKey::from_bytes(
        captcha_key
            .expose()
            .as_slice()
            .try_into()
            .map_err(|_| "the derived CAPTCHA key is not 64 bytes".to_owned())?,
    );
    let captchas = Captchas::new(
        CaptchaPorts {
            captchas: db.captchas(),
            sessions: db.sessions(),
            audit: audit.clone(),
            clock: Arc::clone(&clock),
            random: Arc::clone(&random),
        },
        settings.captcha.map(|kind| CaptchaSettings {
            kind,
            policy: settings.captcha_policy,
            pow_key: pow_key.clone(),
            pow_max_number: settings.captcha_pow_max_number,
            limit: settings.rate_limit,
        }),
    );
    let trust = TrustGate::new(
        db.sessions(),
        db.rate_limits(),
        Arc::clone(&counter_keys),
        Arc::clone(&clock),
        settings.rate_limit,
    );
    let journal = Journal::new(
        db.identifications(),
        audit.clone(),
        Arc::clone(&clock),
        Arc::clone(&random),
        Arc::clone(&counter_keys),
        settings.journal,
    );
    let holder = lease_holder(random.as_ref())?;
    let retention = visit_retention(db, &audit, &clock, settings, &holder);
    let keys = reencryption(db, &audit, &clock, Arc::clone(&cipher), &holder);
    let (identify, providers) = identifications(
        settings,
        trust.clone(),
        db.held_photos(),
        audit.clone(),
        Arc::clone(&clock),
    )?;
    let services = Services {
        readiness: ReadinessCheck::new(db.health()),
        audit: audit.clone(),
        sessions: sessions.clone(),
        sign_ins: SignIns::new(accounts.clone(), sessions.clone()),
        accounts,
        admin,
        captchas: captchas.clone(),
        limits: RequestLimits::new(
            db.rate_limits(),
            Arc::new(MemoryRateLimits::default()),
            Arc::clone(&counter_keys),
            Arc::clone(&clock),
            settings.request_limits.clone(),
        ),
        trust: trust.clone(),
        identify: identify.with_journal(journal.clone()),
        providers,
        journal,
        catalogue: Catalogue::new(
            db.sites(),
            db.service_types(),
            audit.clone(),
            Arc::clone(&clock),
            Arc::clone(&random),
        ),
        bookings: Bookings::new(BookingPorts {
            bookings: db.bookings(),
            sites: db.sites(),
            services: db.service_types(),
            users: db.users(),
            audit: audit.clone(),
            clock: Arc::clone(&clock),
            random: Arc::clone(&random),
            cipher: Arc::clone(&cipher),
            digest: Arc::clone(&counter_keys),
        }),
        exposures: Exposures::new(ExposurePorts {
            mappings: db.visit_mappings(),
            reports: db.exposure_reports(),
            notifications: db.notifications(),
            sites: db.sites(),
            audit: audit.clone(),
            clock: Arc::clone(&clock),
            random: Arc::clone(&random),
            cipher: Arc::clone(&cipher),
        }),
        retention: retention.clone(),
        keys: keys.clone(),
    };
    let cookie_key = Key::from(derive_key(&secrets.session_key, "flash-cookie").expose());
    // The public URL's host and origin are always allowed (seed §13).
    let public_host = public_url.split_once("://").map_or("", |(_, host)| host);
    let allowed_hosts = HostAllowlist::new(
        settings
            .allowed_hosts
            .iter()
            .map(String::as_str)
            .chain([public_host]),
    )
    .map_err(|e| format!("WILDID_PUBLIC_URL: {e}"))?;
    let cors = CorsPolicy::new(
        settings
            .cors_origins
            .iter()
            .map(String::as_str)
            .chain([public_url.as_str()]),
    )
    .map_err(|e| format!("WILDID_PUBLIC_URL: {e}"))?;
    let csp = ContentSecurityPolicy::new(settings.map_tile_origins.iter().map(String::as_str))
        .map_err(|e| format!("WILDID_MAP_TILE_ORIGINS: {e}"))?;
    let http = HttpSettings {
        production: settings.production(),
        secure_cookies: secure_cookies(settings),
        cookie_key,
        trusted_proxies: settings.trusted_proxies.clone(),
        allowed_hosts,
        cors,
        csp,
        map_tiles: settings.map_tiles.clone(),
        public_url,
        session_lifetime_seconds: settings.session_policy.absolute_lifetime().num_seconds(),
        totp_required_roles: settings.totp_required_roles.clone(),
        max_upload_bytes: settings.max_upload_bytes,
        effective: crate::settings_sheet::sections(settings, &crate::settings_sheet::described),
    };
    let state = AppState {
        services: Arc::new(services),
        settings: Arc::new(http),
        random,
        journal_pages: Arc::new(wildid_adapters_http::JournalPages::default()),
    };
    let jobs = Jobs {
        sessions,
        rate_limits: db.rate_limits(),
        tokens: db.login_tokens(),
        held_photos: db.held_photos(),
        captchas,
        accounts: db.users(),
        audit: audit.clone(),
        mail,
        visits: retention,
        keys,
        clock,
    };
    Ok(Composed {
        router: wildid_adapters_http::router(state),
        audit,
        jobs,
    })
}

/// A name for this process in job leases: its process id and 64 random bits (process ids
/// repeat across machines).
///
/// # Errors
/// When the operating system's random source fails.
pub fn lease_holder(random: &dyn SecureRandom) -> Result<String, String> {
    let tag: [u8; 8] = random_array(random).map_err(|e| e.to_string())?;
    Ok(format!(
        "pid-{}-{}",
        std::process::id(),
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// The retention purge, its lease held as `holder`.
pub fn visit_retention(
    db: &Arc<Database>,
    audit: &AuditTrail,
    clock: &Arc<dyn Clock>,
    settings: &Settings,
    holder: &str,
) -> VisitRetention {
    VisitRetention::new(
        RetentionPorts {
            bookings: db.bookings(),
            mappings: db.visit_mappings(),
            notifications: db.notifications(),
            leases: db.job_leases(),
            audit: audit.clone(),
            clock: Arc::clone(clock),
        },
        settings.retention,
        holder,
    )
}

/// Re-encryption under the newest key of `cipher`, its lease held as `holder`.
pub fn reencryption(
    db: &Arc<Database>,
    audit: &AuditTrail,
    clock: &Arc<dyn Clock>,
    cipher: Arc<dyn FieldCipher>,
    holder: &str,
) -> Reencryption {
    Reencryption::new(
        ReencryptionPorts {
            sealed: db.sealed_values(),
            cipher,
            leases: db.job_leases(),
            audit: audit.clone(),
            clock: Arc::clone(clock),
        },
        holder,
    )
}

/// The account use cases over `db`, with the mail queue their messages go through; the links
/// in mail lead to `public_url`. Also used by the commands that act on accounts.
///
/// # Errors
/// A message when a secret or the mail settings cannot build their component.
pub fn accounts(
    settings: &Settings,
    secrets: &Secrets,
    db: &Arc<Database>,
    public_url: &str,
) -> Result<(Accounts, MailQueue), String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    let cipher: Arc<dyn FieldCipher> =
        Arc::new(FernetKeyRing::new(&secrets.fernet_keys).map_err(|e| e.to_string())?);
    let mailer: Arc<dyn Mailer> = match &settings.mail_transport {
        MailTransport::Outbox => Arc::new(FileOutbox::new(
            settings.data_dir.join("outbox"),
            settings.mail_from.clone(),
            Arc::clone(&random),
            Arc::clone(&clock),
        )),
        MailTransport::Smtp(smtp) => Arc::new(
            SmtpMailer::new(smtp, settings.mail_from.clone(), Arc::clone(&random))
                .map_err(|e| e.to_string())?,
        ),
    };
    let mail = MailQueue::new(
        db.mail_outbox(),
        Arc::clone(&cipher),
        mailer,
        Arc::clone(&clock),
        Arc::clone(&random),
    );
    let (memory, iterations, lanes) = settings.argon2;
    let lanes_available =
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let hasher =
        Argon2Hasher::new(memory, iterations, lanes, lanes_available).map_err(|e| e.to_string())?;
    let ports = AccountPorts {
        users: db.users(),
        tokens: db.login_tokens(),
        rate_limits: db.rate_limits(),
        recovery_codes: db.recovery_codes(),
        hasher: Arc::new(hasher),
        strength: Arc::new(ZxcvbnEstimator),
        email_index: Arc::new(secrets.email_index()?),
        digest: Arc::new(HmacDigest::new(derive_key(
            &secrets.session_key,
            "counter-keys",
        ))),
        cipher,
        mail: mail.clone(),
        audit: AuditTrail::new(db.audit_log()),
        clock,
        random,
    };
    let accounts = Accounts::new(
        ports,
        settings.accounts.clone(),
        wildid_adapters_http::account_links(public_url),
    );
    Ok((accounts, mail))
}

//! Configuration: defaults, then an optional TOML file, then environment variables
//! (`WILDID_*` and `DATABASE_URL`), then command-line flags. Read once, validated once, passed
//! down as plain values: nothing reads the environment later. Every setting is documented in
//! `docs/configuration.md`.

mod ai;
mod journal;
mod retention;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use wildid_adapters_db::DatabaseUrl;
use wildid_adapters_mail::{Sender, SmtpSecurity, SmtpSettings};
use wildid_domain::captcha::{CaptchaKind, CaptchaPolicy};
use wildid_domain::lockout::LockoutPolicy;
use wildid_domain::rate_limit::RateLimit;
use wildid_domain::role::Role;
use wildid_domain::secret::SecretString;
use wildid_domain::session::SessionPolicy;
use wildid_domain::token::TokenPolicy;
use wildid_domain::trust::RateLimitPolicy;
use wildid_ports::services::accounts::{AccountPolicy, nonzero};
use wildid_ports::services::limits::RouteGroup;

pub use ai::{Identification, Provider};
use wildid_adapters_ai::ClamdAddress;
use wildid_ports::services::journal::JournalSettings;

/// Environment variables read (besides `DATABASE_URL`), without the `WILDID_` prefix.
const KEYS: &[&str] = &[
    "ENV",
    "BIND",
    "DATA_DIR",
    "DB_MAX_CONNECTIONS",
    "LOG",
    "LOG_FORMAT",
    "MAIL_FROM",
    "SHUTDOWN_GRACE_SECONDS",
    "SESSION_KEY",
    "SESSION_KEY_FILE",
    "FERNET_KEYS",
    "FERNET_KEYS_FILE",
    "EMAIL_PEPPER",
    "EMAIL_PEPPER_FILE",
    "TRUSTED_PROXIES",
    "ALLOWED_HOSTS",
    "CORS_ALLOWED_ORIGINS",
    "MAP_TILE_ORIGINS",
    "SESSION_IDLE_MINUTES",
    "SESSION_LIFETIME_HOURS",
    "RATE_LIMIT_THRESHOLD",
    "RATE_LIMIT_WINDOW",
    "RATE_LIMIT_NETWORK_THRESHOLD",
    "RATE_LIMIT_IP_CEILING",
    "CAPTCHA_KIND",
    "CAPTCHA_TTL_SECONDS",
    "CAPTCHA_POW_MAX_NUMBER",
    "LIMIT_SIGN_IN",
    "LIMIT_CAPTCHA",
    "LIMIT_REPORTS",
    "LIMIT_DEFAULT",
    "ANONYMOUS_SESSIONS_PER_HOUR",
    "PUBLIC_URL",
    "ARGON2_MEMORY_KIB",
    "ARGON2_ITERATIONS",
    "ARGON2_PARALLELISM",
    "LOCKOUT_ATTEMPTS",
    "LOCKOUT_MINUTES",
    "MAGIC_LINK_MINUTES",
    "VERIFICATION_LINK_HOURS",
    "LOGIN_ATTEMPTS_PER_MINUTE",
    "MAIL_PER_ADDRESS_PER_HOUR",
    "MAIL_PER_IP_PER_HOUR",
    "TOTP_REQUIRED_ROLES",
    "MAIL_TRANSPORT",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_PASSWORD_FILE",
    "SMTP_CA_FILE",
    "LIMIT_IDENTIFY",
    "AI_PROVIDER",
    "AI_BASE_URL",
    "AI_MODEL",
    "AI_API_KEY",
    "AI_API_KEY_FILE",
    "AI_TIMEOUT_SECONDS",
    "AI_MODEL_PATH",
    "AI_FALLBACK",
    "AI_RETRIES",
    "AI_BREAKER_FAILURES",
    "AI_BREAKER_COOLDOWN_SECONDS",
    "AI_RESPONSE_FORMAT",
    "AI_OPENAI_API_KEY",
    "AI_OPENAI_API_KEY_FILE",
    "AI_TOGETHER_API_KEY",
    "AI_TOGETHER_API_KEY_FILE",
    "MAX_UPLOAD_BYTES",
    "CLAMD",
    "CLAMD_TIMEOUT_SECONDS",
    "JOURNAL_PHOTO_MAX_BYTES",
    "JOURNAL_ALLOWANCE_BYTES",
    "GEOPRIVACY_OBSCURE_FROM",
    "MAP_TILE_URL",
    "MAP_ATTRIBUTION",
    "RETENTION_VISIT_DAYS",
    "RETENTION_READ_NOTIFICATION_DAYS",
    "RETENTION_SPENT_DAYS",
];

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `.eml` files in `<data dir>/outbox` (the default).
    Outbox,
    /// An SMTP server.
    Smtp(SmtpSettings),
}

/// Development (generated secrets allowed) or production (everything must be given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// The default.
    Development,
    /// `WILDID_ENV=production`.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people (the default).
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The three secrets, as given (still unvalidated).
#[derive(Debug, Default)]
pub struct SecretInputs {
    /// `WILDID_SESSION_KEY`.
    pub session_key: Option<SecretString>,
    /// `WILDID_FERNET_KEYS`.
    pub fernet_keys: Option<SecretString>,
    /// `WILDID_EMAIL_PEPPER`.
    pub email_pepper: Option<SecretString>,
}

/// Validated settings.
#[derive(Debug)]
pub struct Settings {
    /// Development or production.
    pub environment: Environment,
    /// Listening address.
    pub bind: SocketAddr,
    /// Where the server keeps its files.
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseUrl,
    /// Connection pool size.
    pub db_max_connections: usize,
    /// Log filter (`tracing` `EnvFilter` syntax).
    pub log_filter: String,
    /// Log format.
    pub log_format: LogFormat,
    /// `From:` of outgoing mail.
    pub mail_from: Sender,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Secrets as given.
    pub secrets: SecretInputs,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Host names answered (validated); the public URL's host is added at composition.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed to call the API with credentials (validated, normalised); the public
    /// URL's origin is added at composition.
    pub cors_origins: Vec<String>,
    /// Origins the pages may load map tiles (images) from: the CSP's `img-src` names them
    /// (validated, normalised).
    pub map_tile_origins: Vec<String>,
    /// Session timeouts.
    pub session_policy: SessionPolicy,
    /// The adaptive identification limit.
    pub rate_limit: RateLimitPolicy,
    /// The CAPTCHA kind (`None`: disabled).
    pub captcha: Option<CaptchaKind>,
    /// CAPTCHA lifetime and attempts.
    pub captcha_policy: CaptchaPolicy,
    /// Proof of work: upper bound of the secret number (the difficulty).
    pub captcha_pow_max_number: u64,
    /// General request limits per route group (groups not set keep their defaults).
    pub request_limits: BTreeMap<RouteGroup, Vec<RateLimit>>,
    /// New anonymous sessions a client network may start per hour.
    pub anonymous_sessions_per_hour: RateLimit,
    /// Scheme and host (and port) that links in mail point to; `None`: the listening address
    /// (development only).
    pub public_url: Option<String>,
    /// argon2id memory (KiB), iterations and lanes.
    pub argon2: (u32, u32, u32),
    /// Account flows: lockout, throttling, token lifetimes.
    pub accounts: AccountPolicy,
    /// Roles that must enrol a second factor before reaching worker and admin pages.
    pub totp_required_roles: Vec<Role>,
    /// Where outgoing mail goes.
    pub mail_transport: MailTransport,
    /// Who identifies photos: the provider chain, its retries and circuit breakers.
    pub identification: Identification,
    /// Largest photo upload, in bytes.
    pub max_upload_bytes: usize,
    /// The clamd daemon every upload is scanned with, and how long a verdict may take
    /// (`WILDID_CLAMD`; `None`: no scan).
    pub clamd: Option<(ClamdAddress, Duration)>,
    /// The field journal: photo sizes, each person's allowance, geoprivacy.
    pub journal: JournalSettings,
    /// The sightings maps' background.
    pub map_tiles: wildid_adapters_http::MapTiles,
    /// How long visit data and read notifications are kept.
    pub retention: wildid_domain::retention::RetentionPolicy,
}

impl Settings {
    /// Whether this is a production deployment.
    pub fn production(&self) -> bool {
        self.environment == Environment::Production
    }
}

/// A setting is missing, malformed or contradictory. Messages name the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value does not parse.
    #[error("{var} is invalid: {why}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong and what is expected.
        why: String,
    },
    /// `DATABASE_URL` is unusable (the message names the variable).
    #[error(transparent)]
    Database(wildid_adapters_db::DatabaseUrlError),
    /// The configuration file could not be read or has unknown keys.
    #[error("configuration: {0}")]
    File(String),
    /// A required secret is absent (production).
    #[error(
        "{var} is not set, and production mode does not generate secrets; create them with `wildid keys generate`"
    )]
    MissingSecret {
        /// The variable.
        var: &'static str,
    },
    /// A secret does not have the expected form.
    #[error("{var} is malformed: {why}; `wildid keys generate` prints valid values")]
    MalformedSecret {
        /// The variable.
        var: &'static str,
        /// Expected form.
        why: &'static str,
    },
    /// Reading or writing the secrets file failed.
    #[error("{0}")]
    Io(String),
}

/// Flags given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`.
    pub config_file: Option<PathBuf>,
    /// `--bind`.
    pub bind: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

/// A secret value read from configuration. Any scalar is accepted and turned into text, and
/// no error message ever repeats it.
#[derive(Default)]
struct SecretValue(Option<SecretString>);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SecretValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a secret as text")
            }
            fn visit_str<E>(self, v: &str) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_owned()))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_string()))))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Raw {
    env: Option<String>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: SecretValue,
    db_max_connections: Option<u64>,
    log: Option<String>,
    log_format: Option<String>,
    mail_from: Option<String>,
    shutdown_grace_seconds: Option<u64>,
    session_key: SecretValue,
    session_key_file: Option<PathBuf>,
    fernet_keys: SecretValue,
    fernet_keys_file: Option<PathBuf>,
    email_pepper: SecretValue,
    email_pepper_file: Option<PathBuf>,
    trusted_proxies: Option<String>,
    allowed_hosts: Option<String>,
    cors_allowed_origins: Option<String>,
    map_tile_origins: Option<String>,
    session_idle_minutes: Option<u64>,
    session_lifetime_hours: Option<u64>,
    rate_limit_threshold: Option<u64>,
    rate_limit_window: Option<u64>,
    rate_limit_network_threshold: Option<u64>,
    rate_limit_ip_ceiling: Option<u64>,
    captcha_kind: Option<String>,
    captcha_ttl_seconds: Option<u64>,
    captcha_pow_max_number: Option<u64>,
    limit_sign_in: Option<String>,
    limit_captcha: Option<String>,
    limit_reports: Option<String>,
    limit_default: Option<String>,
    anonymous_sessions_per_hour: Option<u64>,
    public_url: Option<String>,
    argon2_memory_kib: Option<u64>,
    argon2_iterations: Option<u64>,
    argon2_parallelism: Option<u64>,
    lockout_attempts: Option<u64>,
    lockout_minutes: Option<u64>,
    magic_link_minutes: Option<u64>,
    verification_link_hours: Option<u64>,
    login_attempts_per_minute: Option<u64>,
    mail_per_address_per_hour: Option<u64>,
    mail_per_ip_per_hour: Option<u64>,
    totp_required_roles: Option<String>,
    mail_transport: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u64>,
    smtp_security: Option<String>,
    smtp_username: Option<String>,
    smtp_password: SecretValue,
    smtp_password_file: Option<PathBuf>,
    smtp_ca_file: Option<PathBuf>,
    limit_identify: Option<String>,
    ai_provider: Option<String>,
    ai_base_url: Option<String>,
    ai_model: Option<String>,
    ai_api_key: SecretValue,
    ai_api_key_file: Option<PathBuf>,
    ai_timeout_seconds: Option<u64>,
    ai_model_path: Option<PathBuf>,
    ai_fallback: Option<String>,
    ai_retries: Option<u64>,
    ai_breaker_failures: Option<u64>,
    ai_breaker_cooldown_seconds: Option<u64>,
    ai_response_format: Option<String>,
    ai_openai_api_key: SecretValue,
    ai_openai_api_key_file: Option<PathBuf>,
    ai_together_api_key: SecretValue,
    ai_together_api_key_file: Option<PathBuf>,
    max_upload_bytes: Option<u64>,
    clamd: Option<String>,
    clamd_timeout_seconds: Option<u64>,
    journal_photo_max_bytes: Option<u64>,
    journal_allowance_bytes: Option<u64>,
    geoprivacy_obscure_from: Option<String>,
    map_tile_url: Option<String>,
    map_attribution: Option<String>,
    retention_visit_days: Option<u64>,
    retention_read_notification_days: Option<u64>,
    retention_spent_days: Option<u64>,
}

/// Loads settings from the process environment, the optional file and `overrides`.
///
/// # Errors
/// [`ConfigError`] naming the first bad setting.
pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
    let env_file = std::env::var_os("WILDID_CONFIG").map(PathBuf::from);
    let file = overrides.config_file.clone().or(env_file);
    let mut figment = Figment::new();
    if let Some(path) = &file {
        if !path.is_file() {
            return Err(ConfigError::File(format!(
                "no configuration file at {}",
                path.display()
            )));
        }
        figment = figment.merge(Toml::file(path));
    }
    let figment = figment
        .merge(Env::prefixed("WILDID_").only(KEYS))
        .merge(Env::raw().only(&["DATABASE_URL"]));
    let raw: Raw = figment
        .extract()
        .map_err(|e| ConfigError::File(describe(&e)))?;
    validate(raw, overrides)
}

/// Figment's message, without the offending value (it could be a secret).
fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".");
    match &e.kind {
        figment::error::Kind::UnknownField(field, _) => format!("unknown setting `{field}`"),
        _ if key.is_empty() => e.kind.to_string(),
        _ => format!(
            "setting `{key}` has the wrong type (expected {})",
            expected(&e.kind)
        ),
    }
}

fn expected(kind: &figment::error::Kind) -> String {
    match kind {
        figment::error::Kind::InvalidType(_, expected) => expected.clone(),
        other => other.to_string(),
    }
}

fn validate(raw: Raw, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let environment = match raw.env.as_deref().map(str::trim) {
        None | Some("" | "development") => Environment::Development,
        Some("production") => Environment::Production,
        Some(_) => return invalid("WILDID_ENV", "expected development or production"),
    };
    let bind_raw = overrides
        .bind
        .clone()
        .or(raw.bind)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| ConfigError::Invalid {
        var: "WILDID_BIND",
        why: "expected IP:PORT, as in 127.0.0.1:8080".into(),
    })?;
    let data_dir = overrides
        .data_dir
        .clone()
        .or(raw.data_dir)
        .unwrap_or_else(|| PathBuf::from("./data"));
    let database = match raw.database_url.0 {
        Some(url) => DatabaseUrl::parse(url.expose()).map_err(ConfigError::Database)?,
        None => DatabaseUrl::sqlite_file(data_dir.join("wildid.db")),
    };
    let db_max_connections = match raw.db_max_connections {
        None => 16,
        Some(n @ 1..=1000) => usize::try_from(n).unwrap_or(16),
        Some(_) => return invalid("WILDID_DB_MAX_CONNECTIONS", "expected 1 to 1000"),
    };
    let log_format = match raw.log_format.as_deref().map(str::trim) {
        None | Some("" | "human") => LogFormat::Human,
        Some("json") => LogFormat::Json,
        Some(_) => return invalid("WILDID_LOG_FORMAT", "expected human or json"),
    };
    let log_filter = raw.log.unwrap_or_else(|| "info".into());
    tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| ConfigError::Invalid {
        var: "WILDID_LOG",
        why: e.to_string(),
    })?;
    let mail_from = Sender::parse(
        raw.mail_from
            .as_deref()
            .unwrap_or("WildID <no-reply@localhost>"),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_MAIL_FROM",
        why: e.to_string(),
    })?;
    let shutdown_grace = match raw.shutdown_grace_seconds {
        None => Duration::from_secs(30),
        Some(s @ 1..=3600) => Duration::from_secs(s),
        Some(_) => return invalid("WILDID_SHUTDOWN_GRACE_SECONDS", "expected 1 to 3600"),
    };
    let secrets = SecretInputs {
        session_key: either("WILDID_SESSION_KEY", raw.session_key, raw.session_key_file)?,
        fernet_keys: either("WILDID_FERNET_KEYS", raw.fernet_keys, raw.fernet_keys_file)?,
        email_pepper: either(
            "WILDID_EMAIL_PEPPER",
            raw.email_pepper,
            raw.email_pepper_file,
        )?,
    };
    let trusted_proxies = parse_proxies(raw.trusted_proxies.as_deref().unwrap_or_default())?;
    let allowed_hosts = parse_hosts(raw.allowed_hosts.as_deref())?;
    let cors_origins = parse_origins(
        "WILDID_CORS_ALLOWED_ORIGINS",
        raw.cors_allowed_origins.as_deref(),
    )?;
    let map_tile_origins =
        parse_origins("WILDID_MAP_TILE_ORIGINS", raw.map_tile_origins.as_deref())?;
    let idle = bounded_int(
        "WILDID_SESSION_IDLE_MINUTES",
        raw.session_idle_minutes,
        30,
        1,
        24 * 60,
    )?;
    let lifetime = bounded_int(
        "WILDID_SESSION_LIFETIME_HOURS",
        raw.session_lifetime_hours,
        7 * 24,
        1,
        90 * 24,
    )? * 60;
    let session_policy = SessionPolicy::new(
        chrono::TimeDelta::minutes(idle),
        chrono::TimeDelta::minutes(lifetime),
        chrono::TimeDelta::hours(1),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_SESSION_IDLE_MINUTES",
        why: e.to_string(),
    })?;
    let threshold = bounded_int(
        "WILDID_RATE_LIMIT_THRESHOLD",
        raw.rate_limit_threshold,
        10,
        1,
        1_000_000,
    )?;
    let window = bounded_int(
        "WILDID_RATE_LIMIT_WINDOW",
        raw.rate_limit_window,
        3600,
        1,
        7 * 24 * 3600,
    )?;
    // Sized for a shared network (see `wildid_domain::trust::SHARED_NETWORK_PEOPLE`): each
    // default follows the values given, so setting one alone never makes the others invalid.
    let people = i64::from(wildid_domain::trust::SHARED_NETWORK_PEOPLE);
    let allowances = i64::from(wildid_domain::trust::CEILING_ALLOWANCES);
    let network_default = match raw.rate_limit_ip_ceiling {
        Some(ceiling) => (threshold * people).min(i64::try_from(ceiling).unwrap_or(i64::MAX)),
        None => threshold * people,
    };
    let network = bounded_int(
        "WILDID_RATE_LIMIT_NETWORK_THRESHOLD",
        raw.rate_limit_network_threshold,
        network_default.max(threshold),
        1,
        100_000_000,
    )?;
    let ceiling = bounded_int(
        "WILDID_RATE_LIMIT_IP_CEILING",
        raw.rate_limit_ip_ceiling,
        (threshold * allowances).max(network),
        1,
        100_000_000,
    )?;
    if network < threshold {
        return invalid(
            "WILDID_RATE_LIMIT_NETWORK_THRESHOLD",
            "it cannot be below WILDID_RATE_LIMIT_THRESHOLD",
        );
    }
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let rate_limit = RateLimitPolicy::new(
        count(threshold),
        chrono::TimeDelta::seconds(window),
        count(network),
        count(ceiling),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_RATE_LIMIT_IP_CEILING",
        why: e.to_string(),
    })?;
    let captcha = match raw.captcha_kind.as_deref().map(str::trim) {
        None | Some("" | "proof_of_work") => Some(CaptchaKind::ProofOfWork),
        Some("arithmetic") => Some(CaptchaKind::Arithmetic),
        Some("off") => None,
        Some(_) => {
            return invalid(
                "WILDID_CAPTCHA_KIND",
                "expected proof_of_work, arithmetic or off",
            );
        }
    };
    let captcha_ttl = bounded_int(
        "WILDID_CAPTCHA_TTL_SECONDS",
        raw.captcha_ttl_seconds,
        300,
        10,
        3600,
    )?;
    let captcha_policy =
        CaptchaPolicy::new(chrono::TimeDelta::seconds(captcha_ttl), 3).map_err(|e| {
            ConfigError::Invalid {
                var: "WILDID_CAPTCHA_TTL_SECONDS",
                why: e.to_string(),
            }
        })?;
    let captcha_pow_max_number = bounded_int(
        "WILDID_CAPTCHA_POW_MAX_NUMBER",
        raw.captcha_pow_max_number,
        100_000,
        1_000,
        i64::try_from(wildid_domain::pow::MAX_DIFFICULTY).unwrap_or(i64::MAX),
    )?
    .unsigned_abs();
    let mut request_limits = BTreeMap::new();
    for (group, var, raw_value) in [
        (
            RouteGroup::SignIn,
            "WILDID_LIMIT_SIGN_IN",
            &raw.limit_sign_in,
        ),
        (
            RouteGroup::Identify,
            "WILDID_LIMIT_IDENTIFY",
            &raw.limit_identify,
        ),
        (
            RouteGroup::Captcha,
            "WILDID_LIMIT_CAPTCHA",
            &raw.limit_captcha,
        ),
        (
            RouteGroup::Reports,
            "WILDID_LIMIT_REPORTS",
            &raw.limit_reports,
        ),
        (
            RouteGroup::Default,
            "WILDID_LIMIT_DEFAULT",
            &raw.limit_default,
        ),
    ] {
        if let Some(value) = raw_value {
            request_limits.insert(group, parse_windows(var, value)?);
        }
    }
    let anonymous_sessions_per_hour = RateLimit::new(
        u32::try_from(bounded_int(
            "WILDID_ANONYMOUS_SESSIONS_PER_HOUR",
            raw.anonymous_sessions_per_hour,
            300,
            1,
            1_000_000_000,
        )?)
        .unwrap_or(u32::MAX),
        chrono::TimeDelta::hours(1),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_ANONYMOUS_SESSIONS_PER_HOUR",
        why: e.to_string(),
    })?;
    let public_url = match raw
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(parse_public_url(url, environment)?),
        None if environment == Environment::Production => {
            return invalid(
                "WILDID_PUBLIC_URL",
                "must be set in production (the https:// address users reach), as in https://wildid.example.org",
            );
        }
        None => None,
    };
    let bounded = |var, value, default, min, max| {
        bounded_int(var, value, default, min, max).map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    let argon2 = (
        bounded(
            "WILDID_ARGON2_MEMORY_KIB",
            raw.argon2_memory_kib,
            19_456,
            19_456,
            4 * 1024 * 1024,
        )?,
        bounded("WILDID_ARGON2_ITERATIONS", raw.argon2_iterations, 2, 2, 100)?,
        bounded(
            "WILDID_ARGON2_PARALLELISM",
            raw.argon2_parallelism,
            1,
            1,
            64,
        )?,
    );
    let lockout = LockoutPolicy::new(
        bounded("WILDID_LOCKOUT_ATTEMPTS", raw.lockout_attempts, 5, 1, 100)?,
        chrono::TimeDelta::minutes(bounded_int(
            "WILDID_LOCKOUT_MINUTES",
            raw.lockout_minutes,
            30,
            1,
            24 * 60,
        )?),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_LOCKOUT_ATTEMPTS",
        why: e.to_string(),
    })?;
    let tokens = TokenPolicy::new(
        chrono::TimeDelta::minutes(bounded_int(
            "WILDID_MAGIC_LINK_MINUTES",
            raw.magic_link_minutes,
            15,
            1,
            24 * 60,
        )?),
        chrono::TimeDelta::hours(bounded_int(
            "WILDID_VERIFICATION_LINK_HOURS",
            raw.verification_link_hours,
            24,
            1,
            7 * 24,
        )?),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_MAGIC_LINK_MINUTES",
        why: e.to_string(),
    })?;
    let per = |var, value, default, seconds: u32| -> Result<RateLimit, ConfigError> {
        let max = bounded(var, value, default, 1, 1_000_000)?;
        Ok(RateLimit::per_seconds(nonzero(max), nonzero(seconds)))
    };
    let accounts = AccountPolicy {
        lockout,
        tokens,
        login_per_ip: per(
            "WILDID_LOGIN_ATTEMPTS_PER_MINUTE",
            raw.login_attempts_per_minute,
            5,
            60,
        )?,
        mail_per_address: per(
            "WILDID_MAIL_PER_ADDRESS_PER_HOUR",
            raw.mail_per_address_per_hour,
            5,
            3600,
        )?,
        mail_per_ip: per(
            "WILDID_MAIL_PER_IP_PER_HOUR",
            raw.mail_per_ip_per_hour,
            20,
            3600,
        )?,
        ..AccountPolicy::default()
    };
    let totp_required_roles = match raw.totp_required_roles.as_deref().map(str::trim) {
        None => vec![Role::Worker, Role::Admin],
        Some("" | "none") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|r| r.trim().parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ConfigError::Invalid {
                var: "WILDID_TOTP_REQUIRED_ROLES",
                why: "expected roles from worker, admin, visitor, or none".into(),
            })?,
    };
    let mail_transport = match raw.mail_transport.as_deref().map(str::trim) {
        None | Some("" | "outbox") => MailTransport::Outbox,
        Some("smtp") => {
            let host =
                raw.smtp_host
                    .filter(|h| !h.trim().is_empty())
                    .ok_or(ConfigError::Invalid {
                        var: "WILDID_SMTP_HOST",
                        why: "is required when WILDID_MAIL_TRANSPORT=smtp".into(),
                    })?;
            let security = match raw.smtp_security.as_deref().map(str::trim) {
                None | Some("" | "starttls") => SmtpSecurity::StartTls,
                Some("tls") => SmtpSecurity::ImplicitTls,
                Some("plain") => SmtpSecurity::Plain,
                Some(_) => {
                    return invalid("WILDID_SMTP_SECURITY", "expected starttls, tls or plain");
                }
            };
            let default_port = match security {
                SmtpSecurity::StartTls => 587,
                SmtpSecurity::ImplicitTls => 465,
                SmtpSecurity::Plain => 25,
            };
            let port = u16::try_from(bounded_int(
                "WILDID_SMTP_PORT",
                raw.smtp_port,
                default_port,
                1,
                65535,
            )?)
            .unwrap_or(587);
            let password = either(
                "WILDID_SMTP_PASSWORD",
                raw.smtp_password,
                raw.smtp_password_file,
            )?;
            let credentials = match (raw.smtp_username, password) {
                (Some(user), Some(password)) => Some((user, password)),
                (None, None) => None,
                _ => {
                    return invalid(
                        "WILDID_SMTP_USERNAME",
                        "set both WILDID_SMTP_USERNAME and WILDID_SMTP_PASSWORD, or neither",
                    );
                }
            };
            let extra_ca_pem = match raw.smtp_ca_file {
                Some(path) => Some(std::fs::read(&path).map_err(|e| ConfigError::Invalid {
                    var: "WILDID_SMTP_CA_FILE",
                    why: format!("cannot read {}: {e}", path.display()),
                })?),
                None => None,
            };
            let settings = SmtpSettings {
                host: host.trim().to_owned(),
                port,
                security,
                credentials,
                extra_ca_pem,
                timeout: Duration::from_secs(30),
            };
            // Validated here so that plain SMTP to a remote host stops the start.
            wildid_adapters_mail::SmtpMailer::new(
                &settings,
                mail_from.clone(),
                std::sync::Arc::new(wildid_ports::builtin::OsRandom),
            )
            .map_err(|e| ConfigError::Invalid {
                var: "WILDID_SMTP_SECURITY",
                why: e.to_string(),
            })?;
            MailTransport::Smtp(settings)
        }
        Some(_) => return invalid("WILDID_MAIL_TRANSPORT", "expected outbox or smtp"),
    };
    let identification = ai::identification(ai::RawAi {
        provider: raw.ai_provider,
        model_path: raw.ai_model_path,
        base_url: raw.ai_base_url,
        model: raw.ai_model,
        api_key: either("WILDID_AI_API_KEY", raw.ai_api_key, raw.ai_api_key_file)?,
        timeout_seconds: bounded_int(
            "WILDID_AI_TIMEOUT_SECONDS",
            raw.ai_timeout_seconds,
            30,
            1,
            300,
        )?,
        fallback: raw.ai_fallback,
        retries: bounded_int("WILDID_AI_RETRIES", raw.ai_retries, 2, 0, 5)?,
        breaker_failures: bounded_int(
            "WILDID_AI_BREAKER_FAILURES",
            raw.ai_breaker_failures,
            5,
            1,
            100,
        )?,
        breaker_cool_down_seconds: bounded_int(
            "WILDID_AI_BREAKER_COOLDOWN_SECONDS",
            raw.ai_breaker_cooldown_seconds,
            30,
            1,
            3600,
        )?,
        response_format: raw.ai_response_format,
        openai_key: either(
            "WILDID_AI_OPENAI_API_KEY",
            raw.ai_openai_api_key,
            raw.ai_openai_api_key_file,
        )?,
        together_key: either(
            "WILDID_AI_TOGETHER_API_KEY",
            raw.ai_together_api_key,
            raw.ai_together_api_key_file,
        )?,
    })?;
    let max_upload_bytes = usize::try_from(bounded_int(
        "WILDID_MAX_UPLOAD_BYTES",
        raw.max_upload_bytes,
        i64::try_from(wildid_adapters_http::DEFAULT_UPLOAD_LIMIT).unwrap_or(i64::MAX),
        64 * 1024,
        64 * 1024 * 1024,
    )?)
    .unwrap_or(wildid_adapters_http::DEFAULT_UPLOAD_LIMIT);
    let clamd = match raw
        .clamd
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(address) => Some((
            ClamdAddress::parse(address).map_err(|why| ConfigError::Invalid {
                var: "WILDID_CLAMD",
                why,
            })?,
            Duration::from_secs(
                bounded_int(
                    "WILDID_CLAMD_TIMEOUT_SECONDS",
                    raw.clamd_timeout_seconds,
                    10,
                    1,
                    120,
                )?
                .unsigned_abs(),
            ),
        )),
    };
    let journal = journal::journal(journal::RawJournal {
        photo_max_bytes: raw.journal_photo_max_bytes,
        allowance_bytes: raw.journal_allowance_bytes,
        obscure_from: raw.geoprivacy_obscure_from,
    })?;
    let map_tiles = journal::map_tiles(
        raw.map_tile_url.as_deref(),
        raw.map_attribution.as_deref(),
        &map_tile_origins,
    )?;
    let retention = retention::retention(&retention::RawRetention {
        visit_days: raw.retention_visit_days,
        read_notification_days: raw.retention_read_notification_days,
        spent_days: raw.retention_spent_days,
    })?;
    Ok(Settings {
        environment,
        bind,
        data_dir,
        database,
        db_max_connections,
        log_filter,
        log_format,
        mail_from,
        shutdown_grace,
        secrets,
        trusted_proxies,
        allowed_hosts,
        cors_origins,
        map_tile_origins,
        session_policy,
        rate_limit,
        captcha,
        captcha_policy,
        captcha_pow_max_number,
        request_limits,
        anonymous_sessions_per_hour,
        public_url,
        argon2,
        accounts,
        totp_required_roles,
        mail_transport,
        identification,
        max_upload_bytes,
        clamd,
        journal,
        map_tiles,
        retention,
    })
}

/// `http(s)://host[:port]`, nothing else: links must not be steerable by request headers, so
/// this is their only source.
fn parse_public_url(raw: &str, environment: Environment) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        var: "WILDID_PUBLIC_URL",
        why: why.to_owned(),
    };
    let trimmed = raw.trim_end_matches('/');
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| bad("expected http:// or https:// followed by a host"))?;
    match scheme {
        "https" => {}
        "http" if environment == Environment::Development => {}
        "http" => return Err(bad("production links must use https://")),
        _ => return Err(bad("expected http:// or https://")),
    }
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(bad(
            "expected only a host and an optional port, with no path, query or credentials",
        ));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// An integer setting within bounds, with a default.
fn bounded_int(
    var: &'static str,
    value: Option<u64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match i64::try_from(value) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError::Invalid {
            var,
            why: format!("expected {min} to {max}"),
        }),
    }
}

/// Comma-separated IP addresses or CIDR networks.
fn parse_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    var: "WILDID_TRUSTED_PROXIES",
                    why: format!("{p:?} is not an IP address or CIDR network"),
                })
        })
        .collect()
}

/// `N/unit` windows separated by commas (`50/hour, 200/day`), or `off`.
fn parse_windows(var: &'static str, raw: &str) -> Result<Vec<RateLimit>, ConfigError> {
    let bad = |why: String| ConfigError::Invalid { var, why };
    if raw.trim() == "off" {
        return Ok(Vec::new());
    }
    csv(raw)
        .map(|window| {
            let (count, unit) = window
                .split_once('/')
                .ok_or_else(|| bad(format!("{window:?}: expected N/unit, as in 50/hour")))?;
            let count: u32 = count
                .trim()
                .parse()
                .map_err(|_| bad(format!("{window:?}: the count is not a number")))?;
            let seconds = match unit.trim() {
                "second" => 1,
                "minute" => 60,
                "hour" => 3600,
                "day" => 86_400,
                _ => {
                    return Err(bad(format!(
                        "{window:?}: the unit must be second, minute, hour or day"
                    )));
                }
            };
            RateLimit::new(count, chrono::TimeDelta::seconds(seconds))
                .map_err(|e| bad(format!("{window:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|windows| {
            if windows.is_empty() {
                Err(bad(
                    "expected N/unit windows (as in 50/hour,200/day) or off".into(),
                ))
            } else {
                Ok(windows)
            }
        })
}

/// Default of `WILDID_ALLOWED_HOSTS` (the seed's).
const DEFAULT_ALLOWED_HOSTS: &str = "localhost,127.0.0.1";

fn csv(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|p| !p.is_empty())
}

fn parse_hosts(raw: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let list = wildid_adapters_http::HostAllowlist::new(csv(raw.unwrap_or(DEFAULT_ALLOWED_HOSTS)))
        .map_err(|e| ConfigError::Invalid {
            var: "WILDID_ALLOWED_HOSTS",
            why: e.to_string(),
        })?;
    Ok(list.names().map(str::to_owned).collect())
}

/// Origins in `var` (validated and normalised as the CORS policy and the CSP do).
fn parse_origins(var: &'static str, raw: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let policy =
        wildid_adapters_http::CorsPolicy::new(csv(raw.unwrap_or_default())).map_err(|e| {
            ConfigError::Invalid {
                var,
                why: e.to_string(),
            }
        })?;
    Ok(policy.origins().map(str::to_owned).collect())
}

fn invalid<T>(var: &'static str, why: &str) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid {
        var,
        why: why.to_owned(),
    })
}

/// A secret given directly or as `*_FILE` (the file's content, trailing newline removed).
fn either(
    var: &'static str,
    value: SecretValue,
    file: Option<PathBuf>,
) -> Result<Option<SecretString>, ConfigError> {
    match (value.0, file) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            var,
            why: format!("set either {var} or {var}_FILE, not both"),
        }),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => read_secret_file(var, &path).map(Some),
        (None, None) => Ok(None),
    }
}

fn read_secret_file(var: &'static str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        var,
        why: format!("cannot read {var}_FILE ({}): {e}", path.display()),
    })?;
    Ok(SecretString::new(
        text.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Raw {
        Raw::default()
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = validate(raw(), &Overrides::default()).unwrap();
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert!(
            matches!(&s.database, DatabaseUrl::Sqlite { path, create: true } if path == Path::new("./data/wildid.db"))
        );
        assert_eq!(s.log_format, LogFormat::Human);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let mut r = raw();
        r.env = Some("staging".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_ENV")
        );
        let mut r = raw();
        r.bind = Some("localhost".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_BIND")
        );
        let mut r = raw();
        r.database_url = SecretValue(Some(SecretString::new("/no/such/file.db".into())));
        let e = validate(r, &Overrides::default()).unwrap_err().to_string();
        assert!(
            e.starts_with("DATABASE_URL") && e.contains("sqlite://"),
            "{e}"
        );
    }

    #[test]
    fn link_lifetimes_are_configurable_within_bounds() {
        use wildid_domain::token::TokenPurpose;
        let s = validate(raw(), &Overrides::default()).unwrap();
        assert_eq!(
            s.accounts.tokens.ttl(TokenPurpose::MagicLink),
            chrono::TimeDelta::minutes(15)
        );
        let mut r = raw();
        r.magic_link_minutes = Some(10);
        r.verification_link_hours = Some(2);
        let s = validate(r, &Overrides::default()).unwrap();
        assert_eq!(
            s.accounts.tokens.ttl(TokenPurpose::MagicLink),
            chrono::TimeDelta::minutes(10)
        );
        assert_eq!(
            s.accounts.tokens.ttl(TokenPurpose::EmailChange),
            chrono::TimeDelta::hours(2)
        );
        for (minutes, hours, var) in [
            (Some(0), None, "WILDID_MAGIC_LINK_MINUTES"),
            (None, Some(200), "WILDID_VERIFICATION_LINK_HOURS"),
        ] {
            let mut r = raw();
            r.magic_link_minutes = minutes;
            r.verification_link_hours = hours;
            let e = validate(r, &Overrides::default()).unwrap_err().to_string();
            assert!(e.starts_with(var), "{e}");
        }
    }

    #[test]
    fn secrets_come_from_value_or_file_not_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pepper");
        std::fs::write(&file, "c2VjcmV0\n").unwrap();
        let mut r = raw();
        r.email_pepper_file = Some(file.clone());
        let s = validate(r, &Overrides::default()).unwrap();
        assert_eq!(s.secrets.email_pepper.unwrap().expose(), "c2VjcmV0");
        let mut r = raw();
        r.email_pepper_file = Some(file);
        r.email_pepper = SecretValue(Some(SecretString::new("x".into())));
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
    }

    #[test]
    fn proxies_and_limits_are_validated() {
        let mut r = raw();
        r.trusted_proxies = Some("10.0.0.0/8, 192.0.2.1".into());
        r.rate_limit_threshold = Some(20);
        let s = validate(r, &Overrides::default()).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        assert_eq!(
            (s.rate_limit.network_threshold(), s.rate_limit.ip_ceiling()),
            (800, 2000),
            "40 and 100 allowances by default"
        );
        let mut r = raw();
        r.rate_limit_threshold = Some(2);
        r.rate_limit_ip_ceiling = Some(4);
        let s = validate(r, &Overrides::default()).unwrap();
        assert_eq!(
            (s.rate_limit.network_threshold(), s.rate_limit.ip_ceiling()),
            (4, 4),
            "a low ceiling alone lowers the network's default"
        );
        let mut r = raw();
        r.rate_limit_network_threshold = Some(5000);
        let s = validate(r, &Overrides::default()).unwrap();
        assert_eq!(s.rate_limit.ip_ceiling(), 5000);
        for (network, ceiling, var) in [
            (Some(5), None, "WILDID_RATE_LIMIT_NETWORK_THRESHOLD"),
            (Some(500), Some(400), "WILDID_RATE_LIMIT_IP_CEILING"),
        ] {
            let mut r = raw();
            r.rate_limit_network_threshold = network;
            r.rate_limit_ip_ceiling = ceiling;
            let e = validate(r, &Overrides::default()).unwrap_err().to_string();
            assert!(e.starts_with(var), "{e}");
        }
        let mut r = raw();
        r.trusted_proxies = Some("10.0.0.0/33".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_TRUSTED_PROXIES")
        );
        let mut r = raw();
        r.session_idle_minutes = Some(0);
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_SESSION_IDLE_MINUTES")
        );
        let mut r = raw();
        r.captcha_kind = Some("recaptcha".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_CAPTCHA_KIND")
        );
    }

    #[test]
    fn map_tile_origins_are_normalised_and_nothing_else_passes() {
        assert!(
            validate(raw(), &Overrides::default())
                .unwrap()
                .map_tile_origins
                .is_empty()
        );
        let mut r = raw();
        r.map_tile_origins =
            Some("https://Tiles.example.org/, https://tiles.example.org:443".into());
        assert_eq!(
            validate(r, &Overrides::default()).unwrap().map_tile_origins,
            ["https://tiles.example.org"]
        );
        for bad in [
            "*",
            "https://*.example.org",
            "https://x.org; script-src *",
            "x.org",
        ] {
            let mut r = raw();
            r.map_tile_origins = Some(bad.into());
            assert!(
                validate(r, &Overrides::default())
                    .unwrap_err()
                    .to_string()
                    .starts_with("WILDID_MAP_TILE_ORIGINS"),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_url_is_a_bare_origin_and_https_in_production() {
        let mut r = raw();
        r.public_url = Some("https://WildID.example.org/".into());
        assert_eq!(
            validate(r, &Overrides::default())
                .unwrap()
                .public_url
                .as_deref(),
            Some("https://wildid.example.org")
        );
        for bad in [
            "wildid.example.org",
            "https://x.org/path",
            "https://user:pw@x.org",
            "ftp://x.org",
        ] {
            let mut r = raw();
            r.public_url = Some(bad.into());
            assert!(
                validate(r, &Overrides::default())
                    .unwrap_err()
                    .to_string()
                    .starts_with("WILDID_PUBLIC_URL"),
                "{bad}"
            );
        }
        let mut r = raw();
        r.env = Some("production".into());
        r.public_url = Some("http://x.org".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .contains("https")
        );
        let mut r = raw();
        r.argon2_memory_kib = Some(1024);
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_ARGON2_MEMORY_KIB")
        );
    }

    #[test]
    fn smtp_settings_are_complete_and_never_plain_to_a_remote_host() {
        let mut r = raw();
        r.mail_transport = Some("smtp".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_SMTP_HOST")
        );
        let mut r = raw();
        r.mail_transport = Some("smtp".into());
        r.smtp_host = Some("mail.example.org".into());
        r.smtp_security = Some("plain".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .contains("loopback")
        );
        let mut r = raw();
        r.mail_transport = Some("smtp".into());
        r.smtp_host = Some("mail.example.org".into());
        r.smtp_username = Some("wildid".into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .contains("both")
        );
        let mut r = raw();
        r.mail_transport = Some("smtp".into());
        r.smtp_host = Some("mail.example.org".into());
        let s = validate(r, &Overrides::default()).unwrap();
        assert!(matches!(
            s.mail_transport,
            MailTransport::Smtp(SmtpSettings {
                port: 587,
                security: SmtpSecurity::StartTls,
                ..
            })
        ));
    }

    #[test]
    fn flags_win() {
        let mut r = raw();
        r.bind = Some("0.0.0.0:1".into());
        let o = Overrides {
            bind: Some("127.0.0.1:0".into()),
            data_dir: Some("/tmp/x".into()),
            config_file: None,
        };
        let s = validate(r, &o).unwrap();
        assert_eq!(s.bind.port(), 0);
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn the_malware_scanner_is_off_by_default_and_its_address_is_checked() {
        assert!(
            validate(raw(), &Overrides::default())
                .unwrap()
                .clamd
                .is_none()
        );
        let mut r = raw();
        r.clamd = Some("tcp://127.0.0.1:3310".into());
        let (address, timeout) = validate(r, &Overrides::default()).unwrap().clamd.unwrap();
        assert_eq!(address, ClamdAddress::Tcp("127.0.0.1:3310".into()));
        assert_eq!(timeout, Duration::from_secs(10));
        for (clamd, timeout, var) in [
            ("clamd.sock", None, "WILDID_CLAMD"),
            ("/run/clamd.sock", Some(0), "WILDID_CLAMD_TIMEOUT_SECONDS"),
        ] {
            let mut r = raw();
            r.clamd = Some(clamd.into());
            r.clamd_timeout_seconds = timeout;
            match validate(r, &Overrides::default()) {
                Err(ConfigError::Invalid { var: v, .. }) => assert_eq!(v, var),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_upload_limit_is_bounded() {
        let mut r = raw();
        r.max_upload_bytes = Some(10);
        assert!(validate(r, &Overrides::default()).is_err());
        let s = validate(raw(), &Overrides::default()).unwrap();
        assert_eq!(s.max_upload_bytes, 10 * 1024 * 1024);
    }
}

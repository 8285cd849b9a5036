//! Configuration: defaults, then an optional TOML file, then environment variables
//! (`WILDID_*` and `DATABASE_URL`), then command-line flags. Read once, validated once, passed
//! down as plain values: nothing reads the environment later. Every setting is documented in
//! `docs/configuration.md`.
//!
//! Each section (`config/<section>.rs`) declares its settings once, as the fields of its raw
//! struct (see `helpers::section!`), and checks them beside the declaration; `raw` gathers the
//! sections' raw structs, and this module reads the file and the environment into them and
//! assembles [`Settings`].

mod accounts;
mod ai;
mod captcha;
mod database;
mod helpers;
mod http;
mod journal;
mod keys;
mod limits;
mod logging;
mod mail;
mod map;
mod metrics;
mod raw;
mod retention;
mod server;
mod sessions;
mod uploads;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use wildid_adapters_ai::ClamdAddress;
use wildid_adapters_db::DatabaseUrl;
use wildid_adapters_mail::Sender;
use wildid_domain::captcha::{CaptchaKind, CaptchaPolicy};
use wildid_domain::rate_limit::RateLimit;
use wildid_domain::role::Role;
use wildid_domain::session::SessionPolicy;
use wildid_domain::trust::RateLimitPolicy;
use wildid_ports::services::accounts::AccountPolicy;
use wildid_ports::services::journal::JournalSettings;
use wildid_ports::services::limits::RouteGroup;

pub use ai::{Identification, Provider};
pub use keys::SecretInputs;
pub use logging::LogFormat;
pub use mail::MailTransport;
pub use server::Environment;

use raw::Raw;

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
    /// Where the Prometheus metrics are served (`WILDID_METRICS_BIND`); none: no metrics.
    pub metrics_bind: Option<SocketAddr>,
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
    /// Several values are wrong: each is named, in the order of the sections.
    #[error("{} problems in the configuration:\n  - {}", .0.len(), list(.0))]
    Several(Vec<ConfigError>),
}

fn list(problems: &[ConfigError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  - ")
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
    let prefixed = raw::prefixed_variables();
    let prefixed: Vec<&str> = prefixed.iter().map(String::as_str).collect();
    let figment = figment
        .merge(Env::prefixed("WILDID_").only(&prefixed))
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

/// Checks every section and assembles the settings. Every check runs to the end, so with
/// several bad values every one is reported at once ([`ConfigError::Several`]), in the order
/// below. A check that needs another value (the environment, the listening address, the
/// sender, the tile origins) gets that value's default when the value is itself wrong, so each
/// problem is named once.
fn validate(raw: Raw, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let mut found = Vec::new();
    macro_rules! check {
        ($result:expr) => {
            match $result {
                Ok(value) => Some(value),
                Err(problem) => {
                    found.push(problem);
                    None
                }
            }
        };
    }
    let environment = check!(server::environment(&raw.server));
    let bind = check!(server::bind(&raw.server, overrides));
    let data_dir = server::data_dir(&raw.server, overrides);
    let database = check!(database::url(&raw.database, &data_dir));
    let db_max_connections = check!(database::max_connections(&raw.database));
    let log_format = check!(logging::format(&raw.logging));
    let log_filter = check!(logging::filter(&raw.logging));
    let metrics_bind = check!(metrics::bind(
        &raw.metrics,
        bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
    ));
    let mail_from = check!(mail::sender(&raw.mail));
    let shutdown_grace = check!(server::shutdown_grace(&raw.server));
    let secrets = check!(keys::secrets(raw.keys));
    let trusted_proxies = check!(http::trusted_proxies(&raw.http));
    let allowed_hosts = check!(http::allowed_hosts(&raw.http));
    let cors_origins = check!(http::cors_origins(&raw.http));
    let map_tile_origins = check!(map::origins(&raw.map));
    let session_policy = check!(sessions::policy(&raw.sessions));
    let rate_limit = check!(limits::rate_limit(&raw.limits));
    let captcha = check!(captcha::kind(&raw.captcha));
    let captcha_policy = check!(captcha::policy(&raw.captcha));
    let captcha_pow_max_number = check!(captcha::pow_max_number(&raw.captcha));
    let request_limits = check!(limits::request_limits(&raw.limits));
    let anonymous_sessions_per_hour = check!(sessions::anonymous_per_hour(&raw.sessions));
    let public_url = check!(server::public_url(
        &raw.server,
        environment.unwrap_or(Environment::Development)
    ));
    let argon2 = check!(accounts::argon2(&raw.accounts));
    let accounts = check!(accounts::policy(&raw.accounts));
    let totp_required_roles = check!(accounts::totp_required_roles(&raw.accounts));
    let mail_transport = match &mail_from {
        Some(from) => check!(mail::transport(raw.mail, from)),
        None => None,
    };
    let identification = check!(ai::settings(raw.ai));
    let max_upload_bytes = check!(uploads::max_bytes(&raw.uploads));
    let clamd = check!(uploads::clamd(&raw.uploads));
    let journal = check!(journal::journal(raw.journal));
    let map_tiles = check!(map::tiles(
        &raw.map,
        map_tile_origins.as_deref().unwrap_or_default()
    ));
    let retention = check!(retention::retention(&raw.retention));
    let accounts = accounts.map(|mut policy| {
        if let Some(retention) = &retention {
            policy.unconfirmed_kept = retention.unverified_accounts();
        }
        policy
    });
    // Every value is there exactly when nothing was found wrong: unwrap them all, or report.
    macro_rules! all_found {
        ($($value:ident),* $(,)?) => {
            let ($(Some($value),)*) = ($($value,)*) else {
                return Err(match found.pop() {
                    Some(only) if found.is_empty() => only,
                    Some(last) => {
                        found.push(last);
                        ConfigError::Several(found)
                    }
                    None => ConfigError::Io("a setting was left unchecked".into()),
                });
            };
        };
    }
    all_found!(
        environment,
        bind,
        database,
        db_max_connections,
        log_format,
        log_filter,
        metrics_bind,
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
    );
    Ok(Settings {
        environment,
        bind,
        data_dir,
        database,
        db_max_connections,
        log_filter,
        log_format,
        metrics_bind,
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

#[cfg(test)]
mod tests;

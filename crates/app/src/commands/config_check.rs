//! `wildid config check`: every effective setting, grouped as in docs/configuration.md, secrets
//! masked (only whether each is set and where from), then the checks that need more than the
//! values (the secrets, the offline model, the database). Exit status 0 when everything is
//! usable, 1 when a check failed; a configuration with bad values does not get here (every
//! bad value is named at once, exit status 2).

use std::process::ExitCode;

use wildid_adapters_ai::ModelSource;
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_domain::rate_limit::RateLimit;
use wildid_ports::services::limits::RouteGroup;

use crate::config::{MailTransport, Provider, Settings};
use crate::{compose, secrets, serve};

/// `items` joined by commas, or "none".
fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `50/hour` or `50/90s`: a window as the variables write it.
fn window(limit: &RateLimit) -> String {
    let seconds = limit.per().num_seconds();
    let unit = match seconds {
        1 => "second".to_owned(),
        60 => "minute".to_owned(),
        3600 => "hour".to_owned(),
        86_400 => "day".to_owned(),
        other => format!("{other}s"),
    };
    format!("{}/{unit}", limit.max())
}

fn windows(limits: &[RateLimit]) -> String {
    if limits.is_empty() {
        return "off".to_owned();
    }
    limits.iter().map(window).collect::<Vec<_>>().join(", ")
}

fn model_source(source: &ModelSource) -> String {
    match source {
        ModelSource::Embedded => "built-in MobileNetV2 weights".to_owned(),
        ModelSource::File(path) => format!("weights from {}", path.display()),
    }
}

fn server(settings: &Settings) {
    say!("[server]");
    say!("environment      {:?}", settings.environment);
    say!("bind             {}", settings.bind);
    say!(
        "public URL       {}",
        settings
            .public_url
            .as_deref()
            .unwrap_or("none (links use the listening address)")
    );
    say!("data directory   {}", settings.data_dir.display());
    say!("shutdown grace   {} s", settings.shutdown_grace.as_secs());
    say!(
        "log              {} ({:?})",
        settings.log_filter,
        settings.log_format
    );
    match settings.metrics_bind {
        Some(at) => say!("metrics          http://{at}/metrics"),
        None => say!("metrics          off"),
    }
}

fn http(settings: &Settings) {
    say!("[http]");
    say!("secure cookies   {}", compose::secure_cookies(settings));
    let proxies: Vec<String> = settings
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    say!("trusted proxies  {}", listed(&proxies));
    say!(
        "allowed hosts    {} (and the public URL's host)",
        settings.allowed_hosts.join(", ")
    );
    say!(
        "CORS origins     {} (and the public URL's origin)",
        listed(&settings.cors_origins)
    );
    say!("map tile origins {}", listed(&settings.map_tile_origins));
    say!("upload limit     {} bytes", settings.max_upload_bytes);
}

fn sessions_and_sign_in(settings: &Settings) {
    say!("[sessions and sign-in]");
    let sessions = &settings.session_policy;
    say!(
        "sessions         idle {} min, signed in {} h, anonymous {} min; {} new anonymous per network",
        sessions.idle_timeout().num_minutes(),
        sessions.absolute_lifetime().num_hours(),
        sessions.anonymous_lifetime().num_minutes(),
        window(&settings.anonymous_sessions_per_hour)
    );
    let accounts = &settings.accounts;
    say!(
        "lockout          after {} failures, for {} min",
        accounts.lockout.max_failures(),
        accounts.lockout.lock_for().num_minutes()
    );
    say!(
        "sign-in limits   {} per client address; mail {} per address, {} per client address",
        window(&accounts.login_per_ip),
        window(&accounts.mail_per_address),
        window(&accounts.mail_per_ip)
    );
    let (memory, iterations, lanes) = settings.argon2;
    say!("argon2id         m={memory} KiB, t={iterations}, p={lanes}");
    let roles: Vec<String> = settings
        .totp_required_roles
        .iter()
        .map(ToString::to_string)
        .collect();
    say!("second factor    required for {}", listed(&roles));
}

fn limits(settings: &Settings) {
    say!("[limits]");
    for group in RouteGroup::LIMITED {
        let limits = settings
            .request_limits
            .get(&group)
            .cloned()
            .unwrap_or_else(|| group.default_windows());
        let counted = if group.is_shared() {
            "in the database"
        } else {
            "per process"
        };
        say!(
            "requests {:<8} {} ({counted})",
            group.name(),
            windows(&limits)
        );
    }
    let adaptive = &settings.rate_limit;
    say!(
        "adaptive limit   {} identifications per {} min per session before the check; {} per network, ceiling {} per address",
        adaptive.threshold(),
        adaptive.window().num_minutes(),
        adaptive.network_threshold(),
        adaptive.ip_ceiling()
    );

    match settings.captcha {
        Some(kind) => say!(
            "CAPTCHA          {kind:?}, answered within {} s, {} attempts",
            settings.captcha_policy.ttl().num_seconds(),
            settings.captcha_policy.max_attempts()
        ),
        None => say!("CAPTCHA          off"),
    }
}

/// Returns whether the offline model (if configured) loads.
fn identification(settings: &Settings) -> bool {
    say!("[identification]");
    let mut ok = true;
    let ai = &settings.identification;
    if ai.chain.is_empty() {
        say!("identification   none (POST /api/identify answers 503)");
    }
    for (i, provider) in ai.chain.iter().enumerate() {
        let label = if i == 0 {
            "identification  "
        } else {
            "  then          "
        };
        match provider {
            Provider::Remote(p) => say!(
                "{label} {} at {} (model {}, key {}, {} retries, budget {} s)",
                p.name,
                p.base_url,
                p.model,
                if p.api_key.is_some() { "set" } else { "none" },
                ai.retry.retries,
                ai.retry.budget.as_secs()
            ),
            Provider::LocalModel(source) => match compose::local_model(source) {
                Ok(_) => say!("{label} local-model, offline ({})", model_source(source)),
                Err(e) => {
                    ok = false;
                    say!("{label} local-model ERROR: {e}");
                }
            },
        }
    }
    match &settings.clamd {
        Some((address, timeout)) => say!(
            "malware scan     clamd at {address}, verdict within {} s",
            timeout.as_secs()
        ),
        None => say!("malware scan     off"),
    }
    ok
}

fn journal_and_retention(settings: &Settings) {
    say!("[journal and retention]");
    let journal = &settings.journal;
    say!(
        "journal          photos up to {} bytes, {} bytes per person",
        journal.photo_max_bytes,
        journal.allowance_bytes
    );
    say!(
        "geoprivacy       sightings obscured from {} (IUCN) on",
        journal.obscure_from.code().unwrap_or("-")
    );
    say!(
        "retention        visit data {} days, read notifications {} days (purged daily); spent sign-in links and delivered mail {} day(s)",
        settings.retention.visit_mappings().num_days(),
        settings.retention.read_notifications().num_days(),
        settings.retention.spent_tokens().num_days()
    );
}

fn mail(settings: &Settings) {
    say!("[mail]");
    say!("from             {}", settings.mail_from);
    match &settings.mail_transport {
        MailTransport::Outbox => say!(
            "transport        files in {}",
            settings.data_dir.join("outbox").display()
        ),
        MailTransport::Smtp(smtp) => say!(
            "transport        SMTP {}:{} ({:?}), credentials {}",
            smtp.host,
            smtp.port,
            smtp.security,
            if smtp.credentials.is_some() {
                "set"
            } else {
                "none"
            }
        ),
    }
}

/// Returns whether the secrets are usable.
fn secrets(settings: &Settings) -> bool {
    say!("[secrets]");
    match secrets::check(settings) {
        Ok(origin) => {
            say!("secrets          {origin}");
            true
        }
        Err(e) => {
            say!("secrets          ERROR: {e}");
            false
        }
    }
}

/// Returns whether the database answers (or will be created).
async fn database(settings: &Settings) -> bool {
    say!("[database]");
    let database = settings.database.redacted();
    say!(
        "pool             {} connections",
        settings.db_max_connections
    );
    match &settings.database {
        DatabaseUrl::Sqlite { path, create: true } if !path.exists() => {
            say!("database         {database} (will be created at first start)");
            true
        }
        url => match Database::open(
            url,
            PoolOptions {
                max_connections: 1,
                acquire_timeout: serve::CHECK_TIMEOUT,
            },
        ) {
            Ok(db) => match db.health().ping().await {
                Ok(()) => {
                    say!("database         {database} (reachable)");
                    true
                }
                Err(e) => {
                    say!("database         {database} ERROR: {e}");
                    false
                }
            },
            Err(e) => {
                say!("database         {database} ERROR: {e}");
                false
            }
        },
    }
}

/// `wildid config check`.
pub async fn config_check(settings: &Settings) -> ExitCode {
    server(settings);
    http(settings);
    sessions_and_sign_in(settings);
    limits(settings);
    let model = identification(settings);
    journal_and_retention(settings);
    mail(settings);
    let keys = secrets(settings);
    let database = database(settings).await;
    if model && keys && database {
        say!("configuration OK");
        ExitCode::SUCCESS
    } else {
        say!("configuration has errors");
        ExitCode::from(1)
    }
}

//! The effective settings as labelled values, grouped as docs/configuration.md groups them:
//! printed by `wildid config check` and shown to admins on `/admin`. Secrets and credentials
//! are never values here, only whether each is set.

use wildid_adapters_ai::ModelSource;
use wildid_adapters_http::SettingsSection;
use wildid_domain::rate_limit::RateLimit;
use wildid_ports::services::limits::RouteGroup;

use crate::compose;
use crate::config::{MailTransport, Provider, Settings};

/// A section being filled.
struct Section(SettingsSection);

impl Section {
    fn new(name: &str) -> Self {
        Self(SettingsSection {
            name: name.to_owned(),
            rows: Vec::new(),
        })
    }

    fn row(&mut self, label: impl Into<String>, value: String) {
        self.0.rows.push((label.into(), value));
    }

    fn done(self) -> SettingsSection {
        self.0
    }
}

/// Every section but the checks (secrets, database) that only `wildid config check` makes;
/// each offline model in the identification chain described by `model` ([`described`], or a
/// description that loads it).
pub fn sections(
    settings: &Settings,
    model: &dyn Fn(&ModelSource) -> String,
) -> Vec<SettingsSection> {
    vec![
        server(settings),
        http(settings),
        sessions_and_sign_in(settings),
        limits(settings),
        identification(settings, model),
        journal_and_retention(settings),
        mail(settings),
    ]
}

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

/// `local-model, offline (built-in MobileNetV2 weights)`: the offline model as configured,
/// not loaded (what `/admin` shows; `wildid config check` also loads it).
pub fn described(source: &ModelSource) -> String {
    format!("local-model, offline ({})", model_source(source))
}

fn model_source(source: &ModelSource) -> String {
    match source {
        ModelSource::Embedded => "built-in MobileNetV2 weights".to_owned(),
        ModelSource::File(path) => format!("weights from {}", path.display()),
    }
}

fn server(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("Server");
    s.row("environment", format!("{:?}", settings.environment));
    s.row("bind", settings.bind.to_string());
    s.row(
        "public URL",
        settings
            .public_url
            .as_deref()
            .unwrap_or("none (links use the listening address)")
            .to_owned(),
    );
    s.row("data directory", settings.data_dir.display().to_string());
    s.row(
        "shutdown grace",
        format!("{} s", settings.shutdown_grace.as_secs()),
    );
    s.row(
        "log",
        format!("{} ({:?})", settings.log_filter, settings.log_format),
    );
    match settings.metrics_bind {
        Some(at) => s.row("metrics", format!("http://{at}/metrics")),
        None => s.row("metrics", "off".to_owned()),
    }
    s.done()
}

fn http(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("HTTP");
    s.row(
        "secure cookies",
        compose::secure_cookies(settings).to_string(),
    );
    let proxies: Vec<String> = settings
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    s.row("trusted proxies", listed(&proxies));
    s.row(
        "allowed hosts",
        format!(
            "{} (and the public URL's host)",
            settings.allowed_hosts.join(", ")
        ),
    );
    s.row(
        "CORS origins",
        format!(
            "{} (and the public URL's origin)",
            listed(&settings.cors_origins)
        ),
    );
    s.row("map tile origins", listed(&settings.map_tile_origins));
    s.row(
        "upload limit",
        format!("{} bytes", settings.max_upload_bytes),
    );
    s.done()
}

fn sessions_and_sign_in(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("Sessions and sign-in");
    let sessions = &settings.session_policy;
    s.row(
        "sessions",
        format!(
            "idle {} min, signed in {} h, anonymous {} min; {} new anonymous per network",
            sessions.idle_timeout().num_minutes(),
            sessions.absolute_lifetime().num_hours(),
            sessions.anonymous_lifetime().num_minutes(),
            window(&settings.anonymous_sessions_per_hour)
        ),
    );
    let accounts = &settings.accounts;
    s.row(
        "lockout",
        format!(
            "after {} failures, for {} min",
            accounts.lockout.max_failures(),
            accounts.lockout.lock_for().num_minutes()
        ),
    );
    s.row(
        "sign-in limits",
        format!(
            "{} per client address; mail {} per address, {} per client address",
            window(&accounts.login_per_ip),
            window(&accounts.mail_per_address),
            window(&accounts.mail_per_ip)
        ),
    );
    let (memory, iterations, lanes) = settings.argon2;
    s.row(
        "argon2id",
        format!("m={memory} KiB, t={iterations}, p={lanes}"),
    );
    let roles: Vec<String> = settings
        .totp_required_roles
        .iter()
        .map(ToString::to_string)
        .collect();
    s.row("second factor", format!("required for {}", listed(&roles)));
    s.done()
}

fn limits(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("Limits");
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
        s.row(
            format!("requests {:<8}", group.name()),
            format!("{} ({counted})", windows(&limits)),
        );
    }
    let adaptive = &settings.rate_limit;
    s.row("adaptive limit", format!("{} identifications per {} min per session before the check; {} per network, ceiling {} per address", adaptive.threshold(),
        adaptive.window().num_minutes(),
        adaptive.network_threshold(),
        adaptive.ip_ceiling()));

    match settings.captcha {
        Some(kind) => s.row(
            "CAPTCHA",
            format!(
                "{kind:?}, answered within {} s, {} attempts",
                settings.captcha_policy.ttl().num_seconds(),
                settings.captcha_policy.max_attempts()
            ),
        ),
        None => s.row("CAPTCHA", "off".to_owned()),
    }
    s.done()
}

/// The identification chain, each offline model described by `model`.
fn identification(settings: &Settings, model: &dyn Fn(&ModelSource) -> String) -> SettingsSection {
    let mut s = Section::new("Identification");
    let ai = &settings.identification;
    if ai.chain.is_empty() {
        s.row(
            "identification",
            "none (POST /api/identify answers 503)".to_owned(),
        );
    }
    for (i, provider) in ai.chain.iter().enumerate() {
        let label = if i == 0 { "identification" } else { "  then" };
        match provider {
            Provider::Remote(p) => s.row(
                label,
                format!(
                    "{} at {} (model {}, key {}, {} retries, budget {} s)",
                    p.name,
                    p.base_url,
                    p.model,
                    if p.api_key.is_some() { "set" } else { "none" },
                    ai.retry.retries,
                    ai.retry.budget.as_secs()
                ),
            ),
            Provider::LocalModel(source) => s.row(label, model(source)),
        }
    }
    match &settings.clamd {
        Some((address, timeout)) => s.row(
            "malware scan",
            format!("clamd at {address}, verdict within {} s", timeout.as_secs()),
        ),
        None => s.row("malware scan", "off".to_owned()),
    }
    s.done()
}

fn journal_and_retention(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("Journal and retention");
    let journal = &settings.journal;
    s.row(
        "journal",
        format!(
            "photos up to {} bytes, {} bytes per person",
            journal.photo_max_bytes, journal.allowance_bytes
        ),
    );
    s.row(
        "geoprivacy",
        format!(
            "sightings obscured from {} (IUCN) on",
            journal.obscure_from.code().unwrap_or("-")
        ),
    );
    s.row("retention", format!("visit data {} days, read notifications {} days (purged daily); spent sign-in links and delivered mail {} day(s); accounts never confirmed {} days", settings.retention.visit_mappings().num_days(),
        settings.retention.read_notifications().num_days(),
        settings.retention.spent_tokens().num_days(),
        settings.retention.unverified_accounts().num_days()));
    s.done()
}

fn mail(settings: &Settings) -> SettingsSection {
    let mut s = Section::new("Mail");
    s.row("from", settings.mail_from.to_string());
    match &settings.mail_transport {
        MailTransport::Outbox => s.row(
            "transport",
            format!("files in {}", settings.data_dir.join("outbox").display()),
        ),
        MailTransport::Smtp(smtp) => s.row(
            "transport",
            format!(
                "SMTP {}:{} ({:?}), credentials {}",
                smtp.host,
                smtp.port,
                smtp.security,
                if smtp.credentials.is_some() {
                    "set"
                } else {
                    "none"
                }
            ),
        ),
    }
    s.done()
}

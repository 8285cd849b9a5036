//! Whole-configuration checks: defaults, flags, and each section's errors as `validate` names
//! them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};

use wildid_adapters_ai::ClamdAddress;
use wildid_adapters_db::DatabaseUrl;
use wildid_adapters_mail::{SmtpSecurity, SmtpSettings};
use wildid_domain::secret::SecretString;

use super::helpers::SecretValue;
use super::raw::{KEYS, prefixed_variables};
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
    // The session timeouts the server runs with unless told otherwise (ASVS 7.1.1, 7.3.1,
    // 7.3.2; docs/configuration.md): 30 idle minutes, 7 days at most, an hour anonymous.
    assert_eq!(
        s.session_policy.idle_timeout(),
        chrono::TimeDelta::minutes(30)
    );
    assert_eq!(
        s.session_policy.absolute_lifetime(),
        chrono::TimeDelta::days(7)
    );
    assert_eq!(
        s.session_policy.anonymous_lifetime(),
        chrono::TimeDelta::hours(1)
    );
    assert_eq!(s.accounts.unconfirmed_kept, chrono::TimeDelta::days(7));
}

#[test]
fn the_verification_mail_states_the_configured_retention() {
    let mut r = raw();
    r.retention.retention_unverified_days = Some(30);
    let s = validate(r, &Overrides::default()).unwrap();
    assert_eq!(
        s.retention.unverified_accounts(),
        chrono::TimeDelta::days(30)
    );
    assert_eq!(
        s.accounts.unconfirmed_kept,
        chrono::TimeDelta::days(30),
        "the account flows say what the purge does"
    );
}

#[test]
fn bad_values_name_their_variable() {
    let mut r = raw();
    r.server.env = Some("staging".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .starts_with("WILDID_ENV")
    );
    let mut r = raw();
    r.server.bind = Some("localhost".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .starts_with("WILDID_BIND")
    );
    let mut r = raw();
    r.database.database_url = SecretValue(Some(SecretString::new("/no/such/file.db".into())));
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
    r.accounts.magic_link_minutes = Some(10);
    r.accounts.verification_link_hours = Some(2);
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
        r.accounts.magic_link_minutes = minutes;
        r.accounts.verification_link_hours = hours;
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
    r.keys.email_pepper_file = Some(file.clone());
    let s = validate(r, &Overrides::default()).unwrap();
    assert_eq!(s.secrets.email_pepper.unwrap().expose(), "c2VjcmV0");
    let mut r = raw();
    r.keys.email_pepper_file = Some(file);
    r.keys.email_pepper = SecretValue(Some(SecretString::new("x".into())));
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
    r.http.trusted_proxies = Some("10.0.0.0/8, 192.0.2.1".into());
    r.limits.rate_limit_threshold = Some(20);
    let s = validate(r, &Overrides::default()).unwrap();
    assert_eq!(s.trusted_proxies.len(), 2);
    assert_eq!(
        (s.rate_limit.network_threshold(), s.rate_limit.ip_ceiling()),
        (800, 2000),
        "40 and 100 allowances by default"
    );
    let mut r = raw();
    r.limits.rate_limit_threshold = Some(2);
    r.limits.rate_limit_ip_ceiling = Some(4);
    let s = validate(r, &Overrides::default()).unwrap();
    assert_eq!(
        (s.rate_limit.network_threshold(), s.rate_limit.ip_ceiling()),
        (4, 4),
        "a low ceiling alone lowers the network's default"
    );
    let mut r = raw();
    r.limits.rate_limit_network_threshold = Some(5000);
    let s = validate(r, &Overrides::default()).unwrap();
    assert_eq!(s.rate_limit.ip_ceiling(), 5000);
    for (network, ceiling, var) in [
        (Some(5), None, "WILDID_RATE_LIMIT_NETWORK_THRESHOLD"),
        (Some(500), Some(400), "WILDID_RATE_LIMIT_IP_CEILING"),
    ] {
        let mut r = raw();
        r.limits.rate_limit_network_threshold = network;
        r.limits.rate_limit_ip_ceiling = ceiling;
        let e = validate(r, &Overrides::default()).unwrap_err().to_string();
        assert!(e.starts_with(var), "{e}");
    }
    let mut r = raw();
    r.http.trusted_proxies = Some("10.0.0.0/33".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .starts_with("WILDID_TRUSTED_PROXIES")
    );
    let mut r = raw();
    r.sessions.session_idle_minutes = Some(0);
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .starts_with("WILDID_SESSION_IDLE_MINUTES")
    );
    let mut r = raw();
    r.captcha.captcha_kind = Some("recaptcha".into());
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
    r.map.map_tile_origins =
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
        r.map.map_tile_origins = Some(bad.into());
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
    r.server.public_url = Some("https://WildID.example.org/".into());
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
        r.server.public_url = Some(bad.into());
        assert!(
            validate(r, &Overrides::default())
                .unwrap_err()
                .to_string()
                .starts_with("WILDID_PUBLIC_URL"),
            "{bad}"
        );
    }
    let mut r = raw();
    r.server.env = Some("production".into());
    r.server.public_url = Some("http://x.org".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("https")
    );
    let mut r = raw();
    r.accounts.argon2_memory_kib = Some(1024);
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
    r.mail.mail_transport = Some("smtp".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .starts_with("WILDID_SMTP_HOST")
    );
    let mut r = raw();
    r.mail.mail_transport = Some("smtp".into());
    r.mail.smtp_host = Some("mail.example.org".into());
    r.mail.smtp_security = Some("plain".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("loopback")
    );
    let mut r = raw();
    r.mail.mail_transport = Some("smtp".into());
    r.mail.smtp_host = Some("mail.example.org".into());
    r.mail.smtp_username = Some("wildid".into());
    assert!(
        validate(r, &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("both")
    );
    let mut r = raw();
    r.mail.mail_transport = Some("smtp".into());
    r.mail.smtp_host = Some("mail.example.org".into());
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
    r.server.bind = Some("0.0.0.0:1".into());
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
    r.uploads.clamd = Some("tcp://127.0.0.1:3310".into());
    let (address, timeout) = validate(r, &Overrides::default()).unwrap().clamd.unwrap();
    assert_eq!(address, ClamdAddress::Tcp("127.0.0.1:3310".into()));
    assert_eq!(timeout, Duration::from_secs(10));
    for (clamd, timeout, var) in [
        ("clamd.sock", None, "WILDID_CLAMD"),
        ("/run/clamd.sock", Some(0), "WILDID_CLAMD_TIMEOUT_SECONDS"),
    ] {
        let mut r = raw();
        r.uploads.clamd = Some(clamd.into());
        r.uploads.clamd_timeout_seconds = timeout;
        match validate(r, &Overrides::default()) {
            Err(ConfigError::Invalid { var: v, .. }) => assert_eq!(v, var),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_upload_limit_is_bounded() {
    let mut r = raw();
    r.uploads.max_upload_bytes = Some(10);
    assert!(validate(r, &Overrides::default()).is_err());
    let s = validate(raw(), &Overrides::default()).unwrap();
    assert_eq!(s.max_upload_bytes, 10 * 1024 * 1024);
}

#[test]
fn every_key_belongs_to_one_section() {
    let mut keys = KEYS.clone();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), KEYS.len(), "a key declared in two sections");
    let variables = prefixed_variables();
    assert_eq!(variables.len(), KEYS.len() - 1);
    assert!(variables.contains(&"SMTP_PASSWORD_FILE".to_owned()));
    assert!(!variables.contains(&"DATABASE_URL".to_owned()));
}

#[test]
fn the_file_fills_each_section_and_names_a_wrong_key() {
    let extract = |toml: &str| {
        Figment::new()
            .merge(Toml::string(toml))
            .extract::<Raw>()
            .map_err(|e| describe(&e))
    };
    let r = extract("bind = \"0.0.0.0:1\"\nsmtp_port = 2525\nai_api_key = 42\n").unwrap();
    assert_eq!(r.server.bind.as_deref(), Some("0.0.0.0:1"));
    assert_eq!(r.mail.smtp_port, Some(2525));
    assert_eq!(r.ai.ai_api_key.0.unwrap().expose(), "42");
    assert_eq!(
        extract("bnid = \"0.0.0.0:1\"").err().unwrap(),
        "unknown setting `bnid`"
    );
    assert_eq!(
        extract("smtp_port = \"x\"").err().unwrap(),
        "setting `smtp_port` has the wrong type (expected u64)"
    );
    assert_eq!(
        extract("session_key = true").err().unwrap(),
        "setting `session_key` has the wrong type (expected a secret as text)"
    );
}

#[test]
fn every_bad_value_is_named_at_once_each_once() {
    let mut r = raw();
    r.server.env = Some("staging".into());
    r.server.bind = Some("nowhere".into());
    r.logging.log_format = Some("xml".into());
    r.metrics.metrics_bind = Some("9464".into());
    r.sessions.session_idle_minutes = Some(0);
    let error = validate(r, &Overrides::default()).unwrap_err();
    let ConfigError::Several(problems) = &error else {
        panic!("several problems, each named: {error}");
    };
    let named: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(named.len(), 5, "{named:#?}");
    for (problem, var) in named.iter().zip([
        "WILDID_ENV",
        "WILDID_BIND",
        "WILDID_LOG_FORMAT",
        "WILDID_METRICS_BIND",
        "WILDID_SESSION_IDLE_MINUTES",
    ]) {
        assert!(problem.contains(var), "{problem} should name {var}");
    }
    let text = error.to_string();
    assert!(
        text.starts_with("5 problems in the configuration:\n  - WILDID_ENV"),
        "{text}"
    );
    // One bad value is reported as itself.
    let mut r = raw();
    r.logging.log_format = Some("xml".into());
    assert!(matches!(
        validate(r, &Overrides::default()),
        Err(ConfigError::Invalid {
            var: "WILDID_LOG_FORMAT",
            ..
        })
    ));
}

//! The mail settings: who mail is from (`WILDID_MAIL_FROM`) and where it goes
//! (`WILDID_MAIL_TRANSPORT`: the outbox directory, or an SMTP server given by `WILDID_SMTP_*`).

use std::path::PathBuf;
use std::time::Duration;

use wildid_adapters_mail::{Sender, SmtpSecurity, SmtpSettings};

use super::ConfigError;
use super::helpers::{SecretValue, bounded_int, either, invalid, section};

section! {
    /// The mail values as read.
    struct RawMail {
        mail_from: Option<String>,
        mail_transport: Option<String>,
        smtp_host: Option<String>,
        smtp_port: Option<u64>,
        smtp_security: Option<String>,
        smtp_username: Option<String>,
        smtp_password: SecretValue,
        smtp_password_file: Option<PathBuf>,
        smtp_ca_file: Option<PathBuf>,
    }
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `.eml` files in `<data dir>/outbox` (the default).
    Outbox,
    /// An SMTP server.
    Smtp(SmtpSettings),
}

/// `From:` of outgoing mail (default `WildID <no-reply@localhost>`).
pub(super) fn sender(raw: &RawMail) -> Result<Sender, ConfigError> {
    Sender::parse(
        raw.mail_from
            .as_deref()
            .unwrap_or("WildID <no-reply@localhost>"),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_MAIL_FROM",
        why: e.to_string(),
    })
}

/// The outbox (the default), or SMTP with a host, a security that never sends plain text to a
/// remote host, and both or neither of user name and password.
pub(super) fn transport(raw: RawMail, from: &Sender) -> Result<MailTransport, ConfigError> {
    match raw.mail_transport.as_deref().map(str::trim) {
        None | Some("" | "outbox") => Ok(MailTransport::Outbox),
        Some("smtp") => smtp(raw, from).map(MailTransport::Smtp),
        Some(_) => invalid("WILDID_MAIL_TRANSPORT", "expected outbox or smtp"),
    }
}

/// The SMTP server's settings.
fn smtp(raw: RawMail, from: &Sender) -> Result<SmtpSettings, ConfigError> {
    let host = raw
        .smtp_host
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
        from.clone(),
        std::sync::Arc::new(wildid_ports::builtin::OsRandom),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_SMTP_SECURITY",
        why: e.to_string(),
    })?;
    Ok(settings)
}

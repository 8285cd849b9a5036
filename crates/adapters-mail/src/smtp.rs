//! Delivery through an SMTP server (lettre): STARTTLS (port 587), implicit TLS (465), or plain
//! SMTP, which is accepted only towards a loopback address (a local relay), because anywhere
//! else it would send sign-in links in clear. Credentials are optional.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use wildid_domain::mail::OutgoingMail;
use wildid_domain::secret::SecretString;
use wildid_ports::mail::{MailError, Mailer};
use wildid_ports::random::SecureRandom;

use crate::compose::{Sender, compose};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed.
    StartTls,
    /// TLS from the first byte.
    ImplicitTls,
    /// No encryption: loopback relays only.
    Plain,
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Server host name (or address).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, SecretString)>,
    /// An extra trusted CA certificate (PEM), for relays with a private CA.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Connection and command timeout.
    pub timeout: Duration,
}

/// The settings cannot make a transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpSettingsError {
    /// Plain SMTP to a non-loopback host.
    #[error("plain SMTP (no TLS) is only allowed to a loopback relay; use starttls or tls for {0}")]
    PlainToRemote(String),
    /// The CA certificate does not parse.
    #[error("the SMTP CA certificate is not a PEM certificate")]
    BadCertificate,
    /// TLS parameters could not be built.
    #[error("SMTP TLS set-up failed: {0}")]
    Tls(String),
}

/// Hands messages to an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Sender,
    random: std::sync::Arc<dyn SecureRandom>,
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SmtpMailer {
    /// A mailer for `settings`, sending as `from`.
    ///
    /// # Errors
    /// [`SmtpSettingsError`] for insecure or malformed settings.
    pub fn new(
        settings: &SmtpSettings,
        from: Sender,
        random: std::sync::Arc<dyn SecureRandom>,
    ) -> Result<Self, SmtpSettingsError> {
        let tls = match settings.security {
            SmtpSecurity::Plain if !is_loopback(&settings.host) => {
                return Err(SmtpSettingsError::PlainToRemote(settings.host.clone()));
            }
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls | SmtpSecurity::ImplicitTls => {
                let mut builder = TlsParameters::builder(settings.host.clone());
                if let Some(pem) = &settings.extra_ca_pem {
                    builder = builder.add_root_certificate(
                        Certificate::from_pem(pem)
                            .map_err(|_| SmtpSettingsError::BadCertificate)?,
                    );
                }
                let parameters = builder
                    .build()
                    .map_err(|e| SmtpSettingsError::Tls(e.to_string()))?;
                if settings.security == SmtpSecurity::StartTls {
                    Tls::Required(parameters)
                } else {
                    Tls::Wrapper(parameters)
                }
            }
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
                .port(settings.port)
                .tls(tls)
                .timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            random,
        })
    }
}

impl SmtpMailer {
    /// Connects to the SMTP server as a delivery would (TLS as configured, `EHLO`, the login
    /// when credentials are set) and ends the session without sending anything: the start-up
    /// check of the mail transport. Each step waits at most the configured timeout; a caller
    /// that needs a bound on the whole puts one around it.
    ///
    /// # Errors
    /// [`MailError::Unavailable`] naming what failed (connection, TLS or login); the message
    /// never holds the credentials.
    pub async fn probe(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Unavailable(
                "the SMTP server did not answer NOOP".into(),
            )),
            Err(e) => Err(MailError::Unavailable(e.to_string())),
        }
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = compose(mail, &self.from, self.random.as_ref())?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
            Err(e) => Err(MailError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wildid_ports::builtin::OsRandom;

    #[test]
    fn plain_smtp_only_to_loopback() {
        let settings = |host: &str| SmtpSettings {
            host: host.into(),
            port: 25,
            security: SmtpSecurity::Plain,
            credentials: None,
            extra_ca_pem: None,
            timeout: Duration::from_secs(5),
        };
        let from = || Sender::parse("no-reply@localhost").unwrap();
        assert!(
            SmtpMailer::new(
                &settings("127.0.0.1"),
                from(),
                std::sync::Arc::new(OsRandom)
            )
            .is_ok()
        );
        assert!(
            SmtpMailer::new(
                &settings("localhost"),
                from(),
                std::sync::Arc::new(OsRandom)
            )
            .is_ok()
        );
        assert!(matches!(
            SmtpMailer::new(
                &settings("mail.example.org"),
                from(),
                std::sync::Arc::new(OsRandom)
            ),
            Err(SmtpSettingsError::PlainToRemote(_))
        ));
    }
}

//! The SMTP adapter against a real SMTP server process (Python's aiosmtpd, Debian package
//! `python3-aiosmtpd`) on loopback: plain to a local relay, STARTTLS and implicit TLS with a
//! certificate made for the test, and an outage reported as temporary (so the queue retries).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wildid_adapters_mail::{Sender, SmtpMailer, SmtpSecurity, SmtpSettings};
use wildid_domain::email::Email;
use wildid_domain::mail::{MailSubject, OutgoingMail};
use wildid_ports::builtin::OsRandom;
use wildid_ports::mail::{MailError, Mailer};
use wildid_tests::smtp::{SmtpServer, exclusive, free_port, python};

fn mail(n: u32) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse("ann@example.org").unwrap(),
        subject: MailSubject::new(&format!("Sign-in link {n}")).unwrap(),
        text_body: format!(
            "https://wildid.example.org/auth/magic?token={}\n",
            "T".repeat(43)
        ),
        html_body: None,
    }
}

fn mailer(port: u16, host: &str, security: SmtpSecurity, ca: Option<Vec<u8>>) -> SmtpMailer {
    let settings = SmtpSettings {
        host: host.into(),
        port,
        security,
        credentials: None,
        extra_ca_pem: ca,
        timeout: Duration::from_secs(10),
    };
    SmtpMailer::new(
        &settings,
        Sender::parse("WildID <no-reply@wildid.example.org>").unwrap(),
        Arc::new(OsRandom),
    )
    .unwrap()
}

/// A certificate for `localhost`, written as PEM files; returns (cert path, key path, cert PEM).
fn certificate(dir: &Path) -> (String, String, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    (
        cert_path.to_str().unwrap().to_owned(),
        key_path.to_str().unwrap().to_owned(),
        cert.into_bytes(),
    )
}

#[tokio::test]
async fn delivers_to_a_local_relay_and_reports_an_outage_as_temporary() {
    let Some(python) = python() else { return };
    let _smtp = exclusive().await;
    let port = free_port();
    let server = SmtpServer::start(&python, port, &[]);
    let smtp = mailer(server.port, "127.0.0.1", SmtpSecurity::Plain, None);
    smtp.send(&mail(1)).await.unwrap();
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("Subject: Sign-in link 1") && got[0].contains("To: ann@example.org"));
    assert!(got[0].contains(&"T".repeat(43)), "the link arrives whole");
    drop(server);

    // Nothing listens: a temporary failure, so the outbox keeps the message and retries.
    let result = smtp.send(&mail(2)).await;
    assert!(
        matches!(result, Err(MailError::Unavailable(_))),
        "{result:?}"
    );
    let server = SmtpServer::start(&python, port, &[]);
    smtp.send(&mail(2)).await.unwrap();
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn starttls_and_implicit_tls_verify_the_server_certificate() {
    let Some(python) = python() else { return };
    let _smtp = exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path());

    let server = SmtpServer::start(
        &python,
        free_port(),
        &["--tlscert", &cert, "--tlskey", &key],
    );
    mailer(
        server.port,
        "localhost",
        SmtpSecurity::StartTls,
        Some(pem.clone()),
    )
    .send(&mail(3))
    .await
    .unwrap();
    assert_eq!(server.received().len(), 1);
    // Without the test CA the certificate is not trusted, and nothing is sent in clear.
    let untrusted = mailer(server.port, "localhost", SmtpSecurity::StartTls, None)
        .send(&mail(4))
        .await;
    assert!(untrusted.is_err());
    assert_eq!(server.received().len(), 1);
    drop(server);

    let server = SmtpServer::start(
        &python,
        free_port(),
        &["--smtpscert", &cert, "--smtpskey", &key],
    );
    mailer(
        server.port,
        "localhost",
        SmtpSecurity::ImplicitTls,
        Some(pem),
    )
    .send(&mail(5))
    .await
    .unwrap();
    assert_eq!(server.received().len(), 1);

    // A server that offers no STARTTLS is refused when STARTTLS is required.
    let plain = SmtpServer::start(&python, free_port(), &[]);
    let refused = mailer(plain.port, "localhost", SmtpSecurity::StartTls, None)
        .send(&mail(6))
        .await;
    assert!(refused.is_err());
    assert!(plain.received().is_empty());
}

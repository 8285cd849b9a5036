//! The server delivering through a real SMTP server (aiosmtpd) on loopback: mail arrives, and
//! an SMTP outage delays it without losing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use wildid_tests::client::{Client, link_in};
use wildid_tests::server::{Server, ServerOptions};
use wildid_tests::smtp::{SmtpServer, exclusive, free_port, python};

fn smtp_options(port: u16) -> ServerOptions {
    ServerOptions::default()
        .env("WILDID_PUBLIC_URL", "https://wildid.example.org")
        .env("WILDID_MAIL_TRANSPORT", "smtp")
        .env("WILDID_SMTP_HOST", "127.0.0.1")
        .env("WILDID_SMTP_PORT", port.to_string())
        .env("WILDID_SMTP_SECURITY", "plain")
        .env("WILDID_MAIL_FROM", "WildID <no-reply@wildid.example.org>")
}

#[tokio::test]
async fn sign_in_links_go_out_by_smtp_and_survive_an_outage() {
    let Some(python) = python() else { return };
    let _smtp = exclusive().await;
    let port = free_port();
    // The SMTP server is down when the link is asked for.
    let server = Server::start_with(smtp_options(port)).unwrap();
    let mut b = Client::new(&server.url(""));
    assert_eq!(
        b.post_json(
            "/api/auth/magic-link",
            &json!({"email": "field@example.org"})
        )
        .await
        .status,
        202
    );
    server.wait_for_log("mail delivery failed; will retry");

    let smtp = SmtpServer::start(&python, port, &[]);
    // The first retry is 30 s away; make it due now rather than wait.
    wildid_tests::db::make_retries_due(&server.data_dir.join("wildid.db")).await;
    let mails = smtp.wait_for(1).await;
    assert!(mails[0].contains("To: field@example.org"));
    assert!(mails[0].contains("From: WildID <no-reply@wildid.example.org>"));
    let (link, token) = link_in(&mails[0], "/auth/magic");
    assert!(link.starts_with("https://wildid.example.org/auth/magic?token="));
    let r = b
        .post_json(
            "/api/auth/magic-link/redeem",
            &json!({"token": token, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        !server.data_dir.join("outbox").exists(),
        "the file outbox is not used with SMTP"
    );
}

#[test]
fn plain_smtp_to_a_remote_host_stops_the_start() {
    let failure = Server::start_with(
        ServerOptions::default()
            .env("WILDID_MAIL_TRANSPORT", "smtp")
            .env("WILDID_SMTP_HOST", "mail.example.org")
            .env("WILDID_SMTP_SECURITY", "plain"),
    )
    .err()
    .unwrap();
    assert_eq!(failure.status.code(), Some(2));
    assert!(failure.output.contains("loopback"), "{}", failure.output);
}

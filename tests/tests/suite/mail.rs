//! The server delivering through a real SMTP server (aiosmtpd) on loopback: mail arrives, and
//! an SMTP outage delays it without losing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use wildid_tests::accounts;
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

/// Three sign-in links asked for while the SMTP server is down: each waits in the outbox, and
/// once the server is back each goes out exactly once (nothing lost, nothing sent twice). The
/// outage is named at start, and a later start finds the transport answering.
#[tokio::test]
async fn sign_in_links_go_out_by_smtp_and_survive_an_outage() {
    let Some(python) = python() else { return };
    let _smtp = exclusive().await;
    let port = free_port();
    // The SMTP server is down when the links are asked for.
    let server = Server::start_with(smtp_options(port)).unwrap();
    // Checked before the server said it was listening: the outage is named at start.
    let line = server.wait_for_log(&format!(
        "mail transport SMTP 127.0.0.1:{port} did not answer at start"
    ));
    assert!(
        line.contains("WARN") && line.contains("mail waits in the outbox"),
        "{line}"
    );
    let mut b = Client::new(&server.url(""));
    let people = [
        "field@example.org",
        "marsh@example.org",
        "heath@example.org",
    ];
    for email in people {
        let r = b
            .post_json("/api/auth/magic-link", &json!({ "email": email }))
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while accounts::lines(
        &server.data_dir,
        "SELECT CAST(count(*) AS TEXT) AS line FROM mail_outbox WHERE attempts >= 1 AND sent_at IS NULL",
    ) != ["3"]
    {
        assert!(
            std::time::Instant::now() < deadline,
            "each delivery was tried and failed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let smtp = SmtpServer::start(&python, port, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // The first retry is 30 s away; make it due now rather than wait.
    wildid_tests::db::make_retries_due(&server.data_dir.join("wildid.db")).await;
    let mails = smtp.wait_for(3).await;
    while accounts::lines(
        &server.data_dir,
        "SELECT CAST(count(*) AS TEXT) AS line FROM mail_outbox WHERE sent_at IS NULL",
    ) != ["0"]
    {
        assert!(std::time::Instant::now() < deadline, "the outbox empties");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Two more rounds of the mail worker (it looks every second) send nothing again.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let delivered = smtp.received();
    assert_eq!(delivered.len(), 3, "each message exactly once");
    for email in people {
        assert_eq!(
            delivered
                .iter()
                .filter(|m| m.contains(&format!("To: {email}")))
                .count(),
            1,
            "{email}"
        );
    }
    let mail = mails
        .iter()
        .find(|m| m.contains("To: field@example.org"))
        .unwrap();
    assert!(mail.contains("From: WildID <no-reply@wildid.example.org>"));
    let (link, token) = link_in(mail, "/auth/magic");
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
    drop(server);

    // With the SMTP server up, a start finds it answering (an SMTP session, no message).
    let server = Server::start_with(smtp_options(port)).unwrap();
    let line = server.wait_for_log(&format!("mail transport SMTP 127.0.0.1:{port} answered"));
    assert!(line.contains("INFO"), "{line}");
    assert_eq!(smtp.received().len(), 3, "the check sent nothing");
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

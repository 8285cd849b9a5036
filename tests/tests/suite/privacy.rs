//! Email privacy at rest and secrets out of logs, on both backends: every account flow runs
//! against the real server (logging at `debug`), then the database (the SQLite file with its
//! WAL, or a `pg_dump` of the Postgres database) is searched for the addresses, and every log
//! line for the addresses, passwords, tokens, TOTP secrets and codes, recovery codes, session
//! ids and anti-forgery tokens the flows used.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use serde_json::json;
use wildid_domain::totp::TotpSecret;
use wildid_tests::accounts::PASSWORD;
use wildid_tests::client::{Client, link_in, outbox, wait_for_mail};
use wildid_tests::server::{Server, ServerOptions};

const NEW_PASSWORD: &str = "heron basalt umbrella";
const WRONG_PASSWORD: &str = "wrong horse battery";
/// Addresses whose local parts are distinctive enough to search for.
const REGISTERED: &str = "Quiet.Heron@Example.org";
const BY_LINK: &str = "shy.pangolin@example.org";

fn options() -> ServerOptions {
    wildid_tests::accounts::options().env("WILDID_LOG", "debug")
}

/// What must never be found: in the database only the addresses; in the logs everything.
struct Secrets {
    addresses: Vec<String>,
    others: Vec<String>,
}

async fn mail_token(server: &Server, before: usize, path: &str) -> String {
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    link_in(mails.last().unwrap(), path).1
}

/// Runs every account flow once and returns what it used.
async fn every_flow(server: &Server) -> Secrets {
    let mut others: Vec<String> = vec![PASSWORD.into(), NEW_PASSWORD.into(), WRONG_PASSWORD.into()];
    let mut b = Client::new(&server.url(""));

    // Registration, a resend, verification.
    let before = outbox(&server.data_dir).len();
    let r = b
        .post_json(
            "/api/auth/register",
            &json!({"email": REGISTERED, "password": PASSWORD, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    others.push(mail_token(server, before, "/auth/verify").await);
    let before = outbox(&server.data_dir).len();
    let r = b
        .post_json(
            "/api/auth/resend-verification",
            &json!({"email": REGISTERED}),
        )
        .await;
    assert_eq!(r.status, 202);
    let token = mail_token(server, before, "/auth/verify").await;
    others.push(token.clone());
    let r = b
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Password sign-in, wrong then right.
    let r = b
        .post_json(
            "/api/auth/login",
            &json!({"email": REGISTERED, "password": WRONG_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = b
        .post_json(
            "/api/auth/login",
            &json!({"email": REGISTERED, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    others.push(b.session_cookie().unwrap());
    others.push(b.csrf.clone().unwrap());

    // Second factor: enrol, then sign in with a code and with a recovery code.
    let setup = b
        .post_json("/api/account/totp/setup", &json!({}))
        .await
        .json();
    let secret_text = setup["secret"].as_str().unwrap().to_owned();
    let secret = TotpSecret::from_base32(&secret_text).unwrap();
    let code = secret.code_at(Utc::now()).unwrap();
    let r = b
        .post_json(
            "/api/account/totp/confirm",
            &json!({"pending": setup["pending"], "code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovery: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    others.extend([
        secret_text,
        setup["pending"].as_str().unwrap().to_owned(),
        code,
    ]);
    others.extend(recovery.iter().cloned());
    assert_eq!(
        b.post_json("/api/auth/logout", &json!({})).await.status,
        204
    );

    let mut phone = Client::new(&server.url(""));
    let r = phone
        .post_json(
            "/api/auth/login",
            &json!({"email": REGISTERED, "password": PASSWORD, "totp_code": recovery[0]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    others.push(phone.session_cookie().unwrap());

    // A password change after re-authentication, ending the other sessions.
    let code = secret
        .code_at(Utc::now() + chrono::Duration::seconds(30))
        .unwrap();
    let r = phone
        .post_json(
            "/api/auth/reauth",
            &json!({"password": PASSWORD, "totp_code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    others.push(code);
    let r = phone
        .post_json(
            "/api/account/password",
            &json!({"new_password": NEW_PASSWORD, "end_other_sessions": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    others.push(phone.session_cookie().unwrap());

    // A sign-in link for a new address, opened then used.
    let mut fresh = Client::new(&server.url(""));
    let before = outbox(&server.data_dir).len();
    let r = fresh
        .post_json("/api/auth/magic-link", &json!({"email": BY_LINK}))
        .await;
    assert_eq!(r.status, 202);
    let token = mail_token(server, before, "/auth/magic").await;
    assert_eq!(
        fresh
            .get(&format!("/auth/magic?token={token}"))
            .await
            .status,
        200
    );
    let r = fresh
        .post_json(
            "/api/auth/magic-link/redeem",
            &json!({"token": token, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    others.push(token);
    others.push(fresh.session_cookie().unwrap());
    assert_eq!(fresh.get("/api/account/sessions").await.status, 200);

    let addresses = [REGISTERED, BY_LINK]
        .iter()
        .flat_map(|a| {
            let lower = a.to_lowercase();
            let local = lower.split('@').next().unwrap().to_owned();
            [a.to_string(), lower, local]
        })
        .collect();
    Secrets { addresses, others }
}

fn assert_clean_logs(logs: &[String], secrets: &Secrets) {
    assert!(
        logs.len() > 20,
        "debug logging should have produced plenty: {logs:#?}"
    );
    for line in logs {
        let lower = line.to_lowercase();
        for secret in secrets.addresses.iter().chain(&secrets.others) {
            assert!(
                !lower.contains(&secret.to_lowercase()),
                "a log line leaks {secret:?}: {line}"
            );
        }
        assert!(
            !line.contains("token="),
            "a log line carries a token: {line}"
        );
    }
}

fn assert_no_address(haystack: &str, secrets: &Secrets, what: &str) {
    let lower = haystack.to_lowercase();
    for address in &secrets.addresses {
        assert!(
            !lower.contains(&address.to_lowercase()),
            "{what} reveals {address:?}"
        );
    }
}

#[tokio::test]
async fn the_sqlite_file_reveals_no_address_and_the_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = Server::start_with(options().data_dir(&data_dir)).unwrap();
    let secrets = every_flow(&server).await;
    let (status, logs) = server.stop();
    assert!(status.success());
    let mut bytes = Vec::new();
    for name in ["wildid.db", "wildid.db-wal"] {
        if let Ok(content) = std::fs::read(data_dir.join(name)) {
            bytes.extend(content);
        }
    }
    assert!(bytes.len() > 4096, "the database file is there");
    let haystack = String::from_utf8_lossy(&bytes);
    // The search works: the audit log's action names are stored in clear.
    assert!(haystack.contains("magic_link.used"), "search sanity check");
    assert_no_address(&haystack, &secrets, "the SQLite file");
    assert_clean_logs(&logs, &secrets);
}

#[tokio::test]
async fn a_postgres_dump_reveals_no_address_and_the_logs_no_secret() {
    let Some(url) = wildid_tests::db::fresh_postgres_url().await else {
        return;
    };
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!()
    };
    let raw = raw.expose().to_owned();
    let server = Server::start_with(options().env("DATABASE_URL", raw.clone())).unwrap();
    let secrets = every_flow(&server).await;
    let (status, logs) = server.stop();
    assert!(status.success());
    let dump = wildid_tests::pg::dump(&raw).unwrap();
    assert!(
        dump.contains("COPY public.users"),
        "the dump holds the users"
    );
    assert!(dump.contains("magic_link.used"), "search sanity check");
    assert_no_address(&dump, &secrets, "the Postgres dump");
    assert_clean_logs(&logs, &secrets);
}

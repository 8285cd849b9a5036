//! The email pepper rotated end to end (ASVS 11.1.1, 11.1.2), on SQLite and on Postgres:
//! accounts and links made under one pepper; a server given the new pepper with the old one as
//! `WILDID_EMAIL_PEPPER_PREVIOUS` still finds everyone; `wildid keys rekey-emails` moves every
//! digest; the old pepper removed, everyone and every waiting link still works, and no address
//! has two accounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;
use wildid_tests::accounts::{
    PASSWORD, link_for, login, redeemed, register_unconfirmed, registered, sign_in_by_link,
    start_on,
};
use wildid_tests::client::{Client, outbox, wait_for_mail};
use wildid_tests::server::{Server, run_cli};

/// Sets `key` in the development secrets file (removes it for `None`).
fn set_secret(data_dir: &Path, key: &str, value: Option<&str>) {
    let path = data_dir.join("dev-secrets.env");
    let prefix = format!("{key}=");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    if let Some(value) = value {
        lines.push(format!("{key}={value}"));
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn secret(data_dir: &Path, key: &str) -> String {
    let prefix = format!("{key}=");
    std::fs::read_to_string(data_dir.join("dev-secrets.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .unwrap()
}

/// The addresses of every account, as `wildid users list` prints them.
fn addresses(data_dir: &Path, envs: &[(&str, &str)]) -> Vec<String> {
    let (status, out, err) = run_cli(data_dir, envs, &["users", "list"]);
    assert!(status.success(), "{out}{err}");
    let mut found: Vec<String> = out
        .lines()
        .filter_map(|l| l.split('\t').find(|f| f.contains('@')).map(str::to_owned))
        .collect();
    found.sort();
    found
}

/// Opens a sign-in link; who it signed in.
async fn redeem(server: &Server, token: &str) -> (Client, Value) {
    let mut b = redeemed(server, token).await;
    let me = b.get("/api/auth/me").await;
    (b, me.json()["user"].clone())
}

async fn rotation(database: Option<String>) {
    let data = tempfile::tempdir().unwrap();
    let envs: Vec<(&str, &str)> = database
        .as_deref()
        .map(|url| vec![("DATABASE_URL", url)])
        .unwrap_or_default();
    let start = || start_on(data.path(), &envs);

    // Under the first pepper: a password account, a link account, a sign-in link waiting for
    // the link account, and sign-up links waiting for two addresses without accounts.
    let server = start();
    registered(&server, "fern@example.org").await;
    let mut moss = sign_in_by_link(&server, "moss@example.org").await;
    let moss_id = moss.get("/api/auth/me").await.json()["user"]["id"].clone();
    let mut someone = Client::new(&server.url(""));
    let moss_link = link_for(&server, &mut someone, "moss@example.org").await;
    let newt_link = link_for(&server, &mut someone, "newt@example.org").await;
    let heron_link = link_for(&server, &mut someone, "heron@example.org").await;
    let (status, _) = server.stop();
    assert!(status.success());
    let old = secret(data.path(), "WILDID_EMAIL_PEPPER");
    let (status, generated, _) = run_cli(data.path(), &[], &["keys", "generate"]);
    assert!(status.success());
    let new = generated
        .lines()
        .find_map(|l| l.strip_prefix("WILDID_EMAIL_PEPPER="))
        .unwrap()
        .to_owned();

    // The control: the new pepper alone finds no one made under the old one.
    set_secret(data.path(), "WILDID_EMAIL_PEPPER", Some(&new));
    let server = start();
    let mut fern = Client::new(&server.url(""));
    let r = login(&mut fern, "fern@example.org", PASSWORD).await;
    assert_eq!(
        r.status, 401,
        "without the old pepper the account is lost: {}",
        r.body
    );
    let (status, _) = server.stop();
    assert!(status.success());

    // A previous pepper equal to the current one is refused at start, named.
    set_secret(data.path(), "WILDID_EMAIL_PEPPER_PREVIOUS", Some(&new));
    let (status, out, err) = run_cli(data.path(), &envs, &["config", "check"]);
    assert!(!status.success());
    assert!(
        format!("{out}{err}").contains("WILDID_EMAIL_PEPPER_PREVIOUS"),
        "{out}{err}"
    );
    assert!(!format!("{out}{err}").contains(&new), "never echoed");

    // The ring: new pepper first, the old one still tried.
    set_secret(data.path(), "WILDID_EMAIL_PEPPER_PREVIOUS", Some(&old));
    let (status, out, err) = run_cli(data.path(), &envs, &["config", "check"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("1 previous email pepper(s)"), "{out}");
    assert!(!out.contains(&old) && !out.contains(&new), "never shown");
    let server = start();
    let mut fern = Client::new(&server.url(""));
    let r = login(&mut fern, "fern@example.org", PASSWORD).await;
    assert_eq!(r.status, 200, "found under the previous pepper: {}", r.body);
    // Registering the address again makes no second account (its owner is told instead).
    let before = outbox(data.path()).len();
    register_unconfirmed(&server, "fern@example.org").await;
    let told = wait_for_mail(data.path(), before + 1).await;
    assert!(told.last().unwrap().contains("To: fern@example.org"));
    // A new sign-in link for fern reaches the same account (moss's link is kept for later:
    // a new one would void it).
    let fern_id = fern.get("/api/auth/me").await.json()["user"]["id"].clone();
    let mut again = Client::new(&server.url(""));
    let fresh = link_for(&server, &mut again, "fern@example.org").await;
    let (_, me) = redeem(&server, &fresh).await;
    assert_eq!(me["id"], fern_id, "the same account, not a new one");
    // A sign-up link sent before the rotation makes its account now.
    let (_, newt) = redeem(&server, &newt_link).await;
    assert_eq!(newt["email"], "newt@example.org");
    let (status, _) = server.stop();
    assert!(status.success());
    assert_eq!(
        addresses(data.path(), &envs),
        ["fern@example.org", "moss@example.org", "newt@example.org"]
    );

    // The walk: fern and moss move (moss's waiting link with it), heron's sign-up link too.
    let (status, out, err) = run_cli(data.path(), &envs, &["keys", "rekey-emails"]);
    assert!(status.success(), "{out}{err}");
    assert!(
        out.contains("moved 2 account(s) and 1 link(s)") && out.contains("0 in conflict"),
        "{out}"
    );
    assert!(
        out.contains("WILDID_EMAIL_PEPPER_PREVIOUS can be removed"),
        "{out}"
    );
    for secret in [&old, &new] {
        assert!(!out.contains(secret.as_str()) && !err.contains(secret.as_str()));
    }
    let (status, out, _) = run_cli(data.path(), &envs, &["keys", "rekey-emails"]);
    assert!(status.success());
    assert!(out.contains("moved 0 account(s) and 0 link(s)"), "{out}");
    if database.is_none() {
        wildid_tests::accounts::assert_audited(data.path(), &["keys.email_rekeyed"]);
    }

    // The old pepper goes; everyone and every waiting link still works.
    set_secret(data.path(), "WILDID_EMAIL_PEPPER_PREVIOUS", None);
    let server = start();
    let mut fern = Client::new(&server.url(""));
    let r = login(&mut fern, "fern@example.org", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, me) = redeem(&server, &moss_link).await;
    assert_eq!(me["id"], moss_id, "a link sent before the rotation");
    let (_, heron) = redeem(&server, &heron_link).await;
    assert_eq!(heron["email"], "heron@example.org");
    let (status, out, _) = run_cli(data.path(), &envs, &["users", "find", "newt@example.org"]);
    assert!(status.success(), "{out}");
    let (status, _) = server.stop();
    assert!(status.success());
    assert_eq!(
        addresses(data.path(), &envs),
        [
            "fern@example.org",
            "heron@example.org",
            "moss@example.org",
            "newt@example.org"
        ],
        "one account per address"
    );
    let (status, out, _) = run_cli(data.path(), &envs, &["audit", "verify"]);
    assert!(status.success(), "{out}");
}

#[tokio::test]
async fn an_email_pepper_rotation_keeps_every_account_and_link_on_sqlite() {
    rotation(None).await;
}

#[tokio::test]
async fn an_email_pepper_rotation_keeps_every_account_and_link_on_postgres() {
    let Some(url) = wildid_tests::db::fresh_postgres_url_text().await else {
        return;
    };
    rotation(Some(url)).await;
}

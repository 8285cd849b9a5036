//! Key rotation end to end (seed 004 item 18), on SQLite and on Postgres: data sealed under
//! one key, `wildid keys rotate`, `wildid keys reencrypt`, the old key removed, and everything
//! still opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeDelta, Utc};
use serde_json::json;
use wildid_tests::accounts::{link_for, sign_in_by_link, staff_with_secret, start_on};
use wildid_tests::client::Client;
use wildid_tests::server::run_cli;

use crate::visits::{booked_with_token, catalogue, quarter_after};

/// The development secrets file's key ring.
fn ring(data_dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(data_dir.join("dev-secrets.env")).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("WILDID_FERNET_KEYS="))
        .unwrap();
    line.split(',').map(str::to_owned).collect()
}

/// Keeps only the newest key in the development secrets file.
fn retire_older_keys(data_dir: &std::path::Path) {
    let path = data_dir.join("dev-secrets.env");
    let newest = ring(data_dir).remove(0);
    let text: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("WILDID_FERNET_KEYS=") {
                format!("WILDID_FERNET_KEYS={newest}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
}

async fn rotation(database: Option<String>) {
    let data = tempfile::tempdir().unwrap();
    let envs: Vec<(&str, &str)> = database
        .as_deref()
        .map(|url| vec![("DATABASE_URL", url)])
        .unwrap_or_default();
    let start = || start_on(data.path(), &envs);

    // Under the first key: addresses, second factors, mail, a visit token and its mapping.
    let server = start();
    let (mut admin, _) = staff_with_secret(&server, &envs, "chief@example.org", "admin").await;
    let (mut ranger, ranger_secret) =
        staff_with_secret(&server, &envs, "ranger@example.org", "worker").await;
    let (site, walk) = catalogue(&mut admin, 10).await;
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;
    let (booking, token) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::minutes(1)),
    )
    .await;
    let claim = format!("/api/worker/bookings/{booking}/claim");
    assert_eq!(ranger.post_json(&claim, &json!({})).await.status, 200);
    let check_in = format!("/api/worker/bookings/{booking}/check-in");
    let r = ranger.post_json(&check_in, &json!({"token": token})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A later visit, its token still waiting to be shown at arrival.
    let (later, later_token) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::days(2)),
    )
    .await;
    let (status, _) = server.stop();
    assert!(status.success());
    let first = ring(data.path());
    assert_eq!(first.len(), 1);

    // A ring given in the environment: the new one is printed, the file left alone.
    let mut given = envs.clone();
    given.push(("WILDID_FERNET_KEYS", first[0].as_str()));
    let (status, out, _) = run_cli(data.path(), &given, &["keys", "rotate"]);
    assert!(status.success());
    let printed = out
        .lines()
        .find_map(|l| l.strip_prefix("WILDID_FERNET_KEYS="))
        .unwrap();
    assert!(printed.ends_with(&format!(",{}", first[0])), "{out}");
    assert_eq!(ring(data.path()), first);

    // A new key first, the old one kept.
    let (status, out, err) = run_cli(data.path(), &envs, &["keys", "rotate"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("now holds 2 Fernet keys"), "{out}");
    let rotated = ring(data.path());
    assert_eq!((rotated.len(), &rotated[1]), (2, &first[0]));
    assert!(!out.contains(&rotated[0]), "the key is not printed");
    let (status, out, _) = run_cli(data.path(), &envs, &["keys", "status"]);
    assert!(status.success());
    assert!(
        out.contains("not walked under this key") && out.contains("still needed"),
        "{out}"
    );

    // Every value is rewritten under it.
    let (status, out, err) = run_cli(data.path(), &envs, &["keys", "reencrypt"]);
    assert!(status.success(), "{out}{err}");
    let counts: Vec<u64> = out
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        counts.len() >= 3 && counts[0] == counts[1] && counts[0] >= 8 && counts[2] == 0,
        "every value rewritten, none unreadable: {out}"
    );
    assert!(out.contains("older keys can be removed"), "{out}");
    let (status, out, _) = run_cli(data.path(), &envs, &["keys", "reencrypt"]);
    assert!(status.success());
    assert!(out.contains("already walked"), "{out}");

    // The admin console says the same: two keys, every kind of value walked, the older key
    // free to go.
    let server = start();
    let mut console = Client::new(&server.url(""));
    console.set_session_cookie(&admin.session_cookie().unwrap());
    let page = console.get("/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let card = wildid_tests::client::section(&page.body, "keys");
    assert!(card.contains("the ring holds 2 key(s)"), "{card}");
    assert!(
        card.contains("the older keys can be removed from WILDID_FERNET_KEYS"),
        "{card}"
    );
    assert!(
        card.contains("Email addresses") && card.contains("Visit tokens"),
        "{card}"
    );
    assert!(
        card.matches("<td data-label=\"State\">done</td>").count() == 6
            && !card.contains(">waiting</td>"),
        "every kind of value walked: {card}"
    );
    let (status, _) = server.stop();
    assert!(status.success());

    // The old key goes; everything still opens.
    retire_older_keys(data.path());
    let server = start();
    // The same people, their sessions kept across the restart (the server listens elsewhere).
    let moved = |client: &Client| {
        let mut again = Client::new(&server.url(""));
        again.set_session_cookie(&client.session_cookie().unwrap());
        again
    };
    let (mut admin, mut ranger, mut visitor) = (moved(&admin), moved(&ranger), moved(&visitor));
    // Addresses: the admins' list shows them, and mail reaches them.
    let users = admin.get("/api/admin/users").await;
    assert_eq!(users.status, 200, "{}", users.body);
    assert!(users.body.contains("walker@example.org"), "{}", users.body);
    // The visit token and the visit mapping.
    let shown = visitor.get(&format!("/api/bookings/{later}/token")).await;
    assert_eq!(shown.json()["token"], json!(later_token), "{}", shown.body);
    let from = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();
    let to = (Utc::now() + TimeDelta::minutes(4)).to_rfc3339();
    shift_visit(&envs, data.path()).await;
    let r = ranger
        .post_json(
            "/api/exposures",
            &json!({"site_id": site, "from": from, "to": to, "note": "Avian influenza at the marsh."}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["notified"].clone()),
        (201, json!(1)),
        "{}",
        r.body
    );
    // The second factor: a fresh sign-in with the code.
    let mut fresh = Client::new(&server.url(""));
    let link = link_for(&server, &mut fresh, "ranger@example.org").await;
    let code = ranger_secret
        .code_at(Utc::now() + TimeDelta::seconds(30))
        .unwrap();
    let r = fresh
        .post_json(
            "/api/auth/magic-link/redeem",
            &json!({"token": link, "totp_code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, logs) = server.stop();
    assert!(status.success());
    assert!(
        !logs.iter().any(|l| l.contains("cannot be decrypted")),
        "{logs:#?}"
    );
}

/// Moves the checked-in visit into the last hour, so that an exposure window that ends now
/// covers it (slots start on the quarter hour, in the future).
async fn shift_visit(envs: &[(&str, &str)], data_dir: &std::path::Path) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let start = (Utc::now() - TimeDelta::minutes(30)).format("%Y-%m-%d %H:%M:%S");
    let sql = format!("UPDATE visit_mappings SET visit_start = '{start}'");
    match envs.iter().find(|(k, _)| *k == "DATABASE_URL") {
        None => wildid_tests::accounts::sqlite(data_dir, &sql),
        Some((_, url)) => AsyncPgConnection::establish(url)
            .await
            .unwrap()
            .batch_execute(&sql)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_rotated_key_is_rolled_over_every_value_and_the_old_key_retired_on_sqlite() {
    rotation(None).await;
}

#[tokio::test]
async fn a_rotated_key_is_rolled_over_every_value_and_the_old_key_retired_on_postgres() {
    let Some(url) = wildid_tests::db::fresh_postgres_url_text().await else {
        return;
    };
    rotation(Some(url)).await;
}

//! Two `wildid serve` processes on one Postgres database behave as one site (issue 18,
//! "Several servers, one Postgres"): a session started on one is the same session on the
//! other, and ending it on one ends it on both; a lockout reached through one holds on the
//! other, and so does a request limit kept in the database; every message queued by either
//! goes out exactly once; a journal page seen on one is seen anew when the journal changes
//! through the other. (A CAPTCHA issued by one and
//! passed on the other: `captcha.rs`; the identification counts: `identify.rs`; one purge at a
//! time among several processes: the lease contract.) The daily purge runs on one of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use wildid_tests::accounts::{self, PASSWORD, login};
use wildid_tests::client::{Client, link_in, outbox};
use wildid_tests::scrape::{metrics_url, scrape, value};
use wildid_tests::server::{Server, two_on_one_postgres};

/// Two servers on one Postgres database with `extra` settings; `None` where Postgres is not
/// available.
async fn two_servers(extra: &[(&str, &str)]) -> Option<(Server, Server)> {
    two_on_one_postgres(|| {
        extra
            .iter()
            .fold(accounts::options(), |options, (key, value)| {
                options.env(key, *value)
            })
    })
    .await
}

/// Every message either server has written to its outbox directory.
fn sent_by_both(first: &Server, second: &Server) -> Vec<String> {
    let mut sent = outbox(&first.data_dir);
    sent.extend(outbox(&second.data_dir));
    sent
}

/// The newest message to `address` that either server wrote (the worker of either may deliver
/// what the other queued), waiting for it.
async fn mail_to(first: &Server, second: &Server, address: &str, nth: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let to: Vec<String> = sent_by_both(first, second)
            .into_iter()
            .filter(|m| m.contains(&format!("To: {address}")))
            .collect();
        if to.len() >= nth {
            return to[nth - 1].clone();
        }
        assert!(Instant::now() < deadline, "no message {nth} to {address}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_session_started_on_one_server_is_the_same_session_on_the_other() {
    let Some((first, second)) = two_servers(&[]).await else {
        return;
    };
    let mut on_first = signed_in(&first, &second, "heron@example.org").await;
    let mut on_second = on_first.pointed_at(&second.url(""));
    let me = on_second.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert!(me.body.contains("heron@example.org"), "{}", me.body);
    // A change through one is seen by the other at once.
    let r = on_second.post_json("/api/auth/logout", &json!({})).await;
    assert!(r.status < 400, "{}", r.body);
    assert_eq!(on_first.get("/api/auth/me").await.status, 401);
}

#[tokio::test]
async fn a_lockout_reached_through_one_server_holds_on_the_other() {
    let Some((first, second)) = two_servers(&[("WILDID_LOCKOUT_ATTEMPTS", "3")]).await else {
        return;
    };
    let mut browser = Client::new(&first.url(""));
    let r = browser
        .post_json(
            "/api/auth/register",
            &json!({"email": "egret@example.org", "password": PASSWORD, "accept_privacy": true}),
        )
        .await;
    assert!(r.status < 400, "{}", r.body);
    let mail = mail_to(&first, &second, "egret@example.org", 1).await;
    let token = link_in(&mail, "/auth/verify").1;
    let r = browser
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert!(r.status < 400, "{}", r.body);
    // The failures alternate between the servers, as a load balancer would send them.
    for attempt in 0..3 {
        let server = if attempt % 2 == 0 { &first } else { &second };
        let mut here = browser.pointed_at(&server.url(""));
        let r = login(&mut here, "egret@example.org", "not the password at all").await;
        // The third failure, counted with the two made on the other server, locks.
        let expected = if attempt < 2 { 401 } else { 403 };
        assert_eq!(r.status, expected, "attempt {attempt}: {}", r.body);
        browser = here;
    }
    for server in [&first, &second] {
        let mut here = browser.pointed_at(&server.url(""));
        let r = login(&mut here, "egret@example.org", PASSWORD).await;
        assert_eq!(
            (r.status, r.error().as_str()),
            (403, "account_locked"),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn a_request_limit_reached_through_one_server_holds_on_the_other() {
    // The sign-in group's counters live in the database (the `default` group's, by choice, in
    // each process: docs/deployment.md).
    let Some((first, second)) = two_servers(&[("WILDID_LIMIT_SIGN_IN", "4/hour")]).await else {
        return;
    };
    let mut browser = Client::new(&first.url(""));
    for n in 0..4 {
        let server = if n % 2 == 0 { &first } else { &second };
        let mut here = browser.pointed_at(&server.url(""));
        let r = here
            .post_json(
                "/api/auth/magic-link",
                &json!({"email": format!("plover{n}@example.org")}),
            )
            .await;
        assert_eq!(r.status, 202, "request {n}: {}", r.body);
        browser = here;
    }
    // The fifth, on either server, is over the limit the four made together.
    for server in [&first, &second] {
        let mut here = browser.pointed_at(&server.url(""));
        let r = here
            .post_json(
                "/api/auth/magic-link",
                &json!({"email": "plover9@example.org"}),
            )
            .await;
        assert_eq!(
            (r.status, r.error().as_str()),
            (429, "too_many_requests"),
            "{}",
            r.body
        );
        assert!(r.header("retry-after").is_some());
    }
}

#[tokio::test]
async fn every_message_queued_by_either_server_goes_out_exactly_once() {
    let Some((first, second)) = two_servers(&[]).await else {
        return;
    };
    let addresses: Vec<String> = (0..12).map(|n| format!("tern{n}@example.org")).collect();
    for (n, address) in addresses.iter().enumerate() {
        let server = if n % 2 == 0 { &first } else { &second };
        let mut browser = Client::new(&server.url(""));
        let r = browser
            .post_json("/api/auth/magic-link", &json!({"email": address}))
            .await;
        assert!(r.status < 400, "{}", r.body);
    }
    // Both servers' mail workers claim from the one outbox table; each message is written once,
    // to the outbox directory of whichever server sent it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let sent = loop {
        let sent = sent_by_both(&first, &second);
        if sent.len() >= addresses.len() || Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Give a duplicate the time to appear.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = sent_by_both(&first, &second);
    assert_eq!(again.len(), sent.len(), "no message is sent twice");
    let mut per_address: BTreeMap<&str, usize> = BTreeMap::new();
    for mail in &again {
        let to = addresses
            .iter()
            .find(|a| mail.contains(&format!("To: {a}")))
            .unwrap_or_else(|| panic!("a message to no one asked for: {mail}"));
        *per_address.entry(to.as_str()).or_default() += 1;
    }
    assert_eq!(per_address.len(), addresses.len(), "{per_address:?}");
    assert!(per_address.values().all(|n| *n == 1), "{per_address:?}");
}

/// The daily retention purge runs on one server only: each runs its first maintenance round at
/// start, and the one that comes second finds the purge done (or being done) by the other.
/// Counted by outcome in each server's own metrics.
#[tokio::test]
async fn the_daily_purge_runs_on_one_server_of_two() {
    let Some((first, second)) = two_servers(&[("WILDID_METRICS_BIND", "127.0.0.1:0")]).await else {
        return;
    };
    let outcome = |parsed: &prometheus_parse::Scrape, outcome: &str| {
        value(
            parsed,
            "wildid_job_runs_total",
            &[("job", "visit_purge"), ("outcome", outcome)],
        )
        .unwrap_or(0.0)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs = loop {
        let mut runs = BTreeMap::new();
        for server in [&first, &second] {
            let (_, parsed) = scrape(&metrics_url(server)).await;
            for name in ["ok", "not_due", "busy", "failed"] {
                *runs.entry(name).or_insert(0.0) += outcome(&parsed, name);
            }
        }
        if runs.values().sum::<f64>() >= 2.0 {
            break runs;
        }
        assert!(Instant::now() < deadline, "both first rounds ran: {runs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(runs["ok"], 1.0, "purged once: {runs:?}");
    assert_eq!(runs["not_due"] + runs["busy"], 1.0, "{runs:?}");
    assert_eq!(runs["failed"], 0.0, "{runs:?}");
}

/// Signs in `address` by link on `first`; the client, on `first`.
async fn signed_in(first: &Server, second: &Server, address: &str) -> Client {
    let mut client = Client::new(&first.url(""));
    let r = client
        .post_json("/api/auth/magic-link", &json!({"email": address}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mail = mail_to(first, second, address, 1).await;
    let token = link_in(&mail, "/auth/magic").1;
    let r = client
        .post_json(
            "/api/auth/magic-link/redeem",
            &json!({"token": token, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    client
}

#[tokio::test]
async fn a_journal_page_kept_by_one_server_is_made_anew_when_the_other_changes_the_journal() {
    let provider = wildid_tests::provider::FakeProvider::start();
    let Some((first, second)) = two_on_one_postgres(|| {
        accounts::options()
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", provider.base_url())
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_API_KEY", "sk-test-two-servers")
    })
    .await
    else {
        return;
    };
    let mut on_first = signed_in(&first, &second, "plover@example.org").await;
    let mut on_second = on_first.pointed_at(&second.url(""));
    let photo = wildid_tests::photos::small_png();
    // The second server makes (and keeps) the page of an empty journal, twice.
    for _ in 0..2 {
        let page = on_second.get("/history").await;
        assert!(page.body.contains("Your journal is empty"), "{}", page.body);
    }
    // An entry kept through the first is on the second's page at once.
    let r = on_first
        .post_multipart("/api/identify", &[("image", &photo)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let page = on_second.get("/history").await;
    assert!(
        page.body.contains(&format!("/history/{id}")),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Marked wrong"));
    // So is feedback given through the first, and a deletion.
    let r = on_first
        .post_json(
            "/api/feedback",
            &json!({"identification_id": id, "correct": false}),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    let page = on_second.get("/history").await;
    assert!(page.body.contains("Marked wrong"), "{}", page.body);
    let r = on_first.delete(&format!("/api/identifications/{id}")).await;
    assert!(r.status < 300, "{}", r.body);
    let page = on_second.get("/history").await;
    assert!(page.body.contains("Your journal is empty"), "{}", page.body);
}

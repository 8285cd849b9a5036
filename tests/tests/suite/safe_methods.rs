//! ASVS 3.5.3: no GET route changes stored state. Every GET route of the route table (read
//! from the router itself, so a route added later is walked without a new test) is requested
//! by an anonymous browser, a visitor, a worker and an admin, with real ids in its path and,
//! for the pages that mail links open, with real unused tokens; the server's SQLite file is
//! compared table by table before and after each request.
//!
//! Two stores are left out of the comparison, because every request writes them: the
//! request-limit counters (every request counts) and the audit log (a record of the request,
//! e.g. a data export; it changes no one's data). Sessions are compared apart: a GET may start
//! an anonymous session (to hold the anti-forgery token) and move a session's last activity
//! (the idle timeout needs it), and nothing else: no session ends, is signed in, changes its
//! trust or its authentication time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use axum::http::Method;
use chrono::TimeDelta;
use serde_json::json;
use wildid_tests::accounts::{self, lines, link_for, sign_in_by_link, staff_with_totp, table_rows};
use wildid_tests::client::{Client, link_in, outbox, wait_for_mail};
use wildid_tests::provider::FakeProvider;
use wildid_tests::server::{Server, ServerOptions};

use crate::visits::{catalogue, quarter_after};

/// Stores a GET writes on purpose (see the module doc).
const WRITTEN_BY_ANY_REQUEST: &[&str] =
    &["sessions", "rate_limits", "audit_log", "audit_chain_lock"];

fn options(provider: &FakeProvider) -> ServerOptions {
    accounts::options()
        .env("WILDID_AI_PROVIDER", "test")
        .env("WILDID_AI_BASE_URL", provider.base_url())
        .env("WILDID_AI_MODEL", "test-vision")
        .env("WILDID_AI_API_KEY", "sk-test-safe-methods")
        .env("WILDID_RATE_LIMIT_THRESHOLD", "1000")
        .env("WILDID_LIMIT_DEFAULT", "off")
}

fn snapshot(server: &Server) -> BTreeMap<String, Vec<String>> {
    table_rows(&server.data_dir, WRITTEN_BY_ANY_REQUEST)
}

/// Every session, each row without its last activity, sorted; and the anonymous ones apart.
fn sessions(server: &Server) -> (Vec<String>, Vec<String>) {
    let row = "quote(key) || '|' || quote(user_id) || '|' || quote(fingerprint) || '|' || \
               quote(csrf) || '|' || quote(created_at) || '|' || quote(authenticated_at) || '|' || \
               quote(request_count) || '|' || quote(window_started_at) || '|' || \
               quote(rate_limited) || '|' || quote(is_trusted) || '|' || \
               quote(captcha_passed_at) || '|' || quote(coarse_ip) || '|' || quote(device)";
    let mut all = lines(
        &server.data_dir,
        &format!("SELECT {row} AS line FROM sessions"),
    );
    all.sort();
    let mut anonymous = lines(
        &server.data_dir,
        &format!(
            "SELECT {row} AS line FROM sessions WHERE user_id IS NULL AND authenticated_at IS NULL"
        ),
    );
    anonymous.sort();
    (all, anonymous)
}

/// Whether the sessions went from `before` to `after` only by new anonymous ones.
fn only_new_anonymous_sessions(
    before: &(Vec<String>, Vec<String>),
    after: &(Vec<String>, Vec<String>),
) -> bool {
    let kept = before.0.iter().all(|row| after.0.contains(row));
    let added_are_anonymous = after
        .0
        .iter()
        .filter(|row| !before.0.contains(row))
        .all(|row| after.1.contains(row));
    kept && added_are_anonymous
}

/// The tables whose rows differ between two snapshots.
fn changed(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|t| before.get(*t) != after.get(*t))
        .cloned()
        .collect()
}

/// A small PNG to identify.
fn photo() -> Vec<u8> {
    wildid_tests::photos::small_png()
}

#[tokio::test]
async fn no_get_route_changes_stored_state_for_anyone() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut admin = staff_with_totp(&server, "warden@example.org", "admin").await;
    let worker = staff_with_totp(&server, "ranger@example.org", "worker").await;
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;

    // Something of everyone's to read: a journal entry, a booking, a catalogue.
    let image = photo();
    let r = visitor
        .post_multipart(
            "/api/identify",
            &[
                ("image", &image),
                ("latitude", b"-33.85"),
                ("longitude", b"151.21"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let entry = r.json()["id"].as_str().unwrap().to_owned();
    let (site, walk) = catalogue(&mut admin, 10).await;
    let r = visitor
        .post_json(
            "/api/bookings",
            &json!({"site_id": site, "service_id": walk,
                    "starts_at": quarter_after(TimeDelta::days(2)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = r.json()["id"].as_str().unwrap().to_owned();

    // Unused tokens of each kind a mail link carries, for the pages those links open.
    let sign_in = link_for(
        &server,
        &mut Client::new(&server.url("")),
        "walker@example.org",
    )
    .await;
    let before = outbox(&server.data_dir).len();
    let r = Client::new(&server.url(""))
        .post_json(
            "/api/auth/register",
            &json!({"email": "newcomer@example.org", "password": accounts::PASSWORD,
                    "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    let (_, verify) = link_in(mails.last().unwrap(), "/auth/verify");
    let before = outbox(&server.data_dir).len();
    let r = visitor
        .post_json(
            "/api/account/email",
            &json!({"new_email": "walker.new@example.org"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    let (_, confirm) = link_in(mails.last().unwrap(), "/account/email/confirm");
    let tokens: BTreeMap<&str, String> = [
        ("/auth/magic", sign_in),
        ("/auth/verify", verify),
        ("/account/email/confirm", confirm),
    ]
    .into_iter()
    .collect();

    // Each GET route as a concrete address (and, for a link page, once more with its token).
    let mut paths = Vec::new();
    for route in wildid_adapters_http::declared_routes() {
        if route.method != Method::GET {
            continue;
        }
        let path = route
            .path
            .replace("/history/{id}", &format!("/history/{entry}"))
            .replace(
                "/api/identifications/{id}",
                &format!("/api/identifications/{entry}"),
            )
            .replace("/api/bookings/{id}", &format!("/api/bookings/{booking}"))
            .replace("/static/{file}", "/static/app.css");
        assert!(
            !path.contains('{'),
            "{}: give this path parameter a real value here",
            route.path
        );
        if let Some(token) = tokens.get(route.path) {
            paths.push(format!("{path}?token={token}"));
        }
        paths.push(path);
    }
    assert!(paths.len() > 40, "the table's GET routes: {paths:?}");

    let mut browsers = [
        ("anonymous", Client::new(&server.url(""))),
        ("visitor", visitor),
        ("worker", worker),
        ("admin", admin),
    ];
    let mut answered = BTreeMap::new();
    for (who, browser) in &mut browsers {
        for path in &paths {
            let before = snapshot(&server);
            let sessions_before = sessions(&server);
            let r = browser.get(path).await;
            assert!(r.status < 500, "{who} GET {path}: {} {}", r.status, r.body);
            // ASVS 14.2.1: no address or session id goes into a URL the server sends.
            let location = r.header("location").unwrap_or_default().to_owned();
            let cookie = browser.session_cookie().unwrap_or_default();
            assert!(
                !location.contains('@')
                    && !location.to_ascii_lowercase().contains("%40")
                    && (cookie.is_empty() || !location.contains(&cookie)),
                "{who} GET {path} sent to {location}"
            );
            *answered.entry(r.status).or_insert(0) += 1;
            let after = snapshot(&server);
            let sessions_after = sessions(&server);
            assert!(
                only_new_anonymous_sessions(&sessions_before, &sessions_after),
                "{who} GET {path} ({}) changed a session:\n{:?}\n->\n{:?}",
                r.status,
                sessions_before.0,
                sessions_after.0
            );
            assert!(
                changed(&before, &after).is_empty(),
                "{who} GET {path} ({}) changed {:?}",
                r.status,
                changed(&before, &after)
            );
        }
    }
    // Real reads, not just refusals: most requests found what they asked for.
    assert!(
        answered.get(&200).copied().unwrap_or(0) > paths.len() * 2,
        "{answered:?}"
    );

    // And the tokens shown on their pages still work (the comparison above already says no
    // row changed; this says the pages did not need one to).
    let r = browsers[1]
        .1
        .post_json(
            "/api/account/email/confirm",
            &json!({"token": tokens["/account/email/confirm"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

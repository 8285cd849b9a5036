//! The request defenses over HTTP against the real server: general limits per client address
//! and route group that a fresh cookie does not escape and that two server processes on one
//! Postgres share, the cap on anonymous sessions, and the public URL's host and origin added to
//! the host allowlist and the CORS list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use wildid_tests::client::Client;
use wildid_tests::server::{Server, ServerOptions};

/// The public URL's host is served and its origin is a CORS origin without being listed in
/// `WILDID_ALLOWED_HOSTS` or `WILDID_CORS_ALLOWED_ORIGINS` (seed §13); other hosts and origins
/// are refused as before.
#[tokio::test]
async fn the_public_url_adds_its_host_and_origin() {
    const PUBLIC: &str = "http://wildid.example.org";
    let server =
        Server::start_with(ServerOptions::default().env("WILDID_PUBLIC_URL", PUBLIC)).unwrap();
    let http = wildid_tests::client::http_builder().build().unwrap();
    let send = |method: reqwest::Method, path: &str, headers: &[(&str, &str)]| {
        let mut request = http.request(method, server.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let served = send(reqwest::Method::GET, "/", &[("host", "wildid.example.org")])
        .await
        .unwrap();
    assert_eq!(served.status(), 200, "the public host is allowed");
    let refused = send(
        reqwest::Method::GET,
        "/",
        &[("host", "elsewhere.example.org")],
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 400, "any other host is not");

    let listed = send(
        reqwest::Method::GET,
        "/api/security/status",
        &[("origin", PUBLIC)],
    )
    .await
    .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["access-control-allow-origin"], PUBLIC);
    assert_eq!(listed.headers()["access-control-allow-credentials"], "true");
    let preflight = send(
        reqwest::Method::OPTIONS,
        "/api/auth/login",
        &[
            ("origin", PUBLIC),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type, x-csrf-token",
            ),
        ],
    )
    .await
    .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], PUBLIC);
    let other = send(
        reqwest::Method::GET,
        "/api/security/status",
        &[("origin", "http://elsewhere.example.org")],
    )
    .await
    .unwrap();
    assert!(
        other
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-allow")),
        "{:?}",
        other.headers()
    );
}

/// A JSON client may send the token in the header and in the body at once: the header is
/// checked and the field never reaches the strict body parser; a wrong header is refused
/// whatever the field says.
#[tokio::test]
async fn the_token_may_come_in_the_header_and_the_body_at_once() {
    let server = Server::start();
    let mut b = Client::new(&server.url(""));
    let token = b.refresh_csrf().await;
    let body =
        serde_json::to_vec(&json!({"email": "both@example.org", "csrf_token": token})).unwrap();
    let mut post = async |header: &str| {
        b.send(
            reqwest::Method::POST,
            "/api/auth/magic-link",
            &[
                ("content-type", "application/json"),
                ("x-csrf-token", header),
            ],
            Some(body.clone()),
        )
        .await
    };
    let accepted = post(&token).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let refused = post("forged").await;
    assert_eq!(
        (refused.status, refused.error().as_str()),
        (403, "csrf_failed")
    );
}

#[tokio::test]
async fn request_limits_hold_per_address_whatever_the_cookies() {
    let server = Server::start_with(
        ServerOptions::default()
            .env("WILDID_CAPTCHA_KIND", "arithmetic")
            .env("WILDID_LIMIT_CAPTCHA", "3/minute,50/day"),
    )
    .unwrap();
    for _ in 0..3 {
        let mut client = Client::new(&server.url(""));
        client.refresh_csrf().await;
        let answer = client.post_json("/api/security/captcha", &json!({})).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(
            answer
                .header("ratelimit")
                .unwrap()
                .starts_with("\"captcha_60\";r=")
        );
    }
    // A fresh browser, with no cookie, is still the same address.
    let mut client = Client::new(&server.url(""));
    client.refresh_csrf().await;
    let refused = client.post_json("/api/security/captcha", &json!({})).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.error(), "too_many_requests");
    server.wait_for_log("rate_limited");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        refused.header("ratelimit-policy").unwrap(),
        "\"captcha_60\";q=3;w=60, \"captcha_86400\";q=50;w=86400"
    );
    // Other groups are not affected.
    assert_eq!(client.get("/api/security/status").await.status, 200);
}

#[tokio::test]
async fn a_flood_of_cookie_less_requests_is_capped_per_network() {
    let server =
        Server::start_with(ServerOptions::default().env("WILDID_ANONYMOUS_SESSIONS_PER_HOUR", "3"))
            .unwrap();
    let mut kept = Client::new(&server.url(""));
    assert_eq!(kept.get("/api/security/status").await.status, 200);
    for _ in 0..2 {
        let mut fresh = Client::new(&server.url(""));
        assert_eq!(fresh.get("/api/security/status").await.status, 200);
    }
    let mut flood = Client::new(&server.url(""));
    let refused = flood.get("/api/security/status").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.error(), "too_many_sessions");
    assert!(refused.header("retry-after").is_some());
    assert!(
        refused.header("set-cookie").is_none(),
        "no session was stored"
    );
    let line = server.wait_for_log("anonymous_session_cap");
    assert!(line.contains("client=127.0.0.0/24"), "{line}");
    // Pages that need no session still answer, and a browser with its session carries on.
    assert_eq!(flood.get("/healthz").await.status, 200);
    assert_eq!(kept.get("/api/security/status").await.status, 200);
}

#[tokio::test]
async fn two_servers_on_one_postgres_share_the_limits() {
    let Some(url) = wildid_tests::db::fresh_postgres_url().await else {
        return;
    };
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, generated, _) = wildid_tests::server::run_cli(dir.path(), &[], &["keys", "generate"]);
    let options = || {
        let mut options = ServerOptions::default()
            .env("DATABASE_URL", raw.expose())
            .env("WILDID_CAPTCHA_KIND", "arithmetic")
            .env("WILDID_LIMIT_CAPTCHA", "4/minute");
        for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
            let (key, value) = line.split_once('=').unwrap();
            options = options.env(key, value);
        }
        options
    };
    let servers = [
        Server::start_with(options()).unwrap(),
        Server::start_with(options()).unwrap(),
    ];
    // Alternating between the two processes: together they allow four, not eight.
    for i in 0..4 {
        let mut client = Client::new(&servers[i % 2].url(""));
        client.refresh_csrf().await;
        let answer = client.post_json("/api/security/captcha", &json!({})).await;
        assert_eq!(answer.status, 200, "request {i}: {}", answer.body);
    }
    for server in &servers {
        let mut client = Client::new(&server.url(""));
        client.refresh_csrf().await;
        let refused = client.post_json("/api/security/captcha", &json!({})).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert_eq!(refused.error(), "too_many_requests");
    }
}

/// ASVS 16.3.2-16.3.3: every refusal of the request defenses reaches the log stream as a
/// security event, saying what was refused (and, for a refused account, which one by its opaque
/// id, never by address).
#[tokio::test]
async fn refusals_reach_the_log_as_security_events() {
    let server = Server::start();
    let http = wildid_tests::client::http_builder().build().unwrap();
    // A host that is not ours.
    let r = http
        .get(server.url("/"))
        .header("host", "elsewhere.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    server.wait_for_log("host_refused");
    // A preflight from an origin that is not allowed.
    let r = http
        .request(reqwest::Method::OPTIONS, server.url("/api/auth/login"))
        .header("origin", "http://elsewhere.example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    server.wait_for_log("cors_refused");
    // A state change without its anti-forgery token.
    let mut browser = Client::new(&server.url(""));
    browser.get("/").await;
    let r = browser
        .send(
            reqwest::Method::POST,
            "/api/auth/logout",
            &[("content-type", "application/json")],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    server.wait_for_log("csrf_failed");
    // A signed-in member at an administrator's route: refused, and named by id.
    let mut member = wildid_tests::accounts::sign_in_by_link(&server, "nosy@example.org").await;
    let id = member.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = member.get("/api/admin/users?cursor=abc").await;
    assert_eq!(r.status, 403);
    let line = server.wait_for_log("access_denied");
    assert!(line.contains(&id), "the refused account is named: {line}");
    assert!(line.contains("visitor"), "{line}");
    assert!(line.contains("/api/admin/users"), "{line}");
    assert!(!line.contains("cursor=abc"), "no query string: {line}");
    assert!(!line.contains("nosy@"), "no address: {line}");
    // The stored audit entries of the sign-in say where it came from too, and so do their
    // lines in the log stream.
    let places = wildid_tests::accounts::lines(
        &server.data_dir,
        "SELECT action || ' ' || coalesce(client_network, '-') AS line FROM audit_log \
         WHERE action LIKE 'auth.%' ORDER BY seq",
    );
    assert!(!places.is_empty());
    for place in &places {
        assert!(place.ends_with(" 127.0.0.0/24"), "{places:?}");
    }
    server.wait_for_log_where("an audit line of the sign-in", |l| {
        l.contains("audit event") && l.contains("action=\"auth.")
    });
    let audited: Vec<String> = server
        .logs()
        .into_iter()
        .filter(|l| l.contains("audit event") && l.contains("action=\"auth."))
        .collect();
    for line in &audited {
        assert!(line.contains("client=\"127.0.0.0/24\""), "{line}");
    }
    // A browser's report of a blocked script (what an injection attempt produces).
    let r = csp_report(&mut browser, br#"{"csp-report":{"document-uri":"https://wildid.example.org/identify","violated-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}"#).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let line = server.wait_for_log("csp_violation");
    assert!(line.contains("evil.example"), "what was blocked: {line}");
    // A report written to forge log lines (ASVS 16.4.1): line breaks, the Unicode line
    // separator and a terminal escape in what it says was blocked. It stays one line.
    let r = csp_report(&mut browser, br#"{"csp-report":{"document-uri":"https://wildid.example.org/identify","violated-directive":"img-src","blocked-uri":"https://forger.example/a\r\n2026-01-01T00:00:00Z  INFO wildid: forged admin sign-in\u2028INFO wildid: forged again\u001b[2K"}}"#).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let line = server.wait_for_log("forger.example");
    assert!(line.contains("csp_violation"), "{line}");
    for line in server.logs() {
        assert!(
            !line.trim_start().starts_with("2026-01-01T00:00:00Z")
                && !line.trim_start().starts_with("INFO wildid: forged")
                && !line.contains('\u{2028}')
                && !line.contains('\u{1b}'),
            "a forged log line: {line:?}"
        );
    }
    // Each says where it came from: the request and the client's coarse network (ASVS 16.2.1),
    // never the full address.
    for event in [
        "host_refused",
        "cors_refused",
        "csrf_failed",
        "access_denied",
        "csp_violation",
    ] {
        let line = server.wait_for_log(event);
        assert!(line.contains("client=127.0.0.0/24"), "{event}: {line}");
        assert!(line.contains("request_id="), "{event}: {line}");
        assert!(!line.contains("127.0.0.1"), "{event}: {line}");
        // And which browser, as its fingerprint (seed 000 section 14).
        let fingerprint = line
            .split("fingerprint=")
            .nth(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).count());
        assert_eq!(fingerprint, Some(32), "{event}: {line}");
    }
}

/// Posts `report` to `/api/csp-report` as a browser does.
async fn csp_report(browser: &mut Client, report: &[u8]) -> wildid_tests::client::Answer {
    browser
        .send(
            reqwest::Method::POST,
            "/api/csp-report",
            &[("content-type", "application/csp-report")],
            Some(report.to_vec()),
        )
        .await
}

//! The operational metrics (issue 18): off by default and never on the public listener; when
//! `WILDID_METRICS_BIND` is set, a Prometheus text document on that address that a real
//! Prometheus text parser reads, with the request counts and latencies by route template,
//! security and audit events, job runs, database pool use and the mail queue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use wildid_tests::accounts::{self, sign_in_by_link};
use wildid_tests::captcha;
use wildid_tests::client::Client;
use wildid_tests::scrape::{metrics_url, scrape, value};
use wildid_tests::server::Server;

#[tokio::test]
async fn metrics_are_off_unless_asked_and_never_on_the_public_listener() {
    let server = Server::start_with(accounts::options()).unwrap();
    let mut browser = Client::new(&server.url(""));
    assert_eq!(browser.get("/metrics").await.status, 404);
    assert!(!server.logs().iter().any(|l| l.contains("metrics on")));
}

#[tokio::test]
async fn a_scrape_counts_requests_events_jobs_and_the_pools() {
    // At the warn level: the events are counted whatever the log shows.
    // One CSP report a minute, so the second is refused (a rate-limit outcome); the arithmetic
    // question, which a test answers by reading it.
    let server = Server::start_with(
        accounts::options()
            .env("WILDID_METRICS_BIND", "127.0.0.1:0")
            .env("WILDID_LOG", "warn")
            .env("WILDID_LIMIT_REPORTS", "1/minute")
            .env("WILDID_CAPTCHA_KIND", "arithmetic"),
    )
    .unwrap();
    let url = metrics_url(&server);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"),
        "{url}"
    );

    // Some traffic: a sign-in, a refused state change, a page that is not there.
    let mut member = sign_in_by_link(&server, "counted@example.org").await;
    assert_eq!(member.get("/api/auth/me").await.status, 200);
    let r = member
        .send(
            reqwest::Method::POST,
            "/api/auth/logout",
            &[("content-type", "application/json")],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(member.get("/no/such/page").await.status, 404);
    // A sign-in that fails (no such account), a CAPTCHA failed then passed, a limit reached.
    let mut stranger = Client::new(&server.url(""));
    let r = stranger
        .post_json(
            "/api/auth/login",
            &serde_json::json!({"email": "nobody@example.org", "password": "not the password"}),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let challenge = captcha::issue(&mut stranger).await;
    let r = stranger
        .post_json(
            "/api/security/verify",
            &serde_json::json!({"captcha_id": challenge["captcha_id"], "answer": captcha::wrong(&challenge)}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    captcha::pass(&mut stranger).await;
    let report = br#"{"csp-report":{"document-uri":"https://wildid.example.org/","violated-directive":"img-src","blocked-uri":"https://elsewhere.example/a.png"}}"#;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let r = stranger
            .send(
                reqwest::Method::POST,
                "/api/csp-report",
                &[("content-type", "application/csp-report")],
                Some(report.to_vec()),
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Still nothing on the public listener.
    assert_eq!(member.get("/metrics").await.status, 404);

    let (text, parsed) = scrape(&url).await;
    let me = [
        ("method", "GET"),
        ("route", "/api/auth/me"),
        ("status", "200"),
    ];
    assert!(
        value(&parsed, "wildid_http_requests_total", &me) >= Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &parsed,
            "wildid_http_requests_total",
            &[("route", "<unmatched>"), ("status", "404")]
        ) >= Some(1.0),
        "{text}"
    );
    // The parser folds a histogram's buckets, sum and count into one sample; its count is
    // that of the +Inf bucket.
    assert!(
        value(
            &parsed,
            "wildid_http_request_duration_seconds",
            &[("route", "/api/auth/me"), ("method", "GET")]
        ) >= Some(1.0),
        "a latency histogram per route template: {text}"
    );
    assert!(
        value(
            &parsed,
            "wildid_security_events_total",
            &[("event", "rate_limited")]
        ) >= Some(1.0),
        "{text}"
    );
    let audited = |action: &str| value(&parsed, "wildid_audit_events_total", &[("action", action)]);
    assert!(audited("captcha.issued") >= Some(2.0), "{text}");
    assert!(audited("captcha.failed") >= Some(1.0), "{text}");
    assert!(audited("captcha.passed") >= Some(1.0), "{text}");
    assert!(audited("auth.magic_link.used") >= Some(1.0), "{text}");
    assert!(audited("auth.login.failed") >= Some(1.0), "{text}");
    assert!(
        value(
            &parsed,
            "wildid_security_events_total",
            &[("event", "csrf_failed")]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        value(&parsed, "wildid_db_connections", &[("state", "max")]) > Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&parsed, "wildid_mail_queue_depth", &[]),
        Some(0.0),
        "the sign-in mail went out: {text}"
    );
    assert_eq!(
        value(&parsed, "wildid_mail_queue_oldest_age_seconds", &[]),
        Some(0.0),
        "nothing waits: {text}"
    );
    assert!(
        parsed
            .samples
            .iter()
            .any(|s| s.metric == "wildid_job_runs_total"),
        "{text}"
    );
    // Nothing personal in any label: no address, no id, no raw path.
    assert!(
        !text.contains("counted@") && !text.contains("/no/such/page"),
        "{text}"
    );
}

/// Mail that cannot go out (the SMTP server is not there) shows in the queue's depth and in
/// the age of its oldest message, which is what an operator's alert watches.
#[tokio::test]
async fn mail_waiting_for_its_server_shows_in_the_queue_depth_and_age() {
    // Port 1: nothing listens there, and no test binds it.
    let server = Server::start_with(
        accounts::options()
            .env("WILDID_METRICS_BIND", "127.0.0.1:0")
            .env("WILDID_MAIL_TRANSPORT", "smtp")
            .env("WILDID_SMTP_HOST", "127.0.0.1")
            .env("WILDID_SMTP_PORT", "1")
            .env("WILDID_SMTP_SECURITY", "plain"),
    )
    .unwrap();
    let url = metrics_url(&server);
    let mut browser = Client::new(&server.url(""));
    for email in ["first@example.org", "second@example.org"] {
        let r = browser
            .post_json(
                "/api/auth/magic-link",
                &serde_json::json!({ "email": email }),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    server.wait_for_log("mail delivery failed; will retry");
    // Long enough for the oldest message to have waited a whole second.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (text, parsed) = scrape(&url).await;
    assert_eq!(
        value(&parsed, "wildid_mail_queue_depth", &[]),
        Some(2.0),
        "{text}"
    );
    let age = value(&parsed, "wildid_mail_queue_oldest_age_seconds", &[]).unwrap();
    assert!((1.0..600.0).contains(&age), "{age}: {text}");
}

#[tokio::test]
async fn identifications_are_timed_and_their_failures_counted_by_provider() {
    use wildid_tests::provider::{FakeProvider, Reply};
    let provider = FakeProvider::start();
    let server = Server::start_with(
        accounts::options()
            .env("WILDID_METRICS_BIND", "127.0.0.1:0")
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", provider.base_url())
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_API_KEY", "sk-test-metrics"),
    )
    .unwrap();
    let url = metrics_url(&server);
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([x as u8 * 3, y as u8 * 4, 90])
    }))
    .write_to(&mut out, image::ImageFormat::Png)
    .unwrap();
    let photo = out.into_inner();
    let mut visitor = Client::new(&server.url(""));
    let r = visitor
        .post_multipart("/api/identify", &[("image", &photo)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A provider that refuses the key: an error of its own kind, not retried.
    provider.reply(Reply::Status(401));
    let r = visitor
        .post_multipart("/api/identify", &[("image", &photo)])
        .await;
    assert!(r.status >= 500, "{}", r.body);

    let (text, parsed) = scrape(&url).await;
    let of = |name: &str, outcome: &str| {
        parsed
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| s.labels.get("outcome") == Some(outcome))
            .map(|s| match &s.value {
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => *v,
                _ => 0.0,
            })
            .sum::<f64>()
    };
    assert!(
        of("wildid_identification_duration_seconds", "ok") >= 1.0,
        "{text}"
    );
    assert!(
        of("wildid_identification_duration_seconds", "error") >= 1.0,
        "{text}"
    );
    let errors: Vec<_> = parsed
        .samples
        .iter()
        .filter(|s| s.metric == "wildid_identification_errors_total")
        .collect();
    assert!(
        errors
            .iter()
            .any(|s| s.labels.get("provider").is_some() && s.labels.get("kind").is_some()),
        "{text}"
    );
}

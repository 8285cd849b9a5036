//! Faults an operator will meet, on the real server (issue 18 "Faults"): Postgres going away
//! under a signed-in person and coming back. Each test brings its own fault and ends by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use wildid_tests::accounts::{self, sign_in_by_link};
use wildid_tests::client::Client;
use wildid_tests::pg::OwnCluster;
use wildid_tests::server::Server;

/// How long a request may take while the database is away: the pool's wait for a connection
/// (5 s) and a margin for a loaded machine. A bound on hanging, not a speed claim.
const FAIL_FAST: Duration = Duration::from_secs(20);

#[tokio::test]
async fn postgres_going_away_answers_503_at_once_and_service_resumes_by_itself() {
    let Some(cluster) = OwnCluster::start() else {
        return;
    };
    let url = cluster.url();
    let server = Server::start_with(accounts::options().env("DATABASE_URL", &url)).unwrap();
    let mut member = sign_in_by_link(&server, "steady@example.org").await;
    assert_eq!(member.get("/api/auth/me").await.status, 200);

    cluster.stop();
    let mut anonymous = Client::new(&server.url(""));
    for (who, path) in [
        ("member", "/api/auth/me"),
        ("member", "/history"),
        ("anonymous", "/api/security/status"),
    ] {
        let browser = if who == "member" {
            &mut member
        } else {
            &mut anonymous
        };
        let asked = Instant::now();
        let r = browser.get(path).await;
        assert!(asked.elapsed() < FAIL_FAST, "{who} {path} hung");
        assert_eq!(r.status, 503, "{who} {path}: {}", r.body);
    }
    let ready = anonymous.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.json()["database"].as_str()),
        (503, Some("down"))
    );
    assert_eq!(
        anonymous.get("/healthz").await.status,
        200,
        "the process is alive"
    );

    // Back, with no restart of WildID: ready again, and the person still signed in.
    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    while anonymous.get("/readyz").await.status != 200 {
        assert!(Instant::now() < deadline, "service did not resume");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(member.get("/api/auth/me").await.status, 200);
    let logs = server.logs();
    assert!(!logs.iter().any(|l| l.contains("panicked")), "{logs:#?}");
}

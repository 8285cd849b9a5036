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

#[tokio::test]
async fn a_server_killed_in_the_middle_of_sign_ins_restarts_whole() {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        accounts::options()
            .env("WILDID_LIMIT_SIGN_IN", "off")
            .data_dir(dir.path())
    };
    let server = Server::start_with(options()).unwrap();
    // Sign-in links asked for by many browsers at once: each stores a token, its mail and an
    // audit entry, and the mail worker delivers while the requests come.
    let base = server.url("");
    let mut work = Vec::new();
    for browser in 0..8 {
        let base = base.clone();
        work.push(tokio::spawn(async move {
            let mut b = Client::new(&base);
            for n in 0..200 {
                b.post_json(
                    "/api/auth/magic-link",
                    &serde_json::json!({"email": format!("k{browser}-{n}@example.org")}),
                )
                .await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stored_before = accounts::count(&server.data_dir, "login_tokens");
    assert!(stored_before > 0, "the work was under way");
    drop(server); // SIGKILL, in the middle of it.
    for task in work {
        // The browsers' connections broke: their tasks end with an error, as they should.
        let _ = task.await;
    }

    // Nothing half-written: every link has its message (one transaction), the chain verifies.
    let tokens = accounts::count(dir.path(), "login_tokens");
    assert!(tokens >= stored_before);
    assert_eq!(accounts::count(dir.path(), "mail_outbox"), tokens);
    let (status, out, err) = wildid_tests::server::run_cli(dir.path(), &[], &["audit", "verify"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.starts_with("audit log intact"), "{out}");

    // It starts again on the same files, delivers what was waiting, and signs people in.
    let server = Server::start_with(options()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = accounts::lines(
            &server.data_dir,
            "SELECT CAST(count(*) AS TEXT) AS line FROM mail_outbox WHERE sent_at IS NULL",
        );
        if waiting == ["0"] {
            break;
        }
        assert!(Instant::now() < deadline, "mail stuck: {waiting:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let delivered = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(
        i64::try_from(delivered).unwrap(),
        tokens,
        "each message once"
    );
    sign_in_by_link(&server, "after@example.org").await;
}

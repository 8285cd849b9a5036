//! Faults an operator will meet, on the real server (issue 18 "Faults"): Postgres going away
//! under load from signed-in and anonymous browsers, and coming back. Each test brings its own fault and ends by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wildid_tests::accounts::{self, sign_in_by_link};
use wildid_tests::client::Client;
use wildid_tests::pg::OwnCluster;
use wildid_tests::server::Server;

/// How long a request may take while the database is away: the pool's wait for a connection
/// (5 s), then for a new one to be made (5 s), and a margin for a loaded machine. A bound on hanging, not a speed claim.
const FAIL_FAST: Duration = Duration::from_secs(15);

/// Browsers sending requests at once, one after another, while Postgres goes and comes back.
const BROWSERS: usize = 6;

/// What one browser saw: each answer's status, when it was asked, and how long it took.
type Seen = Vec<(u16, Instant, Duration)>;

/// Keeps `browser` asking for a signed-in API answer, a signed-in page and an anonymous
/// answer in turn, until `stop` is set.
async fn keep_asking(mut browser: Client, stop: Arc<AtomicBool>) -> (Seen, Vec<String>) {
    let mut seen = Seen::new();
    let mut unexpected = Vec::new();
    for path in ["/api/auth/me", "/history", "/api/security/status"]
        .iter()
        .cycle()
    {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let asked = Instant::now();
        let answer = browser.get(path).await;
        if !matches!(answer.status, 200 | 503) {
            unexpected.push(format!("{path}: {} {}", answer.status, answer.body));
        }
        seen.push((answer.status, asked, asked.elapsed()));
    }
    (seen, unexpected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_under_load_answers_503_at_once_and_service_resumes_by_itself() {
    let Some(cluster) = OwnCluster::start() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let url = cluster.url();
    // The default group's limit is off: the load is one browser's, many times over.
    let options = accounts::options()
        .env("DATABASE_URL", &url)
        .env("WILDID_LIMIT_DEFAULT", "off");
    let server = Server::start_with(options).unwrap();
    let member = sign_in_by_link(&server, "steady@example.org").await;
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..BROWSERS)
        .map(|_| tokio::spawn(keep_asking(member.with_own_connections(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stopped = Instant::now();
    let halt = cluster.clone();
    tokio::task::spawn_blocking(move || halt.stop())
        .await
        .unwrap();
    let mut anonymous = Client::new(&server.url(""));
    let mut ready = anonymous.get("/readyz").await;
    while ready.status == 200 {
        // The pool may still hand out a connection that has not yet seen its socket close.
        assert!(
            stopped.elapsed() < FAIL_FAST,
            "still ready with the database down"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        ready = anonymous.get("/readyz").await;
    }
    assert_eq!(
        (ready.status, ready.json()["database"].as_str()),
        (503, Some("down"))
    );
    assert_eq!(
        anonymous.get("/healthz").await.status,
        200,
        "the process is alive"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Back, with no restart of WildID: ready again, and every request asked after that served.
    let again = cluster.clone();
    tokio::task::spawn_blocking(move || again.restart())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while anonymous.get("/readyz").await.status != 200 {
        assert!(Instant::now() < deadline, "service did not resume");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resumed = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);

    let mut seen = Seen::new();
    let mut unexpected = Vec::new();
    for browser in load {
        let (saw, odd) = browser.await.unwrap();
        seen.extend(saw);
        unexpected.extend(odd);
    }
    let logs = server.logs();
    assert!(
        unexpected.is_empty(),
        "only served or 'unavailable', never anything else: {unexpected:#?}\n{:#?}",
        logs.iter()
            .filter(|l| l.contains("ERROR"))
            .collect::<Vec<_>>()
    );
    let during = |from: Instant, to: Instant| {
        seen.iter()
            .filter(move |(_, at, _)| *at >= from && *at < to)
    };
    let slowest = seen
        .iter()
        .map(|(_, _, took)| *took)
        .max()
        .unwrap_or_default();
    assert!(slowest < FAIL_FAST, "a request hung for {slowest:?}");
    let mut statuses: Vec<u16> = seen.iter().map(|(status, _, _)| *status).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(
        statuses,
        [200, 503],
        "only served or 'unavailable', never a 500"
    );
    assert!(
        during(stopped + Duration::from_millis(500), resumed).any(|(status, _, _)| *status == 503),
        "the outage was seen"
    );
    let after: Vec<u16> = during(resumed, Instant::now())
        .map(|(status, _, _)| *status)
        .collect();
    assert!(
        !after.is_empty(),
        "the load went on after the database came back"
    );
    assert!(after.iter().all(|status| *status == 200), "{after:?}");
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

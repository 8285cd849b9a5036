//! The mixed load scenario (issue 18 "Load", run by `bench/mixed.sh`, not by the test suite):
//! USERS people at once, each signed in with a password, doing what people do for SECONDS:
//! look at the security status, read their journal (the page and the JSON), identify photos
//! (against a provider on loopback that answers at once), book a visit and cancel it, and now
//! and then sign in again. On `sqlite`, one server; on `postgres`, two servers on one database
//! (the test suite's private cluster), every person's requests alternating between them.
//!
//! Reports per kind of request its count, statuses and p50/p99, the whole throughput, every
//! 5xx, every ERROR line the servers logged, and each server's resident memory after the
//! warm-up (the first quarter) and at the end. Usage: `mixed-load BACKEND SECONDS USERS`, with
//! `WILDID_BIN` naming the server binary (the script's release build). Prints one JSON object.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark tool: it reports on standard output and stops on any failure"
)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::{Value, json};
use wildid_tests::accounts::{PASSWORD, enrol_totp, options};
use wildid_tests::client::{Client, link_in, outbox};
use wildid_tests::provider::FakeProvider;
use wildid_tests::server::{Server, ServerOptions, run_cli};
use wildid_tests::stats::percentile;

/// What one person does, in turn (a fixed cycle, each person starting elsewhere in it).
const CYCLE: [Kind; 12] = [
    Kind::Status,
    Kind::HistoryPage,
    Kind::Identify,
    Kind::Status,
    Kind::JournalApi,
    Kind::HistoryPage,
    Kind::Booking,
    Kind::Status,
    Kind::Identify,
    Kind::HistoryPage,
    Kind::JournalApi,
    Kind::SignIn,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Status,
    HistoryPage,
    JournalApi,
    Identify,
    Booking,
    SignIn,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Status => "GET /api/security/status",
            Kind::HistoryPage => "GET /history",
            Kind::JournalApi => "GET /api/identifications",
            Kind::Identify => "POST /api/identify",
            Kind::Booking => "POST /api/bookings + cancel",
            Kind::SignIn => "POST /api/auth/login",
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    statuses: BTreeMap<u16, u64>,
    server_errors: Vec<String>,
}

/// A small photo (the provider answers at once: this is the server's own photo path).
fn photo() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// The servers, the environment their shell commands need, and where each keeps its files.
struct Site {
    servers: Vec<Server>,
    shell_env: Vec<(String, String)>,
    _cluster_dir: Option<tempfile::TempDir>,
}

fn server_options(provider: &FakeProvider) -> ServerOptions {
    options()
        .env("WILDID_AI_PROVIDER", "test")
        .env("WILDID_AI_BASE_URL", provider.base_url())
        .env("WILDID_AI_MODEL", "bench-vision")
        .env("WILDID_AI_API_KEY", "sk-bench-mixed")
        // Everyone comes from 127.0.0.1 here: the per-network limits are raised to what many
        // networks together would send, so what is measured is the server's work.
        .env("WILDID_LIMIT_SIGN_IN", "100000/hour")
        .env("WILDID_LIMIT_IDENTIFY", "1000000/hour")
        .env("WILDID_LIMIT_DEFAULT", "1000000/minute")
        .env("WILDID_RATE_LIMIT_THRESHOLD", "1000000")
        .env("WILDID_ANONYMOUS_SESSIONS_PER_HOUR", "1000000")
}

async fn start(backend: &str, provider: &FakeProvider) -> Site {
    match backend {
        "sqlite" => Site {
            servers: vec![Server::start_with(server_options(provider)).unwrap()],
            shell_env: Vec::new(),
            _cluster_dir: None,
        },
        "postgres" => {
            let url = wildid_tests::db::fresh_postgres_url()
                .await
                .expect("the private Postgres cluster starts");
            let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
                unreachable!("a Postgres URL")
            };
            let dir = tempfile::tempdir().unwrap();
            let (_, generated, _) = run_cli(dir.path(), &[], &["keys", "generate"]);
            let mut shell_env = vec![("DATABASE_URL".to_owned(), raw.expose().to_owned())];
            for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
                let (key, value) = line.split_once('=').unwrap();
                shell_env.push((key.to_owned(), value.to_owned()));
            }
            let one = || {
                let mut o = server_options(provider);
                for (k, v) in &shell_env {
                    o = o.env(k, v.clone());
                }
                Server::start_with(o).unwrap()
            };
            Site {
                servers: vec![one(), one()],
                shell_env,
                _cluster_dir: Some(dir),
            }
        }
        other => panic!("unknown backend {other}: sqlite or postgres"),
    }
}

impl Site {
    fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.url("")).collect()
    }

    /// The token of the newest link to `path` mailed to `email`, by whichever server sent it.
    async fn mailed_token(&self, email: &str, path: &str) -> String {
        for _ in 0..400 {
            for server in &self.servers {
                if let Some(mail) = outbox(&server.data_dir)
                    .into_iter()
                    .rev()
                    .find(|m| m.contains(&format!("To: {email}")) && m.contains(path))
                {
                    return link_in(&mail, path).1;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no mail to {email}");
    }

    /// `email` registered with the password, confirmed, and signed in on `base`.
    async fn person(&self, base: &str, email: &str) -> Client {
        let mut c = Client::new(base);
        let r = c
            .post_json(
                "/api/auth/register",
                &json!({"email": email, "password": PASSWORD, "accept_privacy": true}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        let token = self.mailed_token(email, "/auth/verify").await;
        let r = c
            .post_json("/api/auth/verify-email", &json!({"token": token}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = c
            .post_json(
                "/api/auth/login",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        c
    }

    /// An admin (from `wildid admin create`, with the second factor) who describes one site
    /// and one kind of visit; returns their ids.
    async fn catalogue(&self) -> (String, String) {
        let envs: Vec<(&str, &str)> = self
            .shell_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, out, err) = run_cli(
            &self.servers[0].data_dir,
            &envs,
            &["admin", "create", "--email", "bench.admin@example.org"],
        );
        assert!(status.success(), "{out}{err}");
        let token = out
            .split_whitespace()
            .find_map(|w| w.split_once("?token=").map(|(_, t)| t.to_owned()))
            .unwrap();
        let mut admin = Client::new(&self.servers[0].url(""));
        let r = admin
            .post_json("/api/auth/magic-link/redeem", &json!({"token": token}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        enrol_totp(&mut admin).await;
        let r = admin
            .post_json(
                "/api/admin/sites",
                &json!({"name": "Estuary", "south": -34.0, "west": 151.0, "north": -33.0, "east": 152.0}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let site = r.json()["id"].as_str().unwrap().to_owned();
        let r = admin
            .post_json(
                "/api/admin/services",
                &json!({"name": "Shore walk", "duration_minutes": 15, "capacity": 500}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        (site, r.json()["id"].as_str().unwrap().to_owned())
    }
}

/// One request of `kind` by `person` (the `n`th of theirs); its status and latency.
async fn act(
    kind: Kind,
    person: &mut Client,
    email: &str,
    n: u64,
    photo: &[u8],
    visit: &(String, String, chrono::DateTime<Utc>),
) -> Result<(u16, Duration, String), String> {
    let started = Instant::now();
    let answer = match kind {
        Kind::Status => person.get("/api/security/status").await,
        Kind::HistoryPage => person.get("/history").await,
        Kind::JournalApi => person.get("/api/identifications?limit=24").await,
        Kind::Identify => {
            person
                .post_multipart(
                    "/api/identify",
                    &[
                        ("image", photo),
                        ("latitude", b"-33.85"),
                        ("longitude", b"151.21"),
                    ],
                )
                .await
        }
        Kind::Booking => {
            // A slot of its own each time (within 30 days), so no two bookings of one person
            // ask for the same place.
            let (site, service, first) = visit;
            let starts = *first + TimeDelta::minutes(15 * i64::try_from(n % 2_800).unwrap());
            let r = person
                .post_json(
                    "/api/bookings",
                    &json!({"site_id": site, "service_id": service, "starts_at": starts.to_rfc3339()}),
                )
                .await;
            if r.status == 201 {
                let id = r.json()["id"].as_str().unwrap_or_default().to_owned();
                person
                    .post_json(&format!("/api/bookings/{id}/cancel"), &json!({}))
                    .await
            } else {
                r
            }
        }
        Kind::SignIn => {
            // Another browser of the same person: a new session.
            Client::new(person.base())
                .post_json(
                    "/api/auth/login",
                    &json!({"email": email, "password": PASSWORD}),
                )
                .await
        }
    };
    Ok((answer.status, started.elapsed(), answer.body))
}

/// Resident memory of `pid` in KiB: all of it, and the part that is the process's own heap
/// and stacks (`RssAnon`; the rest is mapped files and shared memory, such as SQLite's WAL
/// index, which the kernel can take back).
fn resident_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, backend, seconds, users] = args.as_slice() else {
        panic!("usage: mixed-load sqlite|postgres SECONDS USERS");
    };
    let seconds: u64 = seconds.parse().unwrap();
    let users: u64 = users.parse().unwrap();
    assert!(std::env::var_os("WILDID_BIN").is_some(), "set WILDID_BIN");
    let provider = FakeProvider::start();
    let site = start(backend, &provider).await;
    let urls = site.urls();
    let (site_id, service_id) = site.catalogue().await;
    let first_slot = (Utc::now() + TimeDelta::days(1))
        .duration_trunc(TimeDelta::minutes(15))
        .unwrap();
    let visit = Arc::new((site_id, service_id, first_slot));
    let mut people = Vec::new();
    for u in 0..users {
        let email = format!("walker{u}@example.org");
        let base = &urls[usize::try_from(u).unwrap() % urls.len()];
        people.push((email.clone(), site.person(base, &email).await));
    }
    let photo = Arc::new(photo());
    let tallies: Arc<Mutex<BTreeMap<Kind, Tally>>> = Arc::default();
    let began = Instant::now();
    let deadline = began + Duration::from_secs(seconds);
    let mut work = Vec::new();
    for (u, (email, person)) in people.into_iter().enumerate() {
        let (tallies, photo, visit, urls) = (
            Arc::clone(&tallies),
            Arc::clone(&photo),
            Arc::clone(&visit),
            urls.clone(),
        );
        work.push(tokio::spawn(async move {
            // On two servers, each person's requests alternate between them.
            let mut on: Vec<Client> = urls.iter().map(|u| person.pointed_at(u)).collect();
            let mut n = 0_u64;
            while Instant::now() < deadline {
                let kind = CYCLE[(u + usize::try_from(n).unwrap()) % CYCLE.len()];
                let client = &mut on[usize::try_from(n).unwrap() % urls.len()];
                let outcome = act(kind, client, &email, n, &photo, &visit).await;
                let mut tallies = tallies.lock().unwrap();
                let tally = tallies.entry(kind).or_default();
                match outcome {
                    Ok((status, took, body)) => {
                        tally.latencies_ms.push(took.as_secs_f64() * 1000.0);
                        *tally.statuses.entry(status).or_default() += 1;
                        if status >= 500 {
                            tally.server_errors.push(format!("{status} {body}"));
                        }
                    }
                    Err(e) => tally.server_errors.push(e),
                }
                n += 1;
            }
        }));
    }
    // Resident memory, every second, of every server.
    let pids: Vec<u32> = site.servers.iter().map(Server::pid).collect();
    let mut rss: Vec<Vec<(u64, u64)>> = vec![Vec::new(); pids.len()];
    while Instant::now() < deadline {
        for (i, pid) in pids.iter().enumerate() {
            rss[i].push(resident_kib(*pid));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for task in work {
        task.await.unwrap();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let tallies = std::mem::take(&mut *tallies.lock().unwrap());
    let mut total = 0_u64;
    let mut kinds = serde_json::Map::new();
    for (kind, mut tally) in tallies {
        let count = tally.latencies_ms.len() as u64;
        total += count;
        kinds.insert(
            kind.name().to_owned(),
            json!({
                "count": count,
                "per_second": count as f64 / elapsed,
                "p50_ms": percentile(&mut tally.latencies_ms, 50.0),
                "p99_ms": percentile(&mut tally.latencies_ms, 99.0),
                "statuses": tally.statuses,
                "server_errors": tally.server_errors.iter().take(5).collect::<Vec<_>>(),
            }),
        );
    }
    let memory: Vec<Value> = rss
        .iter()
        .map(|series| {
            let total: Vec<u64> = series.iter().map(|(all, _)| *all).collect();
            let heap: Vec<u64> = series.iter().map(|(_, anon)| *anon).collect();
            // At the end of each quarter of the run: the first is the warm-up.
            let quarters = |values: &[u64]| -> Vec<u64> {
                (1..=4)
                    .map(|q| {
                        values
                            .get((values.len() * q / 4).saturating_sub(1))
                            .copied()
                            .unwrap_or(0)
                    })
                    .collect()
            };
            json!({
                "after_warm_up_kib": total.get(total.len() / 4).copied().unwrap_or(0),
                "end_kib": total.last().copied().unwrap_or(0),
                "max_kib": total.iter().max().copied().unwrap_or(0),
                "quarters_kib": quarters(&total),
                "heap_quarters_kib": quarters(&heap),
            })
        })
        .collect();
    let logged_errors: Vec<String> = site
        .servers
        .iter()
        .flat_map(Server::logs)
        .filter(|l| l.contains(" ERROR ") || l.contains("panicked"))
        .take(20)
        .collect();
    let result = json!({
        "backend": backend,
        "servers": site.servers.len(),
        "users": users,
        "seconds": elapsed,
        "requests": total,
        "requests_per_second": total as f64 / elapsed,
        "kinds": kinds,
        "resident_memory": memory,
        "logged_errors": logged_errors,
        "server_binary": PathBuf::from(std::env::var_os("WILDID_BIN").unwrap()),
    });
    println!("{result}");
}

//! Sign-in load benchmark (run by `bench/run.sh`, not by the test suite).
//!
//! Against a running server it measures:
//! 1. the time of one argon2id verification with the server's parameters, in this process
//!    (the median of timings taken before every round),
//!    which gives the ideal sign-in throughput `cores / hash time`;
//! 2. the p50/p99 latency of `/healthz` and of a cheap authenticated request (`/api/auth/me`)
//!    while the server is idle;
//! 3. the same two latencies during a flood of password sign-ins by many concurrent clients,
//!    and the sign-in throughput achieved;
//! 4. before all that, with the server idle, whether answers reveal that an account exists:
//!    the latency of asking for a sign-in link and of a wrong password, for a registered
//!    address against an unknown one, interleaved, with the same comparison between two
//!    halves of the registered address's own samples as the noise it is read against.
//!
//! Idle and flood phases alternate six times; each condition's samples are pooled, and each
//! round's p99s are reported too.
//!
//! Usage: `signin-load BASE_URL DATA_DIR [SECONDS] [CLIENTS]`. The server must run with its
//! sign-in and mail limits raised and the lockout threshold at its maximum (the script does
//! this). Prints one JSON object.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use wildid_domain::secret::SecretString;
use wildid_ports::builtin::{Argon2Hasher, MIN_ITERATIONS, MIN_MEMORY_KIB};
use wildid_ports::password::PasswordHasher;
use wildid_tests::accounts::PASSWORD;
use wildid_tests::client::{Client, link_in, outbox};
use wildid_tests::stats::percentile;

/// Pause between two probe requests (a request plus this pause: some 85 probes per second
/// each): with 20 s per condition, the p99 is the 17th slowest of some 1 700 samples (as
/// measured, `docs/benchmarks.md`) rather than the 5th of 500,
/// which one stall of the shared machine could move by a factor of two.
const PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// How many idle phases and flood phases alternate. Short phases pair the two conditions
/// closely in time, so a spell of contention on the shared host tends to land on both: with
/// three rounds of some 7 s, 3 of 13 runs put the flood's p99 above 2x the idle one; with six
/// rounds of some 3 s, 0 of 10 did (`docs/benchmarks.md`, 2026-12-02 (late)).
const ROUNDS: u32 = 6;

/// Verifications timed before each round (six rounds: 30 in all, some 0.7 s).
const HASH_SAMPLES_PER_ROUND: usize = 5;

/// How long the flood runs before its probes start: 16 clients fill the two hashing threads'
/// queue within one request, so a second is ample.
const FLOOD_WARM_UP: Duration = Duration::from_secs(1);

/// The p99 of `samples`, leaving them as they are.
fn p99(samples: &[f64]) -> f64 {
    percentile(&mut samples.to_vec(), 99.0)
}

fn summary(mut samples: Vec<f64>) -> serde_json::Value {
    json!({
        "count": samples.len(),
        "p50_ms": percentile(&mut samples, 50.0),
        "p99_ms": percentile(&mut samples, 99.0),
    })
}

/// Times argon2id verifications with the server's parameters, in this process and at normal
/// priority: the ideal sign-in rate is cores / one verification's time.
struct HashTimer {
    hasher: Argon2Hasher,
    password: SecretString,
    hash: wildid_domain::user::PasswordHash,
    /// Every verification timed so far, in ms.
    samples: Vec<f64>,
}

impl HashTimer {
    async fn new() -> Self {
        let hasher = Argon2Hasher::new(MIN_MEMORY_KIB, MIN_ITERATIONS, 1, 1).unwrap();
        let password = SecretString::new(PASSWORD.to_owned());
        let hash = hasher.hash(&password).await.unwrap();
        Self {
            hasher,
            password,
            hash,
            samples: Vec::new(),
        }
    }

    /// Times `count` verifications in a row.
    async fn time(&mut self, count: usize) {
        for _ in 0..count {
            let started = Instant::now();
            let hash = Some(self.hash.clone());
            self.hasher.verify(&self.password, hash).await.unwrap();
            self.samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }

    /// The median verification time so far, in ms.
    fn median_ms(&self) -> f64 {
        percentile(&mut self.samples.clone(), 50.0)
    }
}

/// Samples per address and kind of request in the existence timing: below the highest lockout
/// threshold (100), so the wrong passwords never lock the registered account.
const EXISTENCE_SAMPLES: usize = 60;

/// Latencies of one request for a registered and for an unknown address, interleaved.
struct Pair {
    registered: Vec<f64>,
    unknown: Vec<f64>,
}

impl Pair {
    /// The medians, their ratio, and the ratio between the registered address's even and odd
    /// samples (what the machine's noise alone gives).
    fn report(&self) -> serde_json::Value {
        let median = |v: &[f64]| percentile(&mut v.to_vec(), 50.0);
        let every_other = |first: usize| -> Vec<f64> {
            self.registered
                .iter()
                .skip(first)
                .step_by(2)
                .copied()
                .collect()
        };
        json!({
            "samples": self.registered.len(),
            "registered_p50_ms": median(&self.registered),
            "unknown_p50_ms": median(&self.unknown),
            "unknown_over_registered": median(&self.unknown) / median(&self.registered),
            "noise_even_over_odd": median(&every_other(0)) / median(&every_other(1)),
        })
    }
}

/// Times the request for `registered` and `unknown` in turn, [`EXISTENCE_SAMPLES`] times each;
/// every answer must have the status `expected`.
async fn existence_pair(
    client: &mut Client,
    path: &str,
    body: impl Fn(&str) -> serde_json::Value,
    (registered, unknown): (&str, &str),
    expected: u16,
) -> Pair {
    let mut pair = Pair {
        registered: Vec::new(),
        unknown: Vec::new(),
    };
    for i in 0..EXISTENCE_SAMPLES {
        // Which goes first alternates, so a cost that falls on the first or second request of
        // a pair (the mail the previous one queued, say) weighs on both alike.
        let mut order = [
            (registered, &mut pair.registered),
            (unknown, &mut pair.unknown),
        ];
        if i % 2 == 1 {
            order.reverse();
        }
        for (email, samples) in order {
            let started = Instant::now();
            let answer = client.post_json(path, &body(email)).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(
                answer.status, expected,
                "{path} for {email}: {}",
                answer.body
            );
        }
    }
    pair
}

/// Registers and confirms `email` through the outbox in `data_dir`, then signs in.
async fn signed_in(base: &str, data_dir: &Path, email: &str) -> Client {
    let mut client = Client::new(base);
    let r = client
        .post_json(
            "/api/auth/register",
            &json!({"email": email, "password": PASSWORD, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let needle = format!("To: {email}");
    let token = loop {
        if let Some(mail) = outbox(data_dir).into_iter().find(|m| m.contains(&needle)) {
            break link_in(&mail, "/auth/verify").1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let r = client
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    login(&mut client, email).await;
    client
}

async fn login(client: &mut Client, email: &str) -> u16 {
    client
        .post_json(
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await
        .status
}

/// Probes `path` with `client` until `stop`; returns the latencies in ms.
async fn probe(mut client: Client, path: &'static str, stop: Arc<AtomicBool>) -> Vec<f64> {
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let answer = client.get(path).await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
    samples
}

/// Runs one probe on a thread and runtime of its own, so the samples measure the server and
/// not this process's flood clients, which share the main runtime.
fn probe_thread(
    client: &Client,
    path: &'static str,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<f64>> {
    let client = client.with_own_connections();
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(probe(client, path, stop))
    })
}

/// Runs the two probes for `seconds` (`me` is signed in); returns their samples.
async fn probes(base: &str, me: &Client, seconds: f64) -> (Vec<f64>, Vec<f64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let health = probe_thread(&Client::new(base), "/healthz", &stop);
    let authenticated = probe_thread(me, "/api/auth/me", &stop);
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    (health.join().unwrap(), authenticated.join().unwrap())
}

/// Clients signing in again and again until stopped.
struct Flood {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<(Client, String, Vec<f64>)>>,
}

impl Flood {
    fn start(workers: Vec<(Client, String)>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let tasks = workers
            .into_iter()
            .map(|(mut client, email)| {
                let (stop, ok, failed) = (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&failed));
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        let status = login(&mut client, &email).await;
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                        let counter = if status == 200 { &ok } else { &failed };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    (client, email, latencies)
                })
            })
            .collect();
        Self {
            stop,
            ok,
            failed,
            tasks,
        }
    }

    /// Stops the clients; returns them (to flood again) and their sign-in latencies.
    async fn stop(self) -> (Vec<(Client, String)>, Vec<f64>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut workers = Vec::new();
        let mut latencies = Vec::new();
        for task in self.tasks {
            let (client, email, times) = task.await.unwrap();
            workers.push((client, email));
            latencies.extend(times);
        }
        (workers, latencies)
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(data_dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: signin-load BASE_URL DATA_DIR [SECONDS] [CLIENTS]");
        std::process::exit(2);
    };
    let base = base.trim_end_matches('/').to_owned();
    let data_dir = PathBuf::from(data_dir);
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);

    // The host's speed drifts during a run, so verifications are timed before every round
    // (with the server idle) and the ideal rate comes from the median of all of them.
    let mut hash_timer = HashTimer::new().await;

    let mut workers = Vec::new();
    for i in 0..clients {
        let email = format!("flood{i}@example.org");
        workers.push((signed_in(&base, &data_dir, &email).await, email));
    }
    let me = signed_in(&base, &data_dir, "probe@example.org").await;

    // Does an answer's time tell whether an address has an account? Asked by a browser that
    // is not signed in, the server otherwise idle.
    let mut stranger = Client::new(&base);
    let addresses = ("flood0@example.org", "nobody-here@example.org");
    let links = existence_pair(
        &mut stranger,
        "/api/auth/magic-link",
        |email| json!({ "email": email }),
        addresses,
        202,
    )
    .await;
    let wrong_passwords = existence_pair(
        &mut stranger,
        "/api/auth/login",
        |email| json!({ "email": email, "password": "not the password at all" }),
        addresses,
        401,
    )
    .await;
    let existence = json!({
        "magic_link": links.report(),
        "wrong_password": wrong_passwords.report(),
    });
    eprintln!("existence timing: {existence}");

    // Idle and flood phases alternate (`ROUNDS` of each, `seconds` in all per condition), so
    // a slow drift of the shared machine weighs on both conditions alike; each condition's
    // samples are pooled.
    let phase = seconds as f64 / ROUNDS as f64;
    let (mut idle_health, mut idle_me) = (Vec::new(), Vec::new());
    let (mut flood_health, mut flood_me) = (Vec::new(), Vec::new());
    let (mut sign_ins, mut refused, mut flooding) = (0, 0, 0.0);
    let mut login_latencies = Vec::new();
    let mut per_round = Vec::new();
    for _ in 0..ROUNDS {
        hash_timer.time(HASH_SAMPLES_PER_ROUND).await;
        let (health, authenticated) = probes(&base, &me, phase).await;
        let idle_p99 = (p99(&health), p99(&authenticated));
        idle_health.extend(health);
        idle_me.extend(authenticated);

        let flood = Flood::start(workers);
        // Let the flood reach a steady state before probing.
        tokio::time::sleep(FLOOD_WARM_UP).await;
        let counted_from = (
            flood.ok.load(Ordering::Relaxed),
            flood.failed.load(Ordering::Relaxed),
        );
        let started = Instant::now();
        let (health, authenticated) = probes(&base, &me, phase).await;
        flooding += started.elapsed().as_secs_f64();
        sign_ins += flood.ok.load(Ordering::Relaxed) - counted_from.0;
        refused += flood.failed.load(Ordering::Relaxed) - counted_from.1;
        per_round.push(json!({
            "idle_p99_ms": {"healthz": idle_p99.0, "me": idle_p99.1},
            "flood_p99_ms": {"healthz": p99(&health), "me": p99(&authenticated)},
        }));
        flood_health.extend(health);
        flood_me.extend(authenticated);
        let (back, times) = flood.stop().await;
        workers = back;
        login_latencies.extend(times);
    }
    let (idle_health, idle_me) = (summary(idle_health), summary(idle_me));
    let (flood_health, flood_me) = (summary(flood_health), summary(flood_me));
    eprintln!("idle:  healthz {idle_health}  me {idle_me}");
    let per_second = sign_ins as f64 / flooding;
    let hash_ms = hash_timer.median_ms();
    eprintln!(
        "one argon2id verification: {hash_ms:.1} ms (median of {})",
        hash_timer.samples.len()
    );
    let ideal = cores as f64 * 1000.0 / hash_ms;
    eprintln!("flood: healthz {flood_health}  me {flood_me}");
    eprintln!(
        "sign-ins: {per_second:.1}/s (ideal {ideal:.1}/s = {cores} cores / {hash_ms:.1} ms), {refused} refused"
    );
    let ratio = |flood: &serde_json::Value, idle: &serde_json::Value| {
        flood["p99_ms"].as_f64().unwrap_or(f64::NAN) / idle["p99_ms"].as_f64().unwrap_or(f64::NAN)
    };
    println!(
        "{}",
        json!({
            "cores": cores,
            "clients": clients,
            "seconds": seconds,
            "argon2_verify_ms": hash_ms,
            "argon2_verify_samples": hash_timer.samples.len(),
            "ideal_sign_ins_per_second": ideal,
            "sign_ins_per_second": per_second,
            "sign_ins_refused": refused,
            "rounds": ROUNDS,
            "p99_per_round": per_round,
            "sign_in_latency": summary(login_latencies),
            "idle": {"healthz": idle_health, "me": idle_me},
            "flood": {"healthz": flood_health, "me": flood_me},
            "existence_timing": existence,
            "p99_flood_over_idle": {
                "healthz": ratio(&flood_health, &idle_health),
                "me": ratio(&flood_me, &idle_me),
            },
        })
    );
}

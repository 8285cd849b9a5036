//! The field-visit benchmark (issue 16, `bench/visits.sh`): with MAPPINGS visit mappings on
//! BACKEND (`sqlite` or `postgres`),
//! 1. exposure reports for one site and one day, through the `Exposures` use case (the
//!    overlapping mappings found through the index, decrypted, one notification per person
//!    stored): the duration of each report (goal: under 50 ms);
//! 2. the purge of every mapping once they are all past retention, through `VisitRetention`
//!    (as `wildid purge` runs it), while the release server's `/healthz` and `/readyz` are
//!    probed: the probes' p99 during the purge against idle (goal: within 2x).
//!
//! Usage: `visits-bench BACKEND MAPPINGS SERVER_BINARY`; prints one JSON line. Postgres is the
//! private cluster the test suite starts (`wildid_tests::pg`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark tool: it reports on standard output and stops on any failure"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DurationRound, TimeDelta, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_domain::audit::Actor;
use wildid_domain::ids::{SiteId, UserId};
use wildid_domain::retention::RetentionPolicy;
use wildid_domain::secret::SecretString;
use wildid_domain::sighting::Area;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_domain::visits::Site;
use wildid_ports::builtin::{FernetKeyRing, OsRandom, SystemClock};
use wildid_ports::clock::Clock;
use wildid_ports::crypto::FieldCipher;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::visits::{
    ExposureInput, ExposurePorts, Exposures, PurgeRun, RetentionPorts, VisitRetention,
};

const SITES: u64 = 50;
const VISITORS: u64 = 2_000;
const DAYS: u64 = 14;
/// Mapping rows per INSERT statement.
const CHUNK: u64 = 1_000;

/// A small deterministic generator (the benchmark needs spread, not secrecy).
struct Spread(u64);

impl Spread {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn hex32(&mut self) -> String {
        (0..4).map(|_| format!("{:016x}", self.next())).collect()
    }
}

enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Backend {
    async fn execute(&self, sql: &str) {
        match self {
            Backend::Sqlite(path) => {
                let (path, sql) = (path.clone(), sql.to_owned());
                tokio::task::spawn_blocking(move || {
                    use diesel::Connection;
                    use diesel::connection::SimpleConnection;
                    let mut conn =
                        diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
                    conn.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
                    conn.batch_execute(&sql).unwrap();
                })
                .await
                .unwrap();
            }
            Backend::Postgres(url) => {
                let mut conn = AsyncPgConnection::establish(url).await.unwrap();
                conn.batch_execute(sql).await.unwrap();
            }
        }
    }

    fn bytes(&self, hex: &str) -> String {
        match self {
            Backend::Sqlite(_) => format!("X'{hex}'"),
            Backend::Postgres(_) => format!("'\\x{hex}'::bytea"),
        }
    }

    fn url(&self) -> String {
        match self {
            Backend::Sqlite(path) => format!("sqlite://{}", path.display()),
            Backend::Postgres(url) => url.clone(),
        }
    }
}

/// The release server on `url`, started in `data_dir`; its base URL.
fn start_server(binary: &str, url: &str, data_dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(binary)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("DATABASE_URL", url)
        .env("WILDID_LOG", "warn")
        .env("WILDID_LIMIT_DEFAULT", "1000000000/minute")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server's first line").unwrap();
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on ".len()..];
            break rest
                .split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap()
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn fernet_ring() -> FernetKeyRing {
    let key = base64::engine::general_purpose::URL_SAFE.encode([7u8; 32]);
    FernetKeyRing::new(&[SecretString::new(key)]).unwrap()
}

/// Sites, visitors, and `mappings` visit mappings spread over the sites and the last 14 days
/// (about 1,430 per site and day at 1,000,000), each visitor sealed under `cipher`.
async fn seed(
    backend: &Backend,
    db: &Arc<Database>,
    cipher: &FernetKeyRing,
    mappings: u64,
) -> Vec<SiteId> {
    let mut rng = Spread(0x9E37_79B9_7F4A_7C15);
    let mut sites = Vec::new();
    for n in 0..SITES {
        let id = SiteId::from_random(rng.next().to_le_bytes().repeat(2).try_into().unwrap());
        let site = Site::new(id, &format!("Site {n}"), "", Area::WORLD, true).unwrap();
        db.sites().insert(&site).await.unwrap();
        sites.push(id);
    }
    let mut sealed = Vec::new();
    for _ in 0..VISITORS {
        let id = UserId::from_random(rng.next().to_le_bytes().repeat(2).try_into().unwrap());
        let mut lookup = [0u8; 32];
        for chunk in lookup.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        let user = User::new(
            id,
            EmailLookup::from_bytes(lookup),
            EncryptedField::new("gAAAA-bench".into()),
            Utc::now(),
        );
        db.users().insert(&user).await.unwrap();
        sealed.push(cipher.encrypt(id.to_string().as_bytes()).unwrap());
    }
    let midnight = Utc::now().duration_trunc(TimeDelta::days(1)).unwrap();
    let first_day = midnight - TimeDelta::days(DAYS as i64);
    let created = (Utc::now() - TimeDelta::hours(1)).format("%Y-%m-%d %H:%M:%S");
    let started = Instant::now();
    let mut i = 0;
    while i < mappings {
        let mut values = Vec::with_capacity(CHUNK as usize);
        for j in i..(i + CHUNK).min(mappings) {
            let site = j % SITES;
            let nth = j / SITES;
            let visitor = nth % VISITORS;
            // Spread each site's visits over the days and the daylight quarter hours.
            let day = nth % DAYS;
            let quarter = (nth / DAYS) % 48;
            let start = first_day
                + TimeDelta::days(day as i64)
                + TimeDelta::hours(6)
                + TimeDelta::minutes(15 * quarter as i64);
            let end = start + TimeDelta::minutes(90);
            values.push(format!(
                "({}, '{}', '{}', '{}', '{}', '{created}')",
                backend.bytes(&rng.hex32()),
                sealed[visitor as usize].as_str(),
                sites[site as usize],
                start.format("%Y-%m-%d %H:%M:%S"),
                end.format("%Y-%m-%d %H:%M:%S"),
            ));
        }
        backend
            .execute(&format!(
                "INSERT INTO visit_mappings (token_digest, sealed_visitor, site_id, visit_start, visit_end, created_at) VALUES {};",
                values.join(",")
            ))
            .await;
        i += CHUNK;
    }
    eprintln!(
        "seeded {mappings} mappings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    sites
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Probes `path` from four loops until `stop`; the latencies in milliseconds, sorted.
async fn probe(base: &str, path: &str, stop: Arc<AtomicBool>) -> Vec<f64> {
    let client = wildid_tests::client::http_builder().build().unwrap();
    let mut loops = Vec::new();
    for _ in 0..4 {
        let (client, url, stop) = (client.clone(), format!("{base}{path}"), Arc::clone(&stop));
        loops.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                let r = client.get(&url).send().await.unwrap();
                assert!(r.status().is_success(), "{url}: {}", r.status());
                r.bytes().await.unwrap();
                seen.push(at.elapsed().as_secs_f64() * 1000.0);
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for l in loops {
        all.extend(l.await.unwrap());
    }
    all.sort_by(f64::total_cmp);
    all
}

fn summary(name: &str, sorted: &[f64]) -> String {
    eprintln!(
        "{name:<22} n {:>7}   p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        sorted.len(),
        percentile(sorted, 50.0),
        percentile(sorted, 99.0),
        sorted.last().copied().unwrap_or(f64::NAN)
    );
    format!(
        "\"{name}\":{{\"n\":{},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        sorted.len(),
        percentile(sorted, 50.0),
        percentile(sorted, 99.0),
        sorted.last().copied().unwrap_or(f64::NAN)
    )
}

/// Probes `/healthz` and `/readyz` together while `work` runs (or for `idle` when `None`).
async fn probed<F: std::future::Future<Output = ()>>(
    base: &str,
    idle: Duration,
    work: Option<F>,
) -> (Vec<f64>, Vec<f64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let health = tokio::spawn({
        let (base, stop) = (base.to_owned(), Arc::clone(&stop));
        async move { probe(&base, "/healthz", stop).await }
    });
    let ready = tokio::spawn({
        let (base, stop) = (base.to_owned(), Arc::clone(&stop));
        async move { probe(&base, "/readyz", stop).await }
    });
    match work {
        Some(work) => work.await,
        None => tokio::time::sleep(idle).await,
    }
    stop.store(true, Ordering::Relaxed);
    (health.await.unwrap(), ready.await.unwrap())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, backend, mappings, binary] = args.as_slice() else {
        panic!("usage: visits-bench sqlite|postgres MAPPINGS SERVER_BINARY");
    };
    let mappings: u64 = mappings.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backend = match backend.as_str() {
        "sqlite" => Backend::Sqlite(dir.path().join("data").join("wildid.db")),
        "postgres" => match wildid_tests::db::fresh_postgres_url().await {
            Some(DatabaseUrl::Postgres(url)) => Backend::Postgres(url.expose().to_owned()),
            _ => panic!("no Postgres here"),
        },
        other => panic!("unknown backend {other}"),
    };
    let (mut server, base) = start_server(binary, &backend.url(), &dir.path().join("data"));
    let db = Database::open(
        &DatabaseUrl::parse(&backend.url()).unwrap(),
        PoolOptions::default(),
    )
    .unwrap();
    let cipher = fernet_ring();
    let sites = seed(&backend, &db, &cipher, mappings).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let audit = AuditTrail::new(db.audit_log());

    // 1. Exposure reports for one site and one (past) day each.
    let exposures = Exposures::new(ExposurePorts {
        mappings: db.visit_mappings(),
        reports: db.exposure_reports(),
        notifications: db.notifications(),
        sites: db.sites(),
        audit: audit.clone(),
        clock: Arc::clone(&clock),
        random: Arc::new(OsRandom),
        cipher: Arc::new(cipher.clone()),
    });
    let midnight = Utc::now().duration_trunc(TimeDelta::days(1)).unwrap();
    let reporter = UserId::from_random([1; 16]);
    let mut reports = Vec::new();
    let mut notified = 0;
    for n in 0..20u64 {
        let day = midnight - TimeDelta::days(2 + (n % 10) as i64);
        let input = ExposureInput {
            site: sites[(n * 7 % SITES) as usize],
            from: day,
            to: day + TimeDelta::days(1),
            note: "Avian influenza found in a dead gull.".into(),
        };
        let at = Instant::now();
        let done = exposures.report(reporter, &input, None).await.unwrap();
        reports.push(at.elapsed().as_secs_f64() * 1000.0);
        notified += done.notified;
    }
    reports.sort_by(f64::total_cmp);
    let report_json = summary("exposure_report", &reports);
    eprintln!("people told per report: {}", notified / 20);

    // 2. Every mapping past retention, purged while the server is probed.
    let old = (Utc::now() - TimeDelta::days(30)).format("%Y-%m-%d %H:%M:%S");
    backend
        .execute(&format!("UPDATE visit_mappings SET created_at = '{old}';"))
        .await;
    let (idle_health, idle_ready) = probed(
        &base,
        Duration::from_secs(10),
        None::<std::future::Ready<()>>,
    )
    .await;
    let retention = VisitRetention::new(
        RetentionPorts {
            bookings: db.bookings(),
            mappings: db.visit_mappings(),
            notifications: db.notifications(),
            leases: db.job_leases(),
            audit,
            clock,
        },
        RetentionPolicy::default(),
        "visits-bench",
    );
    let purge_started = Instant::now();
    let mut purged = 0;
    let (busy_health, busy_ready) = probed(
        &base,
        Duration::ZERO,
        Some(async {
            match retention.purge_now(Actor::System, None).await.unwrap() {
                PurgeRun::Purged(p) => purged = p.mappings,
                other => panic!("{other:?}"),
            }
        }),
    )
    .await;
    let purge_seconds = purge_started.elapsed().as_secs_f64();
    eprintln!("purged {purged} mappings in {purge_seconds:.1} s");
    let parts = [
        report_json,
        summary("healthz_idle", &idle_health),
        summary("healthz_during_purge", &busy_health),
        summary("readyz_idle", &idle_ready),
        summary("readyz_during_purge", &busy_ready),
    ];
    let ratio = percentile(&busy_health, 99.0) / percentile(&idle_health, 99.0);
    eprintln!("healthz p99 during the purge / idle: {ratio:.2}");
    println!(
        "{{\"backend\":\"{}\",\"mappings\":{mappings},\"notified_per_report\":{},\"purged\":{purged},\"purge_seconds\":{purge_seconds:.1},\"healthz_p99_ratio\":{ratio:.2},{}}}",
        args[1],
        notified / 20,
        parts.join(",")
    );
    server.kill().ok();
    server.wait().ok();
}

//! Work cut short by SIGKILL (issue 18 "Faults"): a server killed while people upload photos,
//! and `wildid purge` killed half-way through a large purge. Afterwards no half-written record
//! exists, the database and the audit chain are whole, no job stays stuck, and the work goes on
//! where it stopped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::time::{Duration, Instant};

use wildid_tests::accounts::{self, count, lines, sign_in_by_link};
use wildid_tests::provider::FakeProvider;
use wildid_tests::server::{Server, run_cli, spawn_cli};

/// A photo of noise (about 200 KB as PNG), so each upload has some work in it.
fn photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let pixels = image::RgbImage::from_fn(320, 240, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// The one value `sql` selects (as `line`).
fn single(dir: &std::path::Path, sql: &str) -> String {
    lines(dir, sql).pop().unwrap()
}

/// Journal rows that do not add up: entries without their photo or sighting, photos or
/// sightings without their entry, allowances that differ from the bytes kept.
fn half_written(dir: &std::path::Path) -> Vec<String> {
    let checks = [
        (
            "entries without a photo",
            "SELECT CAST(count(*) AS TEXT) AS line FROM identifications i \
             WHERE NOT EXISTS (SELECT 1 FROM identification_photos p WHERE p.identification_id = i.id)",
        ),
        (
            "entries without a sighting",
            "SELECT CAST(count(*) AS TEXT) AS line FROM identifications i \
             WHERE NOT EXISTS (SELECT 1 FROM sightings s WHERE s.identification_id = i.id)",
        ),
        (
            "photos without an entry",
            "SELECT CAST(count(*) AS TEXT) AS line FROM identification_photos p \
             WHERE NOT EXISTS (SELECT 1 FROM identifications i WHERE i.id = p.identification_id)",
        ),
        (
            "allowances that differ from the bytes kept",
            "SELECT CAST(count(*) AS TEXT) AS line FROM journal_usage u WHERE u.bytes <> \
             (SELECT coalesce(sum(stored_bytes), 0) FROM identifications i WHERE i.owner = u.user_id)",
        ),
    ];
    checks
        .iter()
        .filter_map(|(what, sql)| {
            let n = single(dir, sql);
            (n != "0").then(|| format!("{n} {what}"))
        })
        .collect()
}

fn whole(dir: &std::path::Path) {
    assert_eq!(
        lines(
            dir,
            "SELECT integrity_check AS line FROM pragma_integrity_check"
        ),
        ["ok"]
    );
    let (status, out, err) = run_cli(dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.starts_with("audit log intact"), "{out}");
}

#[tokio::test]
async fn a_server_killed_in_the_middle_of_uploads_keeps_only_whole_entries() {
    let provider = FakeProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        accounts::options()
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", provider.base_url())
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_API_KEY", "sk-test-interrupted")
            .env("WILDID_RATE_LIMIT_THRESHOLD", "100000")
            .env("WILDID_LIMIT_SIGN_IN", "off")
            .data_dir(dir.path())
    };
    let server = Server::start_with(options()).unwrap();
    let mut people = Vec::new();
    for n in 0..4 {
        people.push(sign_in_by_link(&server, &format!("uploader{n}@example.org")).await);
    }
    let mut work = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let mut person = person.with_own_connections();
        let seed = u32::try_from(n).unwrap();
        work.push(tokio::spawn(async move {
            let photo = photo(seed + 1);
            for _ in 0..500 {
                person
                    .post_multipart(
                        "/api/identify",
                        &[
                            ("image", &photo),
                            ("latitude", b"-33.85"),
                            ("longitude", b"151.21"),
                            ("notes", b"seen from the path"),
                        ],
                    )
                    .await;
            }
        }));
    }
    // Kill once entries are being kept, with uploads in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(dir.path(), "identifications") < 8 {
        assert!(Instant::now() < deadline, "{:#?}", server.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL
    for task in work {
        // The connections broke: the uploaders' tasks end with an error, as they should.
        let _ = task.await;
    }

    let kept = count(dir.path(), "identifications");
    assert!(kept >= 8);
    assert_eq!(half_written(dir.path()), Vec::<String>::new());
    whole(dir.path());

    // It starts again on the same files; the same sessions go on uploading.
    let server = Server::start_with(options()).unwrap();
    let mut first = people[0].pointed_at(&server.url(""));
    let r = first
        .post_multipart(
            "/api/identify",
            &[
                ("image", &photo(9)),
                ("latitude", b"1"),
                ("longitude", b"2"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count(dir.path(), "identifications"), kept + 1);
    assert_eq!(half_written(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_purge_killed_half_way_deletes_whole_rows_and_its_lease_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run_cli(dir.path(), &[], &["migrate"]);
    assert!(status.success(), "{err}");
    // A site and 300,000 visit mappings written long before the retention period.
    const ROWS: i64 = 300_000;
    accounts::sqlite(
        dir.path(),
        &format!(
            "INSERT INTO sites (id, name, name_key, description, south, west, north, east, active) \
             VALUES ('site-1', 'Shore', 'shore', NULL, 0, 0, 1000, 1000, 1); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
             INSERT INTO visit_mappings (token_digest, sealed_visitor, site_id, visit_start, visit_end, created_at) \
             SELECT randomblob(32), 'sealed', 'site-1', '2001-01-01 10:00:00', '2001-01-01 11:00:00', \
                    '2001-01-01 11:00:00' FROM n;"
        ),
    );
    assert_eq!(count(dir.path(), "visit_mappings"), ROWS);

    let mut purge = spawn_cli(dir.path(), &["purge"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(dir.path(), "visit_mappings") == ROWS {
        assert!(Instant::now() < deadline, "the purge did not start");
        assert!(purge.try_wait().unwrap().is_none(), "the purge ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    purge.kill().unwrap(); // SIGKILL, between two batches or in one
    purge.wait().unwrap();

    let left = count(dir.path(), "visit_mappings");
    assert!(left > 0 && left < ROWS, "killed half-way: {left} left");
    assert_eq!(
        (ROWS - left) % 1_000,
        0,
        "whole batches only: a statement is deleted entirely or not at all"
    );
    whole(dir.path());

    // The dead purge's lease still holds, for at most its 15 minutes: another purge now is
    // told to wait (exit 3), not run beside a purge that might still be alive.
    let until = single(
        dir.path(),
        "SELECT leased_until AS line FROM job_leases WHERE job = 'retention' AND holder IS NOT NULL",
    );
    let until = chrono::NaiveDateTime::parse_from_str(&until, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    assert!(until <= chrono::Utc::now().naive_utc() + chrono::TimeDelta::minutes(15));
    let (status, _, err) = run_cli(dir.path(), &[], &["purge"]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("try again in a few minutes"), "{err}");

    // Once the lease has run out (the clock moved on), the purge takes it and ends the work.
    accounts::sqlite(
        dir.path(),
        "UPDATE job_leases SET leased_until = '2001-01-01 00:00:00' WHERE job = 'retention'",
    );
    let (status, out, err) = run_cli(dir.path(), &[], &["purge"]);
    assert!(status.success(), "{out}{err}");
    assert!(
        out.contains(&format!("deleted {left} visit mapping(s)")),
        "{out}"
    );
    assert_eq!(count(dir.path(), "visit_mappings"), 0);
    whole(dir.path());
}

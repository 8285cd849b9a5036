//! The API document tells the truth (issue 18): Schemathesis, an API fuzzer no one here wrote,
//! reads `/api/openapi.json` from the real server and sends it generated requests, valid and
//! not, with every check on (no 5xx, every status and body as documented, bad data refused,
//! good data accepted, the documented auth not ignored...). Its settings and hooks are in
//! `tests/api-fuzz/`; `scripts/test` installs the pinned version in `target/api-fuzz`.
//!
//! Three rounds, each with a signed-in session of its own: a visitor on every operation that
//! keeps the session; an admin (with the second factor) on the admin and worker operations;
//! then each operation that ends or renews the session, alone, with a fresh session each. After
//! the first two, the session must still work: no other operation may end it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use wildid_tests::accounts::{self, sign_in_by_link, staff_with_totp};
use wildid_tests::client::Client;
use wildid_tests::server::Server;

/// Paths of the operations that end or renew the session (sign-in, sign-out,
/// re-authentication, a change of credential, an admin ending an account's sessions, their own
/// included); each path has that one operation.
const SESSION_CHANGING: [&str; 13] = [
    "/api/auth/logout",
    "/api/auth/login",
    "/api/auth/magic-link/redeem",
    "/api/auth/verify-email",
    "/api/auth/reauth",
    "/api/account",
    "/api/account/sessions/revoke",
    "/api/account/password",
    "/api/account/email/confirm",
    "/api/account/totp/confirm",
    "/api/account/totp/disable",
    "/api/account/recovery-codes",
    "/api/admin/users/{id}/sessions/revoke",
];

/// Generated examples per operation and phase, and the seed (one run is the same run).
const EXAMPLES: &str = "25";
const SEED: &str = "20261205";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The installed Schemathesis: `WILDID_SCHEMATHESIS`, or where `scripts/test` puts it.
fn schemathesis() -> Option<PathBuf> {
    let path = std::env::var_os("WILDID_SCHEMATHESIS").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace().join("target"), PathBuf::from);
            target.join("api-fuzz/bin/schemathesis")
        },
        PathBuf::from,
    );
    path.exists().then_some(path)
}

struct Fuzzer {
    program: PathBuf,
    document: PathBuf,
    base: String,
}

impl Fuzzer {
    /// Runs Schemathesis as `session` on the operations `filters` select; panics with its
    /// report when a check failed. Returns how many requests it generated.
    async fn run(&self, session: &mut Client, filters: &[&str]) -> u64 {
        let csrf = session.refresh_csrf().await;
        let settings = workspace().join("tests/api-fuzz");
        let mut command = Command::new(&self.program);
        command
            .arg("--config-file")
            .arg(settings.join("schemathesis.toml"))
            .arg("run")
            .arg(&self.document)
            .args(["--url", &self.base])
            .args(["--checks", "all", "--workers", "1"])
            .args(["--max-examples", EXAMPLES, "--seed", SEED])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(filters)
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("PYTHONPATH", &settings)
            .env("WILDID_FUZZ_COOKIE", session.cookie_header())
            .env("WILDID_FUZZ_CSRF", &csrf);
        for (name, value) in session.fingerprint_headers() {
            command.arg("-H").arg(format!("{name}: {value}"));
        }
        let output = command.output().expect("schemathesis runs");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "schemathesis {filters:?} failed:\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // "Test cases:\n  1282 generated, 1282 passed"
        report
            .lines()
            .find_map(|line| {
                let (n, _) = line.trim().split_once(" generated, ")?;
                n.parse().ok()
            })
            .unwrap_or_else(|| panic!("no count of generated requests in:\n{report}"))
    }
}

#[tokio::test]
async fn generated_requests_get_the_answers_the_api_document_promises() {
    let Some(program) = schemathesis() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the API fuzz test: scripts/test installs Schemathesis in target/api-fuzz"
        );
        return;
    };
    let server = Server::start_with(
        accounts::options()
            .env("WILDID_LIMIT_SIGN_IN", "off")
            .env("WILDID_LIMIT_IDENTIFY", "off")
            .env("WILDID_LIMIT_CAPTCHA", "off")
            .env("WILDID_LIMIT_REPORTS", "off")
            .env("WILDID_LIMIT_DEFAULT", "off")
            .env("WILDID_RATE_LIMIT_THRESHOLD", "100000"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("openapi.json");
    let mut anyone = Client::new(&server.url(""));
    let r = anyone.get("/api/openapi.json").await;
    assert_eq!(r.status, 200);
    std::fs::write(&document, &r.bytes).unwrap();
    let fuzzer = Fuzzer {
        program,
        document,
        base: server.url(""),
    };
    let excluded: Vec<&str> = SESSION_CHANGING
        .iter()
        .flat_map(|path| ["--exclude-path", path])
        .collect();

    // A visitor, on everything that keeps the session; staff routes answer 401 or 403.
    let mut visitor = sign_in_by_link(&server, "fuzz.visitor@example.org").await;
    let mut filters = vec!["--exclude-path-regex", "^/api/admin/"];
    filters.extend(&excluded);
    let mut generated = fuzzer.run(&mut visitor, &filters).await;
    let me = visitor.get("/api/auth/me").await;
    assert_eq!(
        me.status, 200,
        "the visitor's session survived: {}",
        me.body
    );

    // An admin, on the admin and worker operations.
    let mut admin = staff_with_totp(&server, "fuzz.admin@example.org", "admin").await;
    let mut filters = vec!["--include-path-regex", "^/api/(admin|worker)/"];
    filters.extend(&excluded);
    generated += fuzzer.run(&mut admin, &filters).await;
    let me = admin.get("/api/auth/me").await;
    let ended: Vec<String> = server
        .logs()
        .into_iter()
        .filter(|l| l.contains("action=\"session.") || l.contains("role_changed"))
        .collect();
    assert_eq!(me.status, 200, "the admin's session survived: {ended:#?}");

    // Each operation that ends or renews the session, alone, with a fresh session.
    for (n, path) in SESSION_CHANGING.iter().enumerate() {
        let email = format!("fuzz.{n}@example.org");
        let mut person = if path.starts_with("/api/admin/") {
            staff_with_totp(&server, &email, "admin").await
        } else {
            sign_in_by_link(&server, &email).await
        };
        generated += fuzzer.run(&mut person, &["--include-path", path]).await;
    }
    // Enough to mean something: about 25 per operation and phase, less where a schema allows few.
    assert!(generated > 1_500, "only {generated} requests generated");
    eprintln!("schemathesis: {generated} generated requests, every check passed");
    let logs = server.logs();
    assert!(!logs.iter().any(|l| l.contains("panicked")), "{logs:#?}");
}

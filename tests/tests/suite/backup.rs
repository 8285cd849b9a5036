//! Backups restore whole (issue 18, docs/deployment.md "Backup and restore"): a copy taken the
//! documented way while the server runs (`VACUUM INTO` on SQLite, `pg_dump` on Postgres) is
//! put back, the audit chain verifies against the head recorded when the backup was taken,
//! the accounts in it are found by their addresses again, and nothing after the backup came
//! back with it. An anchor recorded after the backup is refused: entries are missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use wildid_tests::accounts::{self, count, sign_in_by_link, sqlite};
use wildid_tests::server::{Server, run_cli};

/// `wildid audit head` for the server's data.
fn head(data_dir: &Path, envs: &[(&str, &str)]) -> String {
    let (status, out, err) = run_cli(data_dir, envs, &["audit", "head"]);
    assert!(status.success(), "{out}{err}");
    out.trim().to_owned()
}

/// `wildid audit verify --anchor ANCHOR`: its exit status and output.
fn verify(data_dir: &Path, envs: &[(&str, &str)], anchor: &str) -> (Option<i32>, String) {
    let (status, out, err) = run_cli(data_dir, envs, &["audit", "verify", "--anchor", anchor]);
    (status.code(), format!("{out}{err}"))
}

async fn user_id(server: &Server, email: &str) -> String {
    let mut browser = sign_in_by_link(server, email).await;
    browser.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_sqlite_backup_taken_while_serving_restores_with_its_chain_and_accounts() {
    let server = Server::start_with(accounts::options()).unwrap();
    let keeper = user_id(&server, "keeper@example.org").await;
    let at_backup = head(&server.data_dir, &[]);
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("wildid-backup.db");
    sqlite(
        &server.data_dir,
        &format!("VACUUM INTO '{}'", file.display()),
    );
    // Life goes on after the backup.
    user_id(&server, "later@example.org").await;
    let after_backup = head(&server.data_dir, &[]);
    assert_ne!(after_backup, at_backup);
    let secrets = std::fs::read(server.data_dir.join("dev-secrets.env")).unwrap();
    server.stop();

    // Restore: the copy and the same secrets in a fresh data directory.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join("wildid.db")).unwrap();
    std::fs::write(restored.path().join("dev-secrets.env"), secrets).unwrap();
    let (code, out) = verify(restored.path(), &[], &at_backup);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(restored.path(), &[], &after_backup);
    assert_eq!(code, Some(1), "entries after the backup are missing: {out}");

    let server = Server::start_with(accounts::options().data_dir(restored.path())).unwrap();
    assert_eq!(
        count(&server.data_dir, "users"),
        1,
        "only what the backup held"
    );
    assert_eq!(
        user_id(&server, "keeper@example.org").await,
        keeper,
        "the account is found by its address again"
    );
}

#[tokio::test]
async fn a_postgres_dump_restores_with_its_chain_and_accounts() {
    let Some(wildid_adapters_db::DatabaseUrl::Postgres(url)) =
        wildid_tests::db::fresh_postgres_url().await
    else {
        return;
    };
    let url = url.expose().to_owned();
    let envs = [("DATABASE_URL", url.as_str())];
    let server = Server::start_with(accounts::options().env("DATABASE_URL", &url)).unwrap();
    let keeper = user_id(&server, "keeper@example.org").await;
    let at_backup = head(&server.data_dir, &envs);
    let dump = wildid_tests::pg::dump(&url).unwrap();
    user_id(&server, "later@example.org").await;
    let after_backup = head(&server.data_dir, &envs);
    let data_dir = server.data_dir.clone();
    let secrets = std::fs::read(data_dir.join("dev-secrets.env")).unwrap();
    server.stop();

    let Some(wildid_adapters_db::DatabaseUrl::Postgres(fresh)) =
        wildid_tests::db::fresh_postgres_url().await
    else {
        unreachable!("Postgres answered a moment ago")
    };
    let fresh = fresh.expose().to_owned();
    wildid_tests::pg::restore(&fresh, &dump).unwrap();
    let restored = tempfile::tempdir().unwrap();
    std::fs::write(restored.path().join("dev-secrets.env"), secrets).unwrap();
    let envs = [("DATABASE_URL", fresh.as_str())];
    let (code, out) = verify(restored.path(), &envs, &at_backup);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(restored.path(), &envs, &after_backup);
    assert_eq!(code, Some(1), "entries after the backup are missing: {out}");

    let server = Server::start_with(
        accounts::options()
            .env("DATABASE_URL", &fresh)
            .data_dir(restored.path()),
    )
    .unwrap();
    assert_eq!(
        user_id(&server, "keeper@example.org").await,
        keeper,
        "the account is found by its address again"
    );
}

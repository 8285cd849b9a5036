//! Fresh, migrated databases of both backends for contract tests.

use std::sync::Arc;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions, run_migrations};

/// A migrated database and what keeps it alive.
pub struct TestDb {
    /// The open database.
    pub db: Arc<Database>,
    /// Its URL (for a second pool, or a second server process).
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite file in a temporary directory, migrated.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_file(dir.path().join("wildid.db"));
    run_migrations(&url).await.unwrap();
    let db = Database::open(&url, PoolOptions::default()).unwrap();
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

/// A fresh database on the test Postgres server, migrated; `None` when Postgres is not
/// available outside CI (see [`crate::pg::server`]).
pub async fn postgres() -> Option<TestDb> {
    let url = fresh_postgres_url().await?;
    run_migrations(&url).await.unwrap();
    let db = Database::open(&url, PoolOptions::default()).unwrap();
    Some(TestDb {
        db,
        url,
        _dir: None,
    })
}

/// [`fresh_postgres_url`] as the text a server's `DATABASE_URL` takes.
pub async fn fresh_postgres_url_text() -> Option<String> {
    match fresh_postgres_url().await? {
        DatabaseUrl::Postgres(raw) => Some(raw.expose().to_owned()),
        DatabaseUrl::Sqlite { .. } => None,
    }
}

/// The URL of a new, empty (unmigrated) database on the test Postgres server.
pub async fn fresh_postgres_url() -> Option<DatabaseUrl> {
    let server = crate::pg::server()?;
    let name = format!("wildid_test_{}", unique_suffix());
    let mut admin = AsyncPgConnection::establish(server.admin_url())
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    Some(DatabaseUrl::parse(&server.url_for(&name)).unwrap())
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Runs `$body` (an async closure taking a [`TestDb`]) as two tests, one per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::db::sqlite().await;
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::db::postgres().await else {
                    return;
                };
                ($body)(db).await;
            }
        }
    };
}

impl TestDb {
    /// Runs raw SQL on a separate connection, as an attacker with database access would.
    /// Returns the database's error text on failure.
    pub async fn exec_raw(&self, sql: &str) -> Result<(), String> {
        match &self.url {
            DatabaseUrl::Sqlite { path, .. } => {
                use diesel::Connection;
                use diesel::connection::SimpleConnection;
                let path = path.to_str().unwrap().to_owned();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    let mut conn =
                        diesel::SqliteConnection::establish(&path).map_err(|e| e.to_string())?;
                    conn.batch_execute(&sql).map_err(|e| e.to_string())
                })
                .await
                .unwrap()
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = AsyncPgConnection::establish(url.expose())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.batch_execute(sql).await.map_err(|e| e.to_string())
            }
        }
    }

    /// Whether this is the Postgres backend.
    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }
}

/// Closing the pool first means no connection still holds the SQLite file when its directory
/// is removed. (Having a `Drop` also makes closures capture a `TestDb` whole, never just
/// `db`, which would drop the temporary directory while the database is in use.)
impl Drop for TestDb {
    fn drop(&mut self) {
        self.db.close();
    }
}

/// Makes every message waiting for a retry due now, once its failed attempt is recorded (so
/// the worker's own rescheduling cannot overwrite this). Waits up to 10 s for such a message.
pub async fn make_retries_due(sqlite_file: &std::path::Path) {
    use diesel::{Connection, RunQueryDsl};
    for _ in 0..200 {
        let mut conn = diesel::SqliteConnection::establish(sqlite_file.to_str().unwrap()).unwrap();
        let changed = diesel::sql_query(
            "UPDATE mail_outbox SET next_attempt_at = '2000-01-01 00:00:00' WHERE sent_at IS NULL AND attempts >= 1",
        )
        .execute(&mut conn)
        .unwrap();
        if changed > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no failed delivery was recorded");
}

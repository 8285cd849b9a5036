//! Embedded migrations, one folder per backend, applied at start and by `wildid migrate`.
//!
//! Migrations run on a dedicated synchronous connection inside `spawn_blocking`. On Postgres,
//! a session advisory lock makes concurrent starts of several servers take turns.

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::pool::SQLITE_PRAGMAS;
use crate::{DatabaseUrl, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Takes WildID's migration lock (an arbitrary constant, 0x5769_6c64_4944_0001: "WildID" and
/// 1). Written out, so no SQL is ever formatted at run time (`tests/tests/suite/raw_sql.rs`).
const PG_LOCK: &str = "SELECT pg_advisory_lock(6298684731836071937)";
/// Releases it.
const PG_UNLOCK: &str = "SELECT pg_advisory_unlock(6298684731836071937)";

/// Applies pending migrations; returns the versions applied (empty when up to date).
///
/// # Errors
/// [`DbError::Connect`] when the database cannot be opened, [`DbError::Migrate`] when a
/// migration fails (it is rolled back).
pub async fn run_migrations(url: &DatabaseUrl) -> Result<Vec<String>, DbError> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || match url {
        DatabaseUrl::Sqlite { path, create } => {
            crate::sqlite_file::prepare(&path, create)?;
            let path = path
                .to_str()
                .ok_or_else(|| DbError::Connect("the SQLite path is not valid UTF-8".into()))?;
            let mut conn =
                SqliteConnection::establish(path).map_err(|e| DbError::Connect(e.to_string()))?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(|e| DbError::Connect(e.to_string()))?;
            apply(&mut conn, SQLITE)
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url.expose())
                .map_err(|e| DbError::Connect(e.to_string()))?;
            conn.batch_execute(PG_LOCK)
                .map_err(|e| DbError::Migrate(e.to_string()))?;
            let applied = apply(&mut conn, POSTGRES);
            let unlocked = conn.batch_execute(PG_UNLOCK);
            let applied = applied?;
            unlocked.map_err(|e| DbError::Migrate(e.to_string()))?;
            Ok(applied)
        }
    })
    .await
    .map_err(|e| DbError::Migrate(format!("migration task failed: {e}")))?
}

fn apply<C, DB>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, DbError>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
{
    conn.run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| DbError::Migrate(e.to_string()))
}

//! The connection pool: one enum over both backends, and the `with_conn!` macro that runs the
//! same diesel code on whichever backend is open.
//!
//! Both pools are diesel-async pools managed by deadpool. Postgres connections are natively
//! asynchronous (tokio-postgres, no libpq). SQLite connections are wrapped in
//! `SyncConnectionWrapper`, in two pools:
//!
//! - **writes** run on tokio's blocking thread pool: a commit may wait for a checkpoint's
//!   fsync, or for another process's write lock (the busy timeout), and no async worker may
//!   wait on either;
//! - **the reads every request makes** (`read_query!`: its session, its user, and the short
//!   indexed reads of the journal's pages) run on the
//!   calling worker ([`Inline`]): a read in WAL mode takes no lock and waits for no writer, and
//!   a key lookup takes microseconds, far less than handing it to another thread and back (two
//!   futex wake-ups and two context switches, which the profile of the session-resume
//!   benchmark showed as a third of the server's CPU). These connections are read-only and
//!   have no busy timeout, so an async worker never sleeps in SQLite's busy handler: in the
//!   rare moment a WAL read does meet a lock (another connection recovering the WAL index, or
//!   holding the file in exclusive mode), the query runs again on the blocking pool, where
//!   waiting is allowed;
//! - **other reads** (`with_conn!`) run on the blocking pool too, without the write gate.
//!
//! SQLite allows one writer at a time. Left to itself, a second writer spins in SQLite's busy
//! handler, which sleeps 1, 2, 5, 10... ms between attempts while it holds a pooled connection
//! and a blocking thread: measured during a sign-in flood, about 230 such sleeps a second, and
//! the requests that only read waited behind them. So the writes of this process queue first
//! on an asynchronous gate ([`WriteGate`], first come first served, nothing sleeps) and reach
//! SQLite one at a time; the busy timeout remains only for writers of other processes. Code
//! that writes uses `with_write_conn!` or `write_transaction!`; `with_conn!` is for reads.
//!
//! Those macros are in `pool/macros.rs` (re-exported here); this file holds the pools, the
//! write gate, and the helpers of code that deletes (`truncate_wal`, `in_batches`).

use std::path::Path;
use std::time::Duration;

use diesel::{ConnectionError, SqliteConnection};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

use crate::DbError;
use wildid_ports::RepoError;

mod macros;
pub(crate) use macros::{
    count_rows, pooled, read_query, with_conn, with_write_conn, write_transaction,
};

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;
/// A SQLite connection whose statements run on the calling thread (reads only).
pub(crate) type SqliteReadConn = SyncConnectionWrapper<SqliteConnection, Inline>;
type SqlitePool = diesel_async::pooled_connection::deadpool::Pool<SqliteConn>;
type SqliteReadPool = diesel_async::pooled_connection::deadpool::Pool<SqliteReadConn>;

/// Runs a statement where it is called: the "blocking" task of a read is a few microseconds
/// of SQLite work on pages in memory.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Inline;

impl diesel_async::sync_connection_wrapper::SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> futures_util::future::BoxFuture<
        'a,
        Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>,
    >
    where
        R: Send + 'static,
    {
        std::future::ready(Ok(task())).boxed()
    }

    fn get_runtime() -> Self {
        Inline
    }
}
type PgPool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;

/// Statements run on every new SQLite connection. The busy timeout comes first: the others may
/// need a lock, and without it a connection opened during a write would fail at once.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA secure_delete = ON;";

/// Statements run on every new connection of the inline read pool: no busy timeout (a lock
/// fails the statement at once, and `read_query!` retries it on the blocking pool), and no
/// writes at all (an inline write would pass the write gate by). The journal mode is a property
/// of the file, set by the migrations and the write pool before any read.
const SQLITE_INLINE_READER_PRAGMAS: &str = "PRAGMA busy_timeout = 0; PRAGMA query_only = ON;";

/// Pool sizing and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a request waits for a free connection (or a new one) before giving up with
    /// `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Lets one of this process's SQLite writers in at a time, in arrival order.
#[derive(Clone)]
pub(crate) struct WriteGate(std::sync::Arc<tokio::sync::Semaphore>);

impl WriteGate {
    fn new() -> Self {
        Self(std::sync::Arc::new(tokio::sync::Semaphore::new(1)))
    }

    /// Waits for this process's turn to write; the turn ends when the permit is dropped.
    pub(crate) async fn enter(
        &self,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, wildid_ports::RepoError> {
        self.0
            .acquire()
            .await
            .map_err(|_| wildid_ports::RepoError::Unavailable("the database is closing".into()))
    }

    fn close(&self) {
        self.0.close();
    }
}

/// A deadpool of SQLite connections of type `$conn` (which decides where their statements
/// run) that run `$pragmas` when they open. A macro because the bounds diesel-async puts on a
/// generic connection type are longer than the code.
macro_rules! sqlite_pool {
    ($conn:ty, $url:expr, $options:expr, $pragmas:expr) => {{
        let pragmas: &'static str = $pragmas;
        let options: PoolOptions = $options;
        let mut config = ManagerConfig::<$conn>::default();
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |path: &str| {
            let path = path.to_owned();
            async move {
                let mut conn = <$conn>::establish(&path).await?;
                conn.batch_execute(pragmas)
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::<$conn>::new_with_config($url, config);
        diesel_async::pooled_connection::deadpool::Pool::builder(manager)
            .max_size(options.max_connections)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Connect(e.to_string()))?
    }};
}

pub(crate) enum Pool {
    Sqlite {
        /// Writes (one at a time through `writers`) and most reads, on the blocking pool.
        pool: SqlitePool,
        /// The reads of `read_query!`, inline.
        readers: SqliteReadPool,
        writers: WriteGate,
    },
    Postgres(PgPool),
}

/// How long a Postgres connection may sit unused before it is asked `SELECT 1` ahead of its
/// next use.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

type PgManager = AsyncDieselConnectionManager<AsyncPgConnection>;

/// The pre-recycle hook of the Postgres pool: a connection unused for [`IDLE_CHECK_AFTER`]
/// answers `SELECT 1` within `within`, or is dropped (and the pool hands out another).
fn idle_check(within: Duration) -> deadpool::managed::Hook<PgManager> {
    deadpool::managed::Hook::async_fn(move |conn: &mut AsyncPgConnection, metrics| {
        let idle = metrics.last_used() >= IDLE_CHECK_AFTER;
        Box::pin(async move {
            if !idle {
                return Ok(());
            }
            let ping = diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), conn);
            match tokio::time::timeout(within, ping).await {
                Ok(Ok(_)) => Ok(()),
                _ => Err(deadpool::managed::HookError::Message(
                    "an idle connection did not answer; it is replaced".into(),
                )),
            }
        })
    })
}

impl Pool {
    pub(crate) fn sqlite(path: &Path, options: PoolOptions) -> Result<Self, DbError> {
        Self::sqlite_with(path, options, SQLITE_PRAGMAS)
    }

    /// A SQLite pool whose blocking connections run `pragmas` when they open. The inline read
    /// connections always run [`SQLITE_INLINE_READER_PRAGMAS`]: read-only and no busy timeout,
    /// so they never sleep on an async worker.
    pub(crate) fn sqlite_with(
        path: &Path,
        options: PoolOptions,
        pragmas: &'static str,
    ) -> Result<Self, DbError> {
        let url = path
            .to_str()
            .ok_or_else(|| DbError::Connect("the SQLite path is not valid UTF-8".into()))?;
        Ok(Self::Sqlite {
            pool: sqlite_pool!(SqliteConn, url, options, pragmas),
            readers: sqlite_pool!(SqliteReadConn, url, options, SQLITE_INLINE_READER_PRAGMAS),
            writers: WriteGate::new(),
        })
    }

    pub(crate) fn postgres(url: &str, options: PoolOptions) -> Result<Self, DbError> {
        // `Fast`: a pooled connection in use is handed out again unless it is known to be
        // closed (its socket ended, as when Postgres stops or restarts) or left in a broken
        // transaction. `Verified` would send `SELECT 1` before every query, doubling the
        // round trips of every request. A connection that sat unused for a while is the one
        // that may have died silently (a firewall or NAT forgetting it, a partition): the
        // pre-recycle hook asks it `SELECT 1` first, within the acquire timeout, and drops it
        // when it does not answer, so the request gets a fresh one instead of a hang.
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = PgPool::builder(manager)
            .max_size(options.max_connections)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .recycle_timeout(Some(options.acquire_timeout))
            .pre_recycle(idle_check(options.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Self::Postgres(pool))
    }

    /// Connections open and connections in use, over every pool of the backend.
    pub(crate) fn usage(&self) -> crate::PoolUsage {
        let add = |usage: crate::PoolUsage, status: deadpool::Status| crate::PoolUsage {
            open: usage.open + status.size,
            in_use: usage.in_use + status.size.saturating_sub(status.available),
            max: usage.max + status.max_size,
            waiting: usage.waiting + status.waiting,
        };
        let none = crate::PoolUsage::default();
        match self {
            Pool::Sqlite { pool, readers, .. } => add(add(none, pool.status()), readers.status()),
            Pool::Postgres(p) => add(none, p.status()),
        }
    }

    pub(crate) fn close(&self) {
        match self {
            Pool::Sqlite {
                pool,
                readers,
                writers,
            } => {
                writers.close();
                pool.close();
                readers.close();
            }
            Pool::Postgres(p) => p.close(),
        }
    }
}

/// After personal data was deleted on SQLite: copies the WAL into the database file and
/// truncates it, so that the deleted rows' old page images do not stay in the WAL file
/// (`secure_delete`, in [`SQLITE_PRAGMAS`], zeroes the freed pages of the file itself). Best
/// effort: while a reader still holds an older snapshot the WAL is kept, and a later
/// checkpoint completes the work. Nothing to do on Postgres, whose storage is the server's.
pub(crate) async fn truncate_wal(db: &crate::Database) {
    use diesel_async::SimpleAsyncConnection as _;
    let Pool::Sqlite { pool, writers, .. } = &db.pool else {
        return;
    };
    let Ok(_turn) = writers.enter().await else {
        return;
    };
    let outcome = match pool.get().await {
        Ok(mut conn) => conn
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = outcome {
        tracing::warn!(%error, "the WAL could not be truncated after a deletion");
    }
}

/// Runs `round` (given the batch size as a SQL limit) until it deletes fewer than `batch`
/// rows, so that a large purge is many short statements rather than one long lock; returns how
/// many rows it deleted in all. What was deleted before a failure stays deleted.
pub(crate) async fn in_batches<F, Fut>(batch: u32, mut round: F) -> Result<u64, RepoError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<usize, RepoError>>,
{
    let batch = batch.max(1);
    let mut total = 0u64;
    loop {
        let deleted = u64::try_from(round(i64::from(batch)).await?).unwrap_or(u64::MAX);
        total = total.saturating_add(deleted);
        if deleted < u64::from(batch) {
            return Ok(total);
        }
    }
}

/// A migrated SQLite database at `path` whose connections have no busy timeout (a statement
/// that meets a lock fails at once), for tests of who takes which lock.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn sqlite_without_busy_timeout(path: &Path) -> std::sync::Arc<crate::Database> {
    crate::run_migrations(&crate::DatabaseUrl::sqlite_file(path.to_owned()))
        .await
        .unwrap();
    let pool = Pool::sqlite_with(
        path,
        PoolOptions::default(),
        "PRAGMA busy_timeout = 0; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
    )
    .unwrap();
    let db = crate::Database {
        pool,
        backend: crate::Backend::Sqlite,
    };
    std::sync::Arc::new(db)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use wildid_domain::rate_limit::RateLimit;
    use wildid_ports::clock::Clock;

    use super::*;
    use crate::{Database, DatabaseUrl, run_migrations};

    /// With no busy timeout at all, a writer that meets SQLite's lock fails at once. Many
    /// concurrent writes of one process all succeed anyway, because they queue at the gate
    /// and never meet each other at the lock (without the gate, most of them fail with
    /// "database is locked").
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writers_of_one_process_take_turns_instead_of_meeting_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_without_busy_timeout(&dir.path().join("gate.db")).await;
        let limits = db.rate_limits();
        let limit = RateLimit::new(1000, chrono::Duration::hours(1)).unwrap();
        let now = wildid_ports::builtin::SystemClock.now();
        let writes: Vec<_> = (0..64u8)
            .map(|i| {
                let limits = Arc::clone(&limits);
                tokio::spawn(async move { limits.hit(&[i; 32], &limit, now).await })
            })
            .collect();
        for write in writes {
            write.await.unwrap().expect("no writer met the lock");
        }
    }

    /// Reads run on the calling worker, writes on the blocking pool: with the runtime's only
    /// blocking thread held by a long task, a read still answers at once, and a write waits
    /// for the thread.
    #[test]
    fn reads_run_on_the_worker_and_writes_on_the_blocking_pool() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let url = DatabaseUrl::sqlite_file(dir.path().join("inline.db"));
            run_migrations(&url).await.unwrap();
            let db = Database::open(&url, PoolOptions::default()).unwrap();
            let sessions = db.sessions();
            let key = wildid_domain::session::SessionToken::from_random([5; 32]).key();
            // Open one connection of each pool while the blocking thread is free.
            assert!(sessions.get(&key).await.unwrap().is_none());
            db.rate_limits()
                .hit(
                    &[1; 32],
                    &RateLimit::new(10, chrono::Duration::hours(1)).unwrap(),
                    wildid_ports::builtin::SystemClock.now(),
                )
                .await
                .unwrap();

            let (release, held) = std::sync::mpsc::channel::<()>();
            let blocker = tokio::task::spawn_blocking(move || held.recv());
            let read = tokio::spawn(async move { sessions.get(&key).await });
            let limits = db.rate_limits();
            let write = tokio::spawn(async move {
                limits
                    .hit(
                        &[2; 32],
                        &RateLimit::new(10, chrono::Duration::hours(1)).unwrap(),
                        wildid_ports::builtin::SystemClock.now(),
                    )
                    .await
            });
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (read_done, write_waited) = (read.is_finished(), !write.is_finished());
            // Free the thread before asserting, so a failure fails instead of hanging.
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            assert!(read_done, "a read needs no blocking thread");
            assert!(write_waited, "a write waits for the blocking thread");
            assert!(read.await.unwrap().unwrap().is_none());
            write.await.unwrap().unwrap();
        });
    }

    /// An inline read that meets a lock neither fails nor sleeps on the async worker: it runs
    /// again on the blocking pool, which waits for the lock. Another connection holds the file
    /// in exclusive mode (which even WAL readers must wait for) while the runtime's only worker
    /// must stay free to run other tasks.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn an_inline_read_that_meets_a_lock_waits_on_the_blocking_pool() {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;

        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_file(dir.path().join("locked.db"));
        run_migrations(&url).await.unwrap();
        let DatabaseUrl::Sqlite { path, .. } = &url else {
            unreachable!("a SQLite URL")
        };
        let mut holder = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        holder
            .batch_execute(
                "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; \
                 CREATE TABLE held (x); DROP TABLE held; COMMIT;",
            )
            .unwrap();
        let db = Database::open(&url, PoolOptions::default()).unwrap();
        let sessions = db.sessions();
        let key = wildid_domain::session::SessionToken::from_random([6; 32]).key();
        let read = tokio::spawn(async move { sessions.get(&key).await });

        tokio::time::sleep(Duration::from_millis(300)).await;
        let other = tokio::time::timeout(Duration::from_secs(2), tokio::spawn(async {})).await;
        let waiting = !read.is_finished();
        drop(holder);
        assert!(other.is_ok(), "the worker stays free while the read waits");
        assert!(waiting, "the read waits for the lock instead of failing");
        assert!(read.await.unwrap().unwrap().is_none());
    }
}

//! The connection pool: one enum over both backends, and the `with_conn!` macro that runs the
//! same diesel code on whichever backend is open.
//!
//! Both pools are diesel-async pools managed by deadpool. Postgres connections are natively
//! asynchronous (tokio-postgres, no libpq); SQLite connections are wrapped in
//! `SyncConnectionWrapper`, which runs every statement on tokio's blocking thread pool, so
//! no diesel call ever blocks an async worker thread.

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

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;
type SqlitePool = diesel_async::pooled_connection::deadpool::Pool<SqliteConn>;
type PgPool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;

/// Statements run on every new SQLite connection. The busy timeout comes first: the others may
/// need a lock, and without it a connection opened during a write would fail at once.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

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

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    pub(crate) fn sqlite(path: &Path, options: PoolOptions) -> Result<Self, DbError> {
        let mut config = ManagerConfig::<SqliteConn>::default();
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(|path: &str| {
            let path = path.to_owned();
            async move {
                let mut conn = SqliteConn::establish(&path).await?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
            .boxed()
        });
        let url = path
            .to_str()
            .ok_or_else(|| DbError::Connect("the SQLite path is not valid UTF-8".into()))?;
        let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(url, config);
        let pool = SqlitePool::builder(manager)
            .max_size(options.max_connections)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Self::Sqlite(pool))
    }

    pub(crate) fn postgres(url: &str, options: PoolOptions) -> Result<Self, DbError> {
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.recycling_method = RecyclingMethod::Verified;
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = PgPool::builder(manager)
            .max_size(options.max_connections)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .recycle_timeout(Some(options.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Self::Postgres(pool))
    }

    pub(crate) fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close(),
            Pool::Postgres(p) => p.close(),
        }
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend is open. The
/// body is compiled once per backend, so it may use any diesel query both support.
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {{
        match &$db.pool {
            $crate::pool::Pool::Sqlite(pool) => {
                let mut guard = pool.get().await.map_err($crate::error::pool_error)?;
                let $conn = &mut *guard;
                $body
            }
            $crate::pool::Pool::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::error::pool_error)?;
                let $conn = &mut *guard;
                $body
            }
        }
    }};
}
pub(crate) use with_conn;

/// Runs `$body` in a write transaction on a pooled connection: `BEGIN IMMEDIATE` on SQLite
/// (the write lock is taken up front, so a read-then-write cannot fail on a stale snapshot),
/// a plain transaction on Postgres. Evaluates to `Result<T, RepoError>`.
macro_rules! write_transaction {
    ($db:expr, |$conn:ident| -> $ret:ty { $($body:tt)* }) => {{
        match &$db.pool {
            $crate::pool::Pool::Sqlite(pool) => {
                let mut guard = pool.get().await.map_err($crate::error::pool_error)?;
                guard.immediate_transaction(async |$conn| -> $ret { $($body)* }).await.map_err(wildid_ports::RepoError::from)
            }
            $crate::pool::Pool::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::error::pool_error)?;
                diesel_async::AsyncConnection::transaction(&mut *guard, async |$conn| -> $ret { $($body)* })
                    .await
                    .map_err(wildid_ports::RepoError::from)
            }
        }
    }};
}
pub(crate) use write_transaction;

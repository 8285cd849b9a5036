//! The macros that run diesel code on a pooled connection of whichever backend is open:
//! `with_conn!` (reads), `with_write_conn!` (writes, through the
//! [`WriteGate`](super::WriteGate) on SQLite),
//! `write_transaction!` (a write transaction, `BEGIN IMMEDIATE` on SQLite) and `read_query!`
//! (the reads every request makes, inline on SQLite). The body is compiled once per backend.
//! They are re-exported by `pool`, and used as `crate::pool::with_conn` and so on.

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend is open. The
/// body is compiled once per backend, so it may use any diesel query both support. On SQLite,
/// `read` takes a connection of the blocking pool; `write` first waits for this process's
/// turn at the [`WriteGate`](super::WriteGate), then takes one of the same pool.
macro_rules! pooled {
    ($db:expr, read, |$conn:ident| $body:expr) => {{
        match &$db.pool {
            $crate::pool::Pool::Sqlite { pool, .. } => {
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
    ($db:expr, write, |$conn:ident| $body:expr) => {{
        match &$db.pool {
            $crate::pool::Pool::Sqlite { pool, writers, .. } => {
                let _turn = writers.enter().await?;
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
pub(crate) use pooled;

/// `pooled!` for code that only reads (never a write: it would pass the write gate by).
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::pool::pooled!($db, read, |$conn| $body)
    };
}
pub(crate) use with_conn;

/// Runs one read query, `$query` (which must own its binds), with the `RunQueryDsl` method
/// `$method`; evaluates to a `QueryResult`. For the reads every request makes (its session,
/// its user): on SQLite the query goes through diesel's synchronous API on the calling worker
/// (a statement cached by type, rows read in place), where `with_conn!` would first copy the
/// query and its binds into an owned form and every row into owned values; on Postgres it is
/// an ordinary asynchronous query. A SQLite read that meets a lock inline (it has no busy
/// timeout) runs again on the blocking pool, which waits for the lock.
macro_rules! read_query {
    ($db:expr, $query:expr, $method:ident) => {{
        // `$query` is expanded once per backend (a selection is typed by its backend), and on
        // SQLite once per attempt (the first attempt consumes its binds).
        match &$db.pool {
            $crate::pool::Pool::Sqlite { readers, pool, .. } => {
                let mut inline = readers.get().await.map_err($crate::error::pool_error)?;
                let query = $query;
                match inline
                    .spawn_blocking(move |conn| diesel::RunQueryDsl::$method(query, conn))
                    .await
                {
                    Err(error) if $crate::error::is_busy(&error) => {
                        drop(inline);
                        let mut blocking = pool.get().await.map_err($crate::error::pool_error)?;
                        let query = $query;
                        blocking
                            .spawn_blocking(move |conn| diesel::RunQueryDsl::$method(query, conn))
                            .await
                    }
                    done => done,
                }
            }
            $crate::pool::Pool::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::error::pool_error)?;
                diesel_async::RunQueryDsl::$method($query, &mut *guard).await
            }
        }
    }};
}
pub(crate) use read_query;

/// The number of rows `$query` (a filtered table) matches, as `Result<u64, RepoError>`; a
/// read, like `with_conn!`.
macro_rules! count_rows {
    ($db:expr, $query:expr) => {{
        let n: i64 = $crate::pool::with_conn!($db, |conn| {
            diesel_async::RunQueryDsl::get_result(diesel::QueryDsl::count($query), conn)
                .await
                .map_err($crate::error::repo_error)?
        });
        Ok::<u64, wildid_ports::RepoError>(u64::try_from(n).unwrap_or(0))
    }};
}
pub(crate) use count_rows;

/// `pooled!` for code that writes (single statements, or its own transaction).
macro_rules! with_write_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::pool::pooled!($db, write, |$conn| $body)
    };
}
pub(crate) use with_write_conn;

/// Runs `$body` in a write transaction on a pooled connection: `BEGIN IMMEDIATE` on SQLite
/// (the write lock is taken up front, so a read-then-write cannot fail on a stale snapshot),
/// a plain transaction on Postgres. Evaluates to `Result<T, RepoError>`.
macro_rules! write_transaction {
    ($db:expr, |$conn:ident| -> $ret:ty { $($body:tt)* }) => {{
        match &$db.pool {
            $crate::pool::Pool::Sqlite { pool, writers, .. } => {
                let _turn = writers.enter().await?;
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

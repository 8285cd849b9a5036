//! Translation of diesel and pool errors into the port's `RepoError`. No diesel type escapes
//! this crate.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use wildid_ports::RepoError;

/// Maps a query error.
pub(crate) fn repo_error(error: DieselError) -> RepoError {
    match error {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::UniqueViolation => RepoError::Duplicate,
            DatabaseErrorKind::ForeignKeyViolation => RepoError::NotFound,
            DatabaseErrorKind::SerializationFailure => RepoError::Conflict,
            DatabaseErrorKind::ClosedConnection => {
                RepoError::Unavailable(info.message().to_owned())
            }
            // diesel-async reports every tokio-postgres error without a SQLSTATE under this
            // kind: a lost connection, but also a bug (a wrong parameter count, a value that
            // cannot be encoded), which must stay a fault. Only the connection's are 503s.
            DatabaseErrorKind::UnableToSendCommand if is_connection_message(info.message()) => {
                RepoError::Unavailable(info.message().to_owned())
            }
            // The server's own farewell (stopping, starting, recovering), by its message.
            _ if is_gone_message(info.message()) || is_busy_message(info.message()) => {
                RepoError::Unavailable(info.message().to_owned())
            }
            // Nothing was written; reads go on, and writes work again once there is room, so
            // this is "not now" (503), not a fault of the request or of the code.
            _ if is_full_message(info.message()) => {
                RepoError::Unavailable(format!("the database's disk is full: {}", info.message()))
            }
            _ => RepoError::Other(info.message().to_owned()),
        },
        // A failed commit (the journal could not be written) carries the same words.
        other if is_full_message(&other.to_string()) => {
            RepoError::Unavailable(format!("the database's disk is full: {other}"))
        }
        other => RepoError::Other(other.to_string()),
    }
}

/// SQLite's `SQLITE_FULL` ("database or disk is full") and Postgres's `disk_full` (53100,
/// "could not extend file ...: No space left on device"), which diesel reports by message.
fn is_full_message(message: &str) -> bool {
    message.contains("database or disk is full") || message.contains("No space left on device")
}

/// tokio-postgres's words for a connection that failed or went away (its error kinds `Closed`,
/// `Io`, `Connect`, `Tls` and `Timeout`; the cause is not part of the text).
fn is_connection_message(message: &str) -> bool {
    [
        "connection closed",
        "error communicating with the server",
        "error connecting to server",
        "error performing TLS handshake",
        "timeout waiting for server",
    ]
    .contains(&message)
}

/// Postgres ending or refusing the session because the server is stopping, restarting or
/// recovering (SQLSTATE 57P01-57P03, reported by message): the query did not run, and the
/// next connection may work.
fn is_gone_message(message: &str) -> bool {
    message.starts_with("terminating connection due to")
        || message.starts_with("the database system is")
}

fn is_busy_message(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// Whether a statement failed because another connection held a lock it needed (SQLite's
/// `SQLITE_BUSY`, which diesel reports only by its message).
pub(crate) fn is_busy(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(_, info) if is_busy_message(info.message()))
}

/// Maps a failure to obtain a pooled connection.
pub(crate) fn pool_error<E: std::fmt::Display>(
    error: deadpool::managed::PoolError<E>,
) -> RepoError {
    RepoError::Unavailable(format!("no database connection: {error}"))
}

/// `Ok` when a statement changed a row, [`RepoError::NotFound`] when it changed none (the
/// key matched nothing).
pub(crate) fn found(changed: usize) -> Result<(), RepoError> {
    if changed == 0 {
        Err(RepoError::NotFound)
    } else {
        Ok(())
    }
}

/// A row that does not form a domain value.
pub(crate) fn corrupt(what: &str) -> RepoError {
    RepoError::Corrupt(what.to_owned())
}

/// The error type of transactions: diesel's own (so `?` works on queries inside the closure,
/// and diesel can roll back) or a repository error raised by our code.
#[derive(Debug)]
pub(crate) enum TxError {
    Diesel(DieselError),
    Repo(RepoError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Diesel(e)
    }
}

impl From<RepoError> for TxError {
    fn from(e: RepoError) -> Self {
        TxError::Repo(e)
    }
}

impl From<TxError> for RepoError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Diesel(e) => repo_error(e),
            TxError::Repo(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_connection_that_is_gone_is_unavailable_not_a_fault() {
        for (kind, message) in [
            (DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            (
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
            (
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            (
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            (
                DatabaseErrorKind::Unknown,
                "the database system is starting up",
            ),
            (DatabaseErrorKind::Unknown, "database is locked"),
        ] {
            assert!(
                matches!(
                    repo_error(database_error(kind, message)),
                    RepoError::Unavailable(_)
                ),
                "{message}"
            );
        }
    }

    #[test]
    fn other_database_errors_stay_faults() {
        let error = database_error(
            DatabaseErrorKind::Unknown,
            "syntax error at or near \"SELEC\"",
        );
        assert!(matches!(repo_error(error), RepoError::Other(_)));
        // Reported under the same kind as a lost connection, but bugs in the query.
        for message in [
            "expected 3 parameters but got 2",
            "error serializing parameter 1",
            "error encoding message to server",
            "unexpected message from server",
        ] {
            let error = database_error(DatabaseErrorKind::UnableToSendCommand, message);
            assert!(
                matches!(repo_error(error), RepoError::Other(_)),
                "{message}"
            );
        }
        let error = database_error(DatabaseErrorKind::UniqueViolation, "duplicate key");
        assert!(matches!(repo_error(error), RepoError::Duplicate));
    }
}

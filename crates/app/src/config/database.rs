//! The database settings: which database (`DATABASE_URL`; a SQLite file in the data
//! directory when unset) and how many connections the pool keeps (`WILDID_DB_MAX_CONNECTIONS`).

use std::path::Path;

use wildid_adapters_db::DatabaseUrl;

use super::ConfigError;
use super::helpers::{SecretValue, invalid, section};

section! {
    /// The database's values as read.
    struct RawDatabase {
        /// The one key read from the environment without the `WILDID_` prefix.
        database_url: SecretValue,
        db_max_connections: Option<u64>,
    }
}

/// The key of [`RawDatabase`] whose environment variable has no `WILDID_` prefix
/// (`DATABASE_URL`).
pub(super) const UNPREFIXED: &str = "database_url";

/// `DATABASE_URL`, else the SQLite file `wildid.db` in `data_dir`.
pub(super) fn url(raw: &RawDatabase, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
    match &raw.database_url.0 {
        Some(url) => DatabaseUrl::parse(url.expose()).map_err(ConfigError::Database),
        None => Ok(DatabaseUrl::sqlite_file(data_dir.join("wildid.db"))),
    }
}

/// `WILDID_DB_MAX_CONNECTIONS`: 1 to 1000, default 16.
pub(super) fn max_connections(raw: &RawDatabase) -> Result<usize, ConfigError> {
    match raw.db_max_connections {
        None => Ok(16),
        Some(n @ 1..=1000) => Ok(usize::try_from(n).unwrap_or(16)),
        Some(_) => invalid("WILDID_DB_MAX_CONNECTIONS", "expected 1 to 1000"),
    }
}

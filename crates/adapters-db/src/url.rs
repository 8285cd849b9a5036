//! Which database to open, from `DATABASE_URL`.
//!
//! - `postgres://...` or `postgresql://...`: Postgres.
//! - `sqlite://PATH`: SQLite at `PATH`, created when missing.
//! - a plain `PATH` with no scheme: SQLite, but only if the file **exists**. A typo must not
//!   silently start an empty site.

use std::path::{Path, PathBuf};

use wildid_domain::secret::SecretString;

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// Postgres server.
    Postgres,
}

/// A parsed database location. The Postgres URL may hold a password, so it is kept secret.
#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    /// SQLite at this path.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Whether a missing file may be created.
        create: bool,
    },
    /// Postgres at this URL.
    Postgres(SecretString),
}

/// Why `DATABASE_URL` is unusable. Messages name the variable and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Empty string.
    #[error("DATABASE_URL is empty")]
    Empty,
    /// A scheme-less path that names no file.
    #[error(
        "DATABASE_URL names no existing file ({0}); to create a new SQLite database there, use sqlite://{0}"
    )]
    NoSuchFile(String),
    /// `sqlite://` without a path.
    #[error("DATABASE_URL sqlite:// needs a file path, as in sqlite://data/wildid.db")]
    EmptyPath,
    /// Some other scheme.
    #[error(
        "DATABASE_URL scheme {0}:// is not supported; use postgres://, postgresql:// or sqlite://"
    )]
    UnsupportedScheme(String),
}

impl DatabaseUrl {
    /// Parses a `DATABASE_URL` value.
    ///
    /// # Errors
    /// [`DatabaseUrlError`] describing what is wrong.
    pub fn parse(raw: &str) -> Result<Self, DatabaseUrlError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        match raw.split_once("://") {
            Some(("postgres" | "postgresql", _)) => {
                Ok(Self::Postgres(SecretString::new(raw.to_owned())))
            }
            Some(("sqlite", path)) => {
                if path.is_empty() {
                    return Err(DatabaseUrlError::EmptyPath);
                }
                Ok(Self::Sqlite {
                    path: PathBuf::from(path),
                    create: true,
                })
            }
            Some((scheme, _)) => Err(DatabaseUrlError::UnsupportedScheme(scheme.to_owned())),
            None => {
                let path = Path::new(raw);
                if path.is_file() {
                    Ok(Self::Sqlite {
                        path: path.to_owned(),
                        create: false,
                    })
                } else {
                    Err(DatabaseUrlError::NoSuchFile(raw.to_owned()))
                }
            }
        }
    }

    /// The SQLite file at `path`, created when missing (the embedded default).
    pub fn sqlite_file(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite {
            path: path.into(),
            create: true,
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite { .. } => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// A form safe to log: the SQLite path, or the Postgres URL without credentials.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => {
                let raw = url.expose();
                let (scheme, rest) = raw.split_once("://").unwrap_or(("postgres", raw));
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                let host = host.split('?').next().unwrap_or(host);
                format!("{scheme}://{host}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite { create: true, .. }
        ));
        assert_eq!(
            DatabaseUrl::parse("mysql://h/db").unwrap_err(),
            DatabaseUrlError::UnsupportedScheme("mysql".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://").unwrap_err(),
            DatabaseUrlError::EmptyPath
        );
        assert_eq!(
            DatabaseUrl::parse("  ").unwrap_err(),
            DatabaseUrlError::Empty
        );
    }

    #[test]
    fn a_plain_path_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("typo.db");
        let err = DatabaseUrl::parse(missing.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, DatabaseUrlError::NoSuchFile(_)));
        assert!(err.to_string().contains("sqlite://"));
        let present = dir.path().join("real.db");
        std::fs::write(&present, b"").unwrap();
        assert!(matches!(
            DatabaseUrl::parse(present.to_str().unwrap()).unwrap(),
            DatabaseUrl::Sqlite { create: false, .. }
        ));
    }

    #[test]
    fn redaction_drops_credentials() {
        let url =
            DatabaseUrl::parse("postgres://wildid:s3cret@db.internal:5432/wildid?sslmode=require")
                .unwrap();
        assert_eq!(url.redacted(), "postgres://db.internal:5432/wildid");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}

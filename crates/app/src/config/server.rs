//! The server's own settings: development or production (`WILDID_ENV`), where it listens
//! (`WILDID_BIND`, `--bind`) and keeps its files (`WILDID_DATA_DIR`, `--data-dir`), how long
//! requests may take to finish at shutdown, and the address links in mail point to
//! (`WILDID_PUBLIC_URL`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::helpers::{invalid, section};
use super::{ConfigError, Overrides};

section! {
    /// The server's values as read.
    struct RawServer {
        env: Option<String>,
        bind: Option<String>,
        data_dir: Option<PathBuf>,
        shutdown_grace_seconds: Option<u64>,
        public_url: Option<String>,
    }
}

/// Development (generated secrets allowed) or production (everything must be given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// The default.
    Development,
    /// `WILDID_ENV=production`.
    Production,
}

/// `WILDID_ENV`: development (the default) or production.
pub(super) fn environment(raw: &RawServer) -> Result<Environment, ConfigError> {
    match raw.env.as_deref().map(str::trim) {
        None | Some("" | "development") => Ok(Environment::Development),
        Some("production") => Ok(Environment::Production),
        Some(_) => invalid("WILDID_ENV", "expected development or production"),
    }
}

/// The listening address: `--bind`, else `WILDID_BIND`, else 127.0.0.1:8080.
pub(super) fn bind(raw: &RawServer, overrides: &Overrides) -> Result<SocketAddr, ConfigError> {
    let given = overrides
        .bind
        .as_deref()
        .or(raw.bind.as_deref())
        .unwrap_or("127.0.0.1:8080");
    given.trim().parse().map_err(|_| ConfigError::Invalid {
        var: "WILDID_BIND",
        why: "expected IP:PORT, as in 127.0.0.1:8080".into(),
    })
}

/// Where the server keeps its files: `--data-dir`, else `WILDID_DATA_DIR`, else `./data`.
pub(super) fn data_dir(raw: &RawServer, overrides: &Overrides) -> PathBuf {
    overrides
        .data_dir
        .clone()
        .or_else(|| raw.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("./data"))
}

/// `WILDID_SHUTDOWN_GRACE_SECONDS`: 1 to 3600, default 30.
pub(super) fn shutdown_grace(raw: &RawServer) -> Result<Duration, ConfigError> {
    match raw.shutdown_grace_seconds {
        None => Ok(Duration::from_secs(30)),
        Some(s @ 1..=3600) => Ok(Duration::from_secs(s)),
        Some(_) => invalid("WILDID_SHUTDOWN_GRACE_SECONDS", "expected 1 to 3600"),
    }
}

/// `WILDID_PUBLIC_URL`, required in production; `None`: the listening address (development).
pub(super) fn public_url(
    raw: &RawServer,
    environment: Environment,
) -> Result<Option<String>, ConfigError> {
    match raw
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(url) => Ok(Some(parse_public_url(url, environment)?)),
        None if environment == Environment::Production => invalid(
            "WILDID_PUBLIC_URL",
            "must be set in production (the https:// address users reach), as in https://wildid.example.org",
        ),
        None => Ok(None),
    }
}

/// `http(s)://host[:port]`, nothing else: links must not be steerable by request headers, so
/// this is their only source.
fn parse_public_url(raw: &str, environment: Environment) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        var: "WILDID_PUBLIC_URL",
        why: why.to_owned(),
    };
    let trimmed = raw.trim_end_matches('/');
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| bad("expected http:// or https:// followed by a host"))?;
    match scheme {
        "https" => {}
        "http" if environment == Environment::Development => {}
        "http" => return Err(bad("production links must use https://")),
        _ => return Err(bad("expected http:// or https://")),
    }
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(bad(
            "expected only a host and an optional port, with no path, query or credentials",
        ));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

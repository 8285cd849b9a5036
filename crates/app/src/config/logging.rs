//! The log settings: which lines are written (`WILDID_LOG`, a `tracing` filter) and in which
//! format (`WILDID_LOG_FORMAT`).

use super::ConfigError;
use super::helpers::{invalid, section};

section! {
    /// The log's values as read.
    struct RawLogging {
        log: Option<String>,
        log_format: Option<String>,
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people (the default).
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `WILDID_LOG_FORMAT`: human (the default) or json.
pub(super) fn format(raw: &RawLogging) -> Result<LogFormat, ConfigError> {
    match raw.log_format.as_deref().map(str::trim) {
        None | Some("" | "human") => Ok(LogFormat::Human),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => invalid("WILDID_LOG_FORMAT", "expected human or json"),
    }
}

/// `WILDID_LOG` (default `info`), checked as an `EnvFilter`.
pub(super) fn filter(raw: &RawLogging) -> Result<String, ConfigError> {
    let filter = raw.log.clone().unwrap_or_else(|| "info".into());
    tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| ConfigError::Invalid {
        var: "WILDID_LOG",
        why: e.to_string(),
    })?;
    Ok(filter)
}

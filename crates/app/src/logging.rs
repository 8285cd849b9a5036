//! Structured logs on standard output: human-readable by default, one JSON object per line with
//! `WILDID_LOG_FORMAT=json`. Request log lines carry the request id through the request span.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Target of the start and stop announcements. It is always enabled, whatever the filter, so the
/// first log line always gives the listening address.
pub const LIFECYCLE: &str = "wildid::lifecycle";

/// Installs the global subscriber. The filter was validated with the configuration.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = match format!("{LIFECYCLE}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_target(false);
    let result = match format {
        LogFormat::Human => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // Only fails when a subscriber is already installed (tests); that one keeps working.
    drop(result);
}

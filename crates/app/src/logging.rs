//! Structured logs on standard output: human-readable by default, one JSON object per line with
//! `WILDID_LOG_FORMAT=json`. Request log lines carry the request id through the request span.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Target of the start and stop announcements. It is always enabled, whatever the filter, so the
/// first log line always gives the listening address.
pub const LIFECYCLE: &str = "wildid::lifecycle";

/// Installs the global subscriber: the log lines, filtered, and the metrics' event counter
/// ([`crate::metrics::EventCounter`]), which sees every security and audit event whatever the
/// filter. The filter was validated with the configuration.
pub fn init(format: LogFormat, filter: &str) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = match format!("{LIFECYCLE}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_span_events(FmtSpan::NONE)
        .with_target(false);
    let lines = match format {
        LogFormat::Human => lines.with_ansi(false).with_filter(filter).boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    };
    // The counter looks only at info and above (security events are warnings, audit lines
    // info): unfiltered, it would switch on every debug and trace call site of every crate.
    let result = tracing_subscriber::registry()
        .with(lines)
        .with(crate::metrics::EventCounter.with_filter(LevelFilter::INFO))
        .try_init();
    // Only fails when a subscriber is already installed (tests); that one keeps working.
    drop(result);
}

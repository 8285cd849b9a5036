//! Operational metrics in the Prometheus text format, on their own address
//! (`WILDID_METRICS_BIND`, off by default), never on the public listener.
//!
//! What is measured, and where:
//!
//! - requests by method, route template and status, and their latency
//!   (`adapters-http`, the outermost middleware);
//! - identification latency and errors by provider (`adapters-ai::Measured`);
//! - security events and audit events, counted from the log stream by [`EventCounter`]: every
//!   `security_event` (rate limits, CSRF and host refusals, access denials, the session cap, CSP
//!   reports...) and every audit action (sign-in outcomes, CAPTCHAs issued, passed and failed,
//!   lockouts...), so a new event is counted without new code;
//! - background job runs by job and outcome (`jobs.rs`);
//! - at each scrape: database pool use, the mail queue's depth and how long its oldest message
//!   has waited.
//!
//! Labels are fixed, short names (route templates, provider names, event and action names),
//! never ids, addresses or anything a user typed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;
use wildid_adapters_db::Database;
use wildid_ports::repo::MailOutbox;

/// Latency buckets, in seconds: from a cached page to a slow provider.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process-wide recorder; from then on every `metrics::` call is kept.
///
/// # Errors
/// A message when a recorder is already installed.
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

/// What a scrape reads besides the recorded metrics.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    db: Arc<Database>,
    outbox: Arc<dyn MailOutbox>,
}

/// Serves `GET /metrics` on `listener` until `stop`.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    db: Arc<Database>,
    outbox: Arc<dyn MailOutbox>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, db, outbox });
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    let pool = scrape.db.pool_usage();
    for (state, value) in [
        ("open", pool.open),
        ("in_use", pool.in_use),
        ("max", pool.max),
        ("waiting", pool.waiting),
    ] {
        metrics::gauge!("wildid_db_connections", "state" => state).set(value as f64);
    }
    match scrape.outbox.pending().await {
        Ok(n) => metrics::gauge!("wildid_mail_queue_depth").set(n as f64),
        Err(error) => tracing::warn!(%error, "metrics: the mail queue could not be counted"),
    }
    match scrape.outbox.oldest_pending().await {
        Ok(oldest) => {
            let waited = oldest.map_or(0.0, |queued| {
                (chrono::Utc::now() - queued).as_seconds_f64().max(0.0)
            });
            metrics::gauge!("wildid_mail_queue_oldest_age_seconds").set(waited);
        }
        Err(error) => tracing::warn!(%error, "metrics: the mail queue's age could not be read"),
    }
    scrape.handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.handle.render(),
    )
}

/// Binds the metrics address (before the server announces itself, so a taken port stops the
/// start with one clear error).
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}

/// Counts security and audit events as they are logged (see the module doc). A layer of the
/// log subscriber that writes nothing; without an installed recorder its counts go nowhere.
pub struct EventCounter;

/// Reads the one field the counter wants from an event.
struct FieldOf {
    name: &'static str,
    value: Option<String>,
}

impl Visit for FieldOf {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.name && self.value.is_none() {
            self.value = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

fn field(event: &tracing::Event<'_>, name: &'static str) -> Option<String> {
    let mut visitor = FieldOf { name, value: None };
    event.record(&mut visitor);
    visitor.value
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == wildid_ports::services::audit::LOG_TARGET {
            if let Some(action) = field(event, "action") {
                metrics::counter!("wildid_audit_events_total", "action" => action).increment(1);
            }
        } else if let Some(kind) = field(event, "security_event") {
            metrics::counter!("wildid_security_events_total", "event" => kind).increment(1);
        }
    }
}

//! [`Measured`]: any identification provider, timed and counted in the metrics
//! (`wildid_identification_duration_seconds` and `wildid_identification_errors_total`, by
//! provider; errors also by kind), and in a small in-process record the admin console reads
//! ([`Measured::status`], [`ProviderBoard`]). The metrics are only kept when the server
//! exports them (`WILDID_METRICS_BIND`); otherwise recording them costs nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use async_trait::async_trait;
use wildid_domain::identification::SpeciesResult;
use wildid_ports::identify::{
    CheckedImage, Circuit, IdentifyError, ProviderMonitor, ProviderStatus, SpeciesIdentifier,
};

use crate::resilience::{CircuitState, Resilient};

/// How many of the latest call times the median is taken over.
const RECENT_CALLS: usize = 100;

/// What one provider did since the process started.
#[derive(Debug, Default)]
struct Record {
    calls: u64,
    failures: u64,
    last_failure: Option<(wildid_domain::Timestamp, &'static str)>,
    /// Milliseconds of the latest calls, oldest first.
    recent_ms: VecDeque<u64>,
}

/// A provider whose every call is timed, and whose failures are counted by kind.
pub struct Measured {
    inner: Arc<dyn SpeciesIdentifier>,
    /// The breaker to report, when the provider has one.
    breaker: Option<Arc<Resilient>>,
    record: Mutex<Record>,
}

impl Measured {
    /// Measures `inner` (a provider without a circuit breaker).
    pub fn new(inner: Arc<dyn SpeciesIdentifier>) -> Self {
        Self {
            inner,
            breaker: None,
            record: Mutex::new(Record::default()),
        }
    }

    /// Measures a provider behind retries and a circuit breaker, whose state it reports.
    pub fn with_breaker(inner: Arc<Resilient>) -> Self {
        Self {
            inner: Arc::clone(&inner) as Arc<dyn SpeciesIdentifier>,
            breaker: Some(inner),
            record: Mutex::new(Record::default()),
        }
    }

    fn record(&self) -> MutexGuard<'_, Record> {
        // A poisoned lock only means another request panicked mid-update of plain numbers.
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What this provider did since the process started, and its circuit now.
    pub fn status(&self) -> ProviderStatus {
        let record = self.record();
        let mut times: Vec<u64> = record.recent_ms.iter().copied().collect();
        times.sort_unstable();
        ProviderStatus {
            name: self.inner.name().to_owned(),
            calls: record.calls,
            failures: record.failures,
            last_failure: record.last_failure,
            median_ms: times.get(times.len() / 2).copied(),
            circuit: match self.breaker.as_ref().map(|b| b.circuit()) {
                None => Circuit::NoBreaker,
                Some(CircuitState::Closed) => Circuit::Closed,
                Some(CircuitState::Open) => Circuit::Open,
                Some(CircuitState::HalfOpen) => Circuit::HalfOpen,
            },
        }
    }
}

/// The providers of a chain, as the admin console sees them.
pub struct ProviderBoard(Vec<Arc<Measured>>);

impl ProviderBoard {
    /// Over `providers`, in the order they are tried.
    pub fn new(providers: Vec<Arc<Measured>>) -> Self {
        Self(providers)
    }
}

impl ProviderMonitor for ProviderBoard {
    fn statuses(&self) -> Vec<ProviderStatus> {
        self.0.iter().map(|p| p.status()).collect()
    }
}

/// A short, fixed name for each kind of failure (a metric label: never the message).
fn kind(error: &IdentifyError) -> &'static str {
    match error {
        IdentifyError::NotConfigured => "not_configured",
        IdentifyError::Unavailable(_) => "unavailable",
        IdentifyError::Transient { .. } => "transient",
        IdentifyError::BadResponse(_) => "bad_response",
    }
}

#[async_trait]
impl SpeciesIdentifier for Measured {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn reads_thumbnail(&self) -> bool {
        self.inner.reads_thumbnail()
    }

    async fn identify(&self, image: &CheckedImage) -> Result<SpeciesResult, IdentifyError> {
        let started = Instant::now();
        let result = self.inner.identify(image).await;
        let provider = self.inner.name().to_owned();
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::histogram!(
            "wildid_identification_duration_seconds",
            "provider" => provider.clone(),
            "outcome" => outcome
        )
        .record(started.elapsed().as_secs_f64());
        {
            let mut record = self.record();
            record.calls += 1;
            if record.recent_ms.len() == RECENT_CALLS {
                record.recent_ms.pop_front();
            }
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            record.recent_ms.push_back(ms);
            if let Err(error) = &result {
                record.failures += 1;
                record.last_failure = Some((chrono::Utc::now(), kind(error)));
            }
        }
        if let Err(error) = &result {
            metrics::counter!(
                "wildid_identification_errors_total",
                "provider" => provider,
                "kind" => kind(error)
            )
            .increment(1);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use wildid_ports::identify::ImageFormat;

    use super::*;
    use crate::resilience::{BreakerPolicy, RetryPolicy};

    /// A provider that is down.
    struct Down;

    #[async_trait]
    impl SpeciesIdentifier for Down {
        fn name(&self) -> &str {
            "down"
        }

        async fn identify(&self, _: &CheckedImage) -> Result<SpeciesResult, IdentifyError> {
            Err(IdentifyError::Unavailable(
                "connection refused by 10.0.0.9".into(),
            ))
        }
    }

    fn image() -> CheckedImage {
        CheckedImage {
            source_format: ImageFormat::Png,
            format: ImageFormat::Jpeg,
            bytes: vec![1, 2, 3],
            width: 1,
            height: 1,
            thumbnail: None,
            upload_sha256: [0; 32],
        }
    }

    #[tokio::test]
    async fn calls_failures_and_the_circuit_are_reported_without_the_providers_words() {
        let resilient = Arc::new(Resilient::new(
            Arc::new(Down),
            RetryPolicy {
                retries: 0,
                ..RetryPolicy::default()
            },
            BreakerPolicy {
                failures: 2,
                cool_down: Duration::from_secs(600),
            },
        ));
        let measured = Arc::new(Measured::with_breaker(resilient));
        let board = ProviderBoard::new(vec![Arc::clone(&measured)]);
        let fresh = board.statuses();
        assert_eq!(fresh.len(), 1);
        assert_eq!(
            (fresh[0].calls, fresh[0].failures, fresh[0].median_ms),
            (0, 0, None)
        );
        assert_eq!(fresh[0].circuit, Circuit::Closed);

        for _ in 0..3 {
            assert!(measured.identify(&image()).await.is_err());
        }
        let status = &board.statuses()[0];
        assert_eq!(
            (status.name.as_str(), status.calls, status.failures),
            ("down", 3, 3)
        );
        assert!(status.median_ms.is_some());
        // The kind of failure, never what the provider said.
        assert_eq!(
            status.last_failure.map(|(_, kind)| kind),
            Some("unavailable")
        );
        assert_eq!(
            status.circuit,
            Circuit::Open,
            "two failures in a row open it"
        );
    }

    #[tokio::test]
    async fn a_provider_without_a_breaker_says_so_and_the_median_covers_the_latest_calls() {
        let measured = Measured::new(Arc::new(Down));
        for _ in 0..(RECENT_CALLS + 20) {
            let _ = measured.identify(&image()).await;
        }
        let status = measured.status();
        assert_eq!(status.circuit, Circuit::NoBreaker);
        assert_eq!(status.calls, (RECENT_CALLS + 20) as u64);
        assert_eq!(measured.record().recent_ms.len(), RECENT_CALLS);
    }
}

//! [`Measured`]: any identification provider, timed and counted in the metrics
//! (`wildid_identification_duration_seconds` and `wildid_identification_errors_total`, by
//! provider; errors also by kind). The metrics are only kept when the server exports them
//! (`WILDID_METRICS_BIND`); otherwise recording costs nothing.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use wildid_domain::identification::SpeciesResult;
use wildid_ports::identify::{CheckedImage, IdentifyError, SpeciesIdentifier};

/// A provider whose every call is timed, and whose failures are counted by kind.
pub struct Measured {
    inner: Arc<dyn SpeciesIdentifier>,
}

impl Measured {
    /// Measures `inner`.
    pub fn new(inner: Arc<dyn SpeciesIdentifier>) -> Self {
        Self { inner }
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

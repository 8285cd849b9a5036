//! Is the server able to serve? (`/readyz`)

use std::sync::Arc;

use crate::health::HealthCheck;

/// The outcome of a readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered.
    pub database: bool,
}

impl Readiness {
    /// Whether every dependency is up.
    pub fn ready(&self) -> bool {
        self.database
    }
}

/// Checks the dependencies a request needs.
#[derive(Clone)]
pub struct ReadinessCheck {
    store: Arc<dyn HealthCheck>,
}

impl ReadinessCheck {
    /// A check of `store`.
    pub fn new(store: Arc<dyn HealthCheck>) -> Self {
        Self { store }
    }

    /// Runs the check. A failing store is logged (without details a client could see).
    pub async fn check(&self) -> Readiness {
        let database = match self.store.ping().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "readiness: database unavailable");
                false
            }
        };
        Readiness { database }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RepoError;
    use crate::health::MockHealthCheck;

    #[tokio::test]
    async fn reports_a_down_database() {
        let mut store = MockHealthCheck::new();
        store
            .expect_ping()
            .returning(|| Err(RepoError::Unavailable("refused".into())));
        let report = ReadinessCheck::new(Arc::new(store)).check().await;
        assert!(!report.ready());
    }
}

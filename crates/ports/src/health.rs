//! Readiness of the backing store.

use async_trait::async_trait;

use crate::RepoError;

/// Checks that the store answers.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Runs a trivial round trip to the store.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store cannot be reached.
    async fn ping(&self) -> Result<(), RepoError>;
}

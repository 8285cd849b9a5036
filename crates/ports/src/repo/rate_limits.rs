//! The [`RateLimitStore`] port: fixed-window counters that every server process shares.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::rate_limit::{RateDecision, RateLimit, WindowCounter};

use crate::RepoError;

/// Shared fixed-window counters (every server process sees the same counts).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit of `key` at `now` under `limit` and says whether it is allowed, as
    /// [`RateLimit::hit`] would. Atomic: of concurrent hits, no more than `limit.max()` per
    /// window are allowed. Keys are opaque digests (callers never pass raw addresses).
    ///
    /// # Errors
    /// Only storage failures.
    async fn hit(
        &self,
        key: &[u8; 32],
        limit: &RateLimit,
        now: Timestamp,
    ) -> Result<RateDecision, RepoError>;

    /// The stored counter of `key` as it is, without counting anything (`None` when there is
    /// none). Callers read it with [`RateLimit::count_at`], which ignores a window that is
    /// over.
    ///
    /// # Errors
    /// Only storage failures.
    async fn peek(&self, key: &[u8; 32]) -> Result<Option<WindowCounter>, RepoError>;

    /// Deletes counters whose window started before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

//! `RateLimitStore` in process memory: for counters that need not be shared between server
//! processes (the generous default request limit), and for tests that want a real store
//! without a database.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use wildid_domain::rate_limit::{RateDecision, RateLimit, WindowCounter};
use wildid_domain::{Duration, Timestamp};

use crate::RepoError;
use crate::repo::RateLimitStore;

/// Beyond this many keys, every hit first drops the counters whose window is over, so a flood
/// from many addresses cannot grow the map without bound.
const TIDY_ABOVE: usize = 50_000;

/// Counters (with their window length) in a map behind a mutex; each hit is one short
/// critical section.
#[derive(Debug, Default)]
pub struct MemoryRateLimits {
    counters: Mutex<HashMap<[u8; 32], (WindowCounter, Duration)>>,
}

#[async_trait]
impl RateLimitStore for MemoryRateLimits {
    async fn hit(
        &self,
        key: &[u8; 32],
        limit: &RateLimit,
        now: Timestamp,
    ) -> Result<RateDecision, RepoError> {
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| RepoError::Unavailable("rate-limit counters poisoned".into()))?;
        if counters.len() > TIDY_ABOVE {
            counters.retain(|_, (c, per)| c.window_started_at + *per > now);
        }
        let (next, decision) = limit.hit(counters.get(key).map(|(c, _)| *c), now);
        counters.insert(*key, (next, limit.per()));
        Ok(decision)
    }

    async fn peek(&self, key: &[u8; 32]) -> Result<Option<WindowCounter>, RepoError> {
        let counters = self
            .counters
            .lock()
            .map_err(|_| RepoError::Unavailable("rate-limit counters poisoned".into()))?;
        Ok(counters.get(key).map(|(c, _)| *c))
    }

    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| RepoError::Unavailable("rate-limit counters poisoned".into()))?;
        let before = counters.len();
        counters.retain(|_, (c, _)| c.window_started_at >= cutoff);
        Ok((before - counters.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn counts_like_the_policy_and_purges() {
        let store = MemoryRateLimits::default();
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let limit = RateLimit::new(2, Duration::seconds(60)).unwrap();
        let key = [1; 32];
        for _ in 0..2 {
            assert!(matches!(
                store.hit(&key, &limit, t0).await.unwrap(),
                RateDecision::Allowed { .. }
            ));
        }
        assert!(matches!(
            store.hit(&key, &limit, t0).await.unwrap(),
            RateDecision::Limited { .. }
        ));
        assert!(matches!(
            store.hit(&[2; 32], &limit, t0).await.unwrap(),
            RateDecision::Allowed { .. }
        ));
        let later = t0 + Duration::seconds(60);
        assert!(matches!(
            store.hit(&key, &limit, later).await.unwrap(),
            RateDecision::Allowed { remaining: 1, .. }
        ));
        assert_eq!(
            store.purge_before(later).await.unwrap(),
            1,
            "key 2's window"
        );
    }
}

//! Remote providers made as robust as the official SDKs, or more: [`Resilient`] wraps one
//! provider with
//!
//! - **retries** of what may succeed later (429 without a spent quota, 5xx, a refused
//!   connection: [`IdentifyError::Transient`]), at most [`RetryPolicy::retries`] of them,
//!   waiting what the provider asked (`Retry-After`) or a jittered exponential backoff; never
//!   of anything else (another 4xx, `insufficient_quota`, a bad answer);
//! - **one time budget** per photo ([`RetryPolicy::budget`]): calls, waits and retries
//!   together never take longer, so a hanging provider costs the budget once, not once per
//!   retry; a wait that would not fit is not started, and the next provider of the chain
//!   answers sooner;
//! - **a circuit breaker**: after [`BreakerPolicy::failures`] photos in a row that the
//!   provider failed, it is skipped for [`BreakerPolicy::cool_down`] (answering at once, so
//!   the chain's next provider answers instead), then tried again with one photo; success
//!   closes the circuit, failure opens it for another cool-down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use wildid_domain::identification::SpeciesResult;
use wildid_ports::identify::{CheckedImage, IdentifyError, SpeciesIdentifier};

/// How a provider's failures for now are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first call (`WILDID_AI_RETRIES`, default 2).
    pub retries: u32,
    /// The first backoff; each next one doubles, up to [`RetryPolicy::max_delay`].
    pub base_delay: Duration,
    /// The longest wait; a `Retry-After` beyond it is not waited for.
    pub max_delay: Duration,
    /// Everything one photo may take with this provider (`WILDID_AI_TIMEOUT_SECONDS`).
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry `attempt` (0 for the first retry): half the exponential step
    /// plus a random part of the other half ("equal jitter"), so that clients that failed
    /// together do not come back together.
    fn backoff(&self, attempt: u32, random: u64) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let half = step / 2;
        let millis = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_millis(random % (millis + 1))
    }
}

/// When a provider is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Photos in a row the provider failed before it is skipped
    /// (`WILDID_AI_BREAKER_FAILURES`, default 5).
    pub failures: u32,
    /// How long it is skipped (`WILDID_AI_BREAKER_COOLDOWN_SECONDS`, default 30 s).
    pub cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// A circuit's state, as an operator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// The provider is skipped until the cool-down ends.
    Open,
    /// One trial photo is with the provider; others skip it until it answers.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// One trial call since `since`; a trial that never reports (its request was dropped)
    /// is given up after a cool-down.
    Trial {
        since: Instant,
    },
}

/// The breaker's bookkeeping; pure, the time passed in.
#[derive(Debug, Clone)]
struct Breaker {
    failures_in_a_row: u32,
    state: State,
}

impl Breaker {
    fn new() -> Self {
        Self {
            failures_in_a_row: 0,
            state: State::Closed,
        }
    }

    /// Whether a call may go to the provider now.
    fn admit(&mut self, now: Instant, policy: &BreakerPolicy) -> bool {
        let trial_due = match self.state {
            State::Closed => return true,
            State::Open { until } => now >= until,
            State::Trial { since } => now >= since + policy.cool_down,
        };
        if trial_due {
            self.state = State::Trial { since: now };
        }
        trial_due
    }

    fn record(&mut self, succeeded: bool, now: Instant, policy: &BreakerPolicy) {
        if succeeded {
            self.failures_in_a_row = 0;
            self.state = State::Closed;
            return;
        }
        self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
        if matches!(self.state, State::Trial { .. })
            || self.failures_in_a_row >= policy.failures.max(1)
        {
            self.state = State::Open {
                until: now + policy.cool_down,
            };
        }
    }

    fn state(&self, now: Instant) -> CircuitState {
        match self.state {
            State::Closed => CircuitState::Closed,
            State::Open { until } if now >= until => CircuitState::HalfOpen,
            State::Open { .. } => CircuitState::Open,
            State::Trial { .. } => CircuitState::HalfOpen,
        }
    }
}

/// A provider with retries, a time budget and a circuit breaker ([`SpeciesIdentifier`]).
pub struct Resilient {
    inner: Arc<dyn SpeciesIdentifier>,
    retry: RetryPolicy,
    breaker_policy: BreakerPolicy,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for Resilient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resilient")
            .field("provider", &self.inner.name())
            .field("retry", &self.retry)
            .field("breaker", &self.breaker_policy)
            .finish_non_exhaustive()
    }
}

impl Resilient {
    /// `inner` with these policies.
    pub fn new(
        inner: Arc<dyn SpeciesIdentifier>,
        retry: RetryPolicy,
        breaker: BreakerPolicy,
    ) -> Self {
        Self {
            inner,
            retry,
            breaker_policy: breaker,
            breaker: Mutex::new(Breaker::new()),
        }
    }

    /// The circuit's state now.
    pub fn circuit(&self) -> CircuitState {
        self.with_breaker(|b| b.state(Instant::now()))
    }

    fn with_breaker<T>(&self, f: impl FnOnce(&mut Breaker) -> T) -> T {
        // A poisoned lock only means another request panicked mid-update of plain numbers.
        let mut guard = self
            .breaker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    async fn call_with_retries(
        &self,
        image: &CheckedImage,
    ) -> Result<SpeciesResult, IdentifyError> {
        let deadline = Instant::now() + self.retry.budget;
        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let outcome = tokio::time::timeout(remaining, self.inner.identify(image))
                .await
                .unwrap_or_else(|_| {
                    Err(IdentifyError::Unavailable(
                        "the provider did not answer within the time budget".to_owned(),
                    ))
                });
            let (cause, asked) = match outcome {
                Err(IdentifyError::Transient { cause, retry_after })
                    if attempt < self.retry.retries =>
                {
                    (cause, retry_after)
                }
                other => return other,
            };
            let wait = asked.unwrap_or_else(|| {
                self.retry
                    .backoff(attempt, getrandom::u64().unwrap_or_default())
            });
            if wait > self.retry.max_delay || Instant::now() + wait >= deadline {
                return Err(IdentifyError::Transient {
                    cause: format!("{cause}; no retry fits the time budget"),
                    retry_after: asked,
                });
            }
            tracing::info!(
                provider = self.inner.name(),
                attempt = attempt + 1,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                cause = %cause,
                "identification provider busy; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

#[async_trait]
impl SpeciesIdentifier for Resilient {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn reads_thumbnail(&self) -> bool {
        self.inner.reads_thumbnail()
    }

    async fn identify(&self, image: &CheckedImage) -> Result<SpeciesResult, IdentifyError> {
        let policy = &self.breaker_policy;
        if !self.with_breaker(|b| b.admit(Instant::now(), policy)) {
            return Err(IdentifyError::Unavailable(
                "skipped: the provider failed repeatedly and is cooling down".to_owned(),
            ));
        }
        let result = self.call_with_retries(image).await;
        let opened = self.with_breaker(|b| {
            let before = b.state(Instant::now());
            b.record(result.is_ok(), Instant::now(), policy);
            before != CircuitState::Open && b.state(Instant::now()) == CircuitState::Open
        });
        if opened {
            tracing::warn!(
                provider = self.inner.name(),
                cool_down_s = policy.cool_down.as_secs(),
                "identification provider failed repeatedly; skipping it for a while"
            );
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            failures: 3,
            cool_down: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_closes_after_a_good_trial() {
        let p = policy();
        let mut b = Breaker::new();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert!(b.admit(t0, &p));
            b.record(false, t0, &p);
        }
        assert_eq!(b.state(t0), CircuitState::Closed);
        assert!(b.admit(t0, &p));
        b.record(false, t0, &p);
        assert_eq!(b.state(t0), CircuitState::Open);
        assert!(!b.admit(t0 + Duration::from_secs(9), &p));
        // After the cool-down, one trial; a second caller is not let through meanwhile.
        let later = t0 + Duration::from_secs(10);
        assert!(b.admit(later, &p));
        assert_eq!(b.state(later), CircuitState::HalfOpen);
        assert!(!b.admit(later, &p));
        b.record(true, later, &p);
        assert_eq!(b.state(later), CircuitState::Closed);
        assert!(b.admit(later, &p));
    }

    #[test]
    fn a_failed_trial_opens_again_and_a_lost_trial_is_given_up() {
        let p = policy();
        let mut b = Breaker::new();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(false, t0, &p);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert!(b.admit(t1, &p));
        b.record(false, t1, &p);
        assert_eq!(
            b.state(t1),
            CircuitState::Open,
            "one failed trial is enough"
        );
        let t2 = t1 + Duration::from_secs(10);
        assert!(b.admit(t2, &p));
        // The trial's request was dropped: no record. A cool-down later, another trial.
        assert!(!b.admit(t2 + Duration::from_secs(9), &p));
        assert!(b.admit(t2 + Duration::from_secs(10), &p));
    }

    #[test]
    fn a_success_resets_the_count() {
        let p = policy();
        let mut b = Breaker::new();
        let t0 = Instant::now();
        b.record(false, t0, &p);
        b.record(false, t0, &p);
        b.record(true, t0, &p);
        b.record(false, t0, &p);
        b.record(false, t0, &p);
        assert_eq!(b.state(t0), CircuitState::Closed);
    }

    proptest::proptest! {
        #[test]
        fn backoff_grows_stays_within_its_cap_and_keeps_half_of_its_step(
            attempt in 0u32..40, random in proptest::prelude::any::<u64>()
        ) {
            let policy = RetryPolicy::default();
            let wait = policy.backoff(attempt, random);
            let step = policy.base_delay.saturating_mul(1 << attempt.min(16)).min(policy.max_delay);
            proptest::prop_assert!(wait <= step);
            proptest::prop_assert!(wait >= step / 2);
        }
    }
}

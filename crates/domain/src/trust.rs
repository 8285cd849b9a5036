//! Adaptive trust (seed §6, §7): identification requests are counted per session over a window;
//! at the threshold the session must pass a CAPTCHA; passing makes it trusted.

use crate::{Duration, InvalidPolicy, Timestamp};

/// Thresholds of the adaptive limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitPolicy {
    threshold: u32,
    window: Duration,
    ip_ceiling: u32,
}

impl Default for RateLimitPolicy {
    /// Seed values: 10 identifications per 3600 s; the per-IP ceiling is 10x the threshold.
    fn default() -> Self {
        Self {
            threshold: 10,
            window: Duration::seconds(3600),
            ip_ceiling: 100,
        }
    }
}

impl RateLimitPolicy {
    /// A policy with the given threshold, window and hard per-IP ceiling.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when a value is zero or the ceiling is below the threshold.
    pub fn new(threshold: u32, window: Duration, ip_ceiling: u32) -> Result<Self, InvalidPolicy> {
        if threshold == 0 || window <= Duration::zero() {
            return Err(InvalidPolicy(
                "the rate limit threshold and window must be positive",
            ));
        }
        if ip_ceiling < threshold {
            return Err(InvalidPolicy(
                "the per-IP ceiling cannot be below the threshold",
            ));
        }
        Ok(Self {
            threshold,
            window,
            ip_ceiling,
        })
    }

    /// Requests per window before a CAPTCHA is required.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Hard per-IP ceiling that applies to trusted sessions too.
    pub fn ip_ceiling(&self) -> u32 {
        self.ip_ceiling
    }
}

/// A session's adaptive-limit state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustState {
    /// Identifications counted in the current window.
    pub request_count: u32,
    /// Start of the current window.
    pub window_started_at: Option<Timestamp>,
    /// The session reached the threshold and must pass a CAPTCHA.
    pub rate_limited: bool,
    /// The session passed a CAPTCHA; its own counter no longer limits it.
    pub is_trusted: bool,
    /// When the last CAPTCHA was passed.
    pub captcha_passed_at: Option<Timestamp>,
}

/// Why a request may not proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustDecision {
    /// Go ahead.
    Proceed,
    /// A CAPTCHA must be passed first; the window ends after `retry_after`.
    CaptchaRequired {
        /// Time until the window resets by itself.
        retry_after: Duration,
    },
}

impl TrustState {
    /// Starts a new window when the current one is over (or none started): the count and the
    /// rate-limited flag reset; trust earned by a CAPTCHA is kept.
    pub fn reset_window_if_needed(&mut self, policy: &RateLimitPolicy, now: Timestamp) {
        let over = match self.window_started_at {
            None => true,
            Some(start) => now >= start + policy.window || now < start,
        };
        if over {
            self.request_count = 0;
            self.rate_limited = false;
            self.window_started_at = Some(now);
        }
    }

    /// Whether an identification may proceed at `now` (seed `can_proceed`).
    pub fn can_proceed(&mut self, policy: &RateLimitPolicy, now: Timestamp) -> TrustDecision {
        self.reset_window_if_needed(policy, now);
        if self.is_trusted || !self.rate_limited {
            return TrustDecision::Proceed;
        }
        let end = self.window_started_at.map_or(now, |s| s + policy.window);
        TrustDecision::CaptchaRequired {
            retry_after: (end - now).max(Duration::seconds(1)),
        }
    }

    /// Counts one identification at `now` (seed `record_request`).
    pub fn record_identification(&mut self, policy: &RateLimitPolicy, now: Timestamp) {
        self.reset_window_if_needed(policy, now);
        if !self.is_trusted {
            self.request_count = self.request_count.saturating_add(1);
            if self.request_count >= policy.threshold {
                self.rate_limited = true;
            }
        }
    }

    /// The session passed a CAPTCHA at `now` (seed `verify_captcha`).
    pub fn pass_captcha(&mut self, now: Timestamp) {
        self.is_trusted = true;
        self.rate_limited = false;
        self.request_count = 0;
        self.captcha_passed_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    #[test]
    fn seed_flow_limit_captcha_trust() {
        let policy = RateLimitPolicy::default();
        let mut s = TrustState::default();
        for _ in 0..10 {
            assert_eq!(s.can_proceed(&policy, t0()), TrustDecision::Proceed);
            s.record_identification(&policy, t0());
        }
        assert!(s.rate_limited);
        assert_eq!(
            s.can_proceed(&policy, t0() + Duration::seconds(600)),
            TrustDecision::CaptchaRequired {
                retry_after: Duration::seconds(3000)
            }
        );
        s.pass_captcha(t0() + Duration::seconds(601));
        assert!(s.is_trusted && !s.rate_limited && s.request_count == 0);
        for _ in 0..50 {
            s.record_identification(&policy, t0() + Duration::seconds(602));
        }
        assert_eq!(
            s.can_proceed(&policy, t0() + Duration::seconds(603)),
            TrustDecision::Proceed
        );
    }

    #[test]
    fn window_reset_lifts_the_limit() {
        let policy = RateLimitPolicy::default();
        let mut s = TrustState::default();
        for _ in 0..10 {
            s.record_identification(&policy, t0());
        }
        assert!(matches!(
            s.can_proceed(&policy, t0()),
            TrustDecision::CaptchaRequired { .. }
        ));
        assert_eq!(
            s.can_proceed(&policy, t0() + Duration::seconds(3600)),
            TrustDecision::Proceed
        );
        assert_eq!(s.request_count, 0);
    }

    proptest! {
        /// An untrusted session never gets more than `threshold` identifications through in
        /// one window.
        #[test]
        fn untrusted_never_exceeds_threshold(threshold in 1u32..20, steps in prop::collection::vec(0i64..400, 1..100)) {
            let policy = RateLimitPolicy::new(threshold, Duration::seconds(3600), threshold * 10).unwrap();
            let mut s = TrustState::default();
            let mut now = t0();
            let mut in_window = 0u32;
            let mut window_start: Option<Timestamp> = None;
            for gap in steps {
                now += Duration::seconds(gap);
                if window_start.is_none_or(|start| now >= start + policy.window()) {
                    window_start = Some(now);
                    in_window = 0;
                }
                if s.can_proceed(&policy, now) == TrustDecision::Proceed {
                    s.record_identification(&policy, now);
                    in_window += 1;
                }
                prop_assert!(in_window <= threshold);
            }
        }
    }
}

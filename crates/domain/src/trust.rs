//! Adaptive trust: identification requests are counted per session over a window;
//! at the threshold the session must pass a CAPTCHA; passing makes it trusted.

use crate::{Duration, InvalidPolicy, Timestamp};

/// Thresholds of the adaptive limit. Always `threshold <= network_threshold <= ip_ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitPolicy {
    threshold: u32,
    window: Duration,
    network_threshold: u32,
    ip_ceiling: u32,
}

/// How many people the defaults let share one network (a field station, a school, a
/// household behind one address) before one person's uploads can send the others to the
/// check: the default network threshold is this many sessions' allowances.
pub const SHARED_NETWORK_PEOPLE: u32 = 40;

/// The default hard ceiling per network, in session allowances: room for the people of a
/// shared network to carry on after they passed the check.
pub const CEILING_ALLOWANCES: u32 = 100;

impl Default for RateLimitPolicy {
    /// Seed values: 10 identifications per 3600 s per session; untrusted sessions of one
    /// network together 400 ([`SHARED_NETWORK_PEOPLE`] allowances) before each of them must
    /// pass the check; 1,000 per network for everyone ([`CEILING_ALLOWANCES`]).
    fn default() -> Self {
        Self {
            threshold: 10,
            window: Duration::seconds(3600),
            network_threshold: 10 * SHARED_NETWORK_PEOPLE,
            ip_ceiling: 10 * CEILING_ALLOWANCES,
        }
    }
}

impl RateLimitPolicy {
    /// A policy: `threshold` identifications per `window` for one untrusted session,
    /// `network_threshold` for the untrusted sessions of one network together, and a hard
    /// `ip_ceiling` per network that holds trusted sessions too.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when a value is zero, or the values are not in the order
    /// `threshold <= network_threshold <= ip_ceiling`.
    pub fn new(
        threshold: u32,
        window: Duration,
        network_threshold: u32,
        ip_ceiling: u32,
    ) -> Result<Self, InvalidPolicy> {
        if threshold == 0 || window <= Duration::zero() {
            return Err(InvalidPolicy(
                "the rate limit threshold and window must be positive",
            ));
        }
        if network_threshold < threshold {
            return Err(InvalidPolicy(
                "the per-network threshold cannot be below the per-session threshold",
            ));
        }
        if ip_ceiling < network_threshold {
            return Err(InvalidPolicy(
                "the per-IP ceiling cannot be below the per-network threshold",
            ));
        }
        Ok(Self {
            threshold,
            window,
            network_threshold,
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

    /// Untrusted identifications per window from one network (all its sessions together)
    /// before every untrusted session of that network must pass a CAPTCHA: what stops a
    /// client that drops its cookie to start afresh.
    pub fn network_threshold(&self) -> u32 {
        self.network_threshold
    }

    /// Hard per-IP ceiling that applies to trusted sessions too.
    pub fn ip_ceiling(&self) -> u32 {
        self.ip_ceiling
    }

    /// Where a session stands at `now`: `trust` as stored, `network_untrusted` and
    /// `network_all` the counts of its network's current windows (0 when the network is not
    /// known or its window is over). Agrees with what an identification would meet: `left`
    /// more go through before the session is held or refused.
    pub fn standing(
        &self,
        trust: &TrustState,
        network_untrusted: u32,
        network_all: u32,
        now: Timestamp,
    ) -> Standing {
        let mut trust = *trust;
        trust.reset_window_if_needed(self, now);
        let ceiling_left = self.ip_ceiling.saturating_sub(network_all);
        if trust.is_trusted {
            return Standing {
                trust,
                left: ceiling_left,
                held: false,
            };
        }
        let own_left = if trust.rate_limited {
            0
        } else {
            self.threshold.saturating_sub(trust.request_count)
        };
        let network_left = self.network_threshold.saturating_sub(network_untrusted);
        Standing {
            trust,
            left: own_left.min(network_left).min(ceiling_left),
            held: trust.rate_limited || network_left == 0,
        }
    }
}

/// Where a session stands against the adaptive limit ([`RateLimitPolicy::standing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The session's state with an expired window already reset.
    pub trust: TrustState,
    /// Identifications that go through before the session is held or refused.
    pub left: u32,
    /// The next identification needs a CAPTCHA first.
    pub held: bool,
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

    /// Whether an identification may proceed at `now`.
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

    /// Counts one identification at `now`.
    pub fn record_identification(&mut self, policy: &RateLimitPolicy, now: Timestamp) {
        self.reset_window_if_needed(policy, now);
        if !self.is_trusted {
            self.request_count = self.request_count.saturating_add(1);
            if self.request_count >= policy.threshold {
                self.rate_limited = true;
            }
        }
    }

    /// Marks an untrusted session rate-limited at `now` (its own count, or its network's, is
    /// spent): it must pass a CAPTCHA before its next identification.
    /// A window that is over (or none) starts first, so the mark holds for a whole window
    /// instead of being lifted by the reset at the next identification.
    pub fn hold(&mut self, policy: &RateLimitPolicy, now: Timestamp) {
        if !self.is_trusted {
            self.reset_window_if_needed(policy, now);
            self.rate_limited = true;
        }
    }

    /// The session passed a CAPTCHA at `now`.
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
            let policy = RateLimitPolicy::new(threshold, Duration::seconds(3600), threshold * 10, threshold * 10).unwrap();
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

    #[test]
    fn a_hold_lasts_its_window_even_for_a_session_without_one() {
        let policy = RateLimitPolicy::default();
        let mut fresh = TrustState::default();
        fresh.hold(&policy, t0());
        assert!(matches!(
            fresh.can_proceed(&policy, t0() + Duration::seconds(5)),
            TrustDecision::CaptchaRequired { .. }
        ));
        assert!(
            policy
                .standing(&fresh, 0, 0, t0() + Duration::seconds(5))
                .held
        );
        assert_eq!(
            fresh.can_proceed(&policy, t0() + Duration::seconds(3600)),
            TrustDecision::Proceed
        );
        let mut trusted = TrustState::default();
        trusted.pass_captcha(t0());
        trusted.hold(&policy, t0());
        assert!(!trusted.rate_limited, "a trusted session is not held");
    }

    #[test]
    fn the_policy_keeps_its_order() {
        let hour = Duration::seconds(3600);
        assert!(RateLimitPolicy::new(10, hour, 9, 100).is_err());
        assert!(RateLimitPolicy::new(10, hour, 400, 399).is_err());
        assert!(RateLimitPolicy::new(0, hour, 400, 1000).is_err());
        assert!(RateLimitPolicy::new(10, Duration::zero(), 400, 1000).is_err());
        let p = RateLimitPolicy::default();
        assert_eq!(
            (p.threshold(), p.network_threshold(), p.ip_ceiling()),
            (10, 400, 1000)
        );
    }

    #[test]
    fn standing_counts_the_tightest_of_session_network_and_ceiling() {
        let policy = RateLimitPolicy::new(10, Duration::seconds(3600), 40, 100).unwrap();
        let mut s = TrustState::default();
        for _ in 0..3 {
            s.record_identification(&policy, t0());
        }
        let own = policy.standing(&s, 3, 3, t0());
        assert_eq!((own.left, own.held), (7, false));
        // Others on the network used most of its untrusted count.
        let shared = policy.standing(&s, 38, 50, t0());
        assert_eq!((shared.left, shared.held), (2, false));
        let spent = policy.standing(&s, 40, 50, t0());
        assert_eq!((spent.left, spent.held), (0, true));
        // Trusted: only the ceiling.
        let mut trusted = s;
        trusted.pass_captcha(t0());
        let t = policy.standing(&trusted, 40, 97, t0());
        assert_eq!((t.left, t.held), (3, false));
    }

    #[test]
    fn standing_resets_an_expired_window_before_it_answers() {
        let policy = RateLimitPolicy::default();
        let mut s = TrustState::default();
        for _ in 0..10 {
            s.record_identification(&policy, t0());
        }
        let held = policy.standing(&s, 10, 10, t0() + Duration::seconds(10));
        assert!(held.held);
        assert_eq!(held.left, 0);
        let later = policy.standing(&s, 0, 0, t0() + Duration::seconds(3600));
        assert!(!later.held);
        assert_eq!((later.left, later.trust.request_count), (10, 0));
    }
}

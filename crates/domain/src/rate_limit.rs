//! Fixed-window request limits (per client IP, per address...), used for sign-in attempts,
//! mail-sending endpoints and general API limits.

use crate::{Duration, InvalidPolicy, Timestamp};

/// At most `max` hits per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max: u32,
    per: Duration,
}

/// The stored counter of one key (an IP, an address digest...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCounter {
    /// Hits in the current window.
    pub count: u32,
    /// Start of the current window.
    pub window_started_at: Timestamp,
}

/// Whether a hit is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Allowed and counted.
    Allowed {
        /// Hits left in this window.
        remaining: u32,
        /// Time until the window resets.
        reset_after: Duration,
    },
    /// Refused (not counted); retry after the given time.
    Limited {
        /// Time until the window resets.
        retry_after: Duration,
    },
}

impl RateLimit {
    /// At most `max` per `per`.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when either is zero.
    pub fn new(max: u32, per: Duration) -> Result<Self, InvalidPolicy> {
        if max == 0 || per <= Duration::zero() {
            return Err(InvalidPolicy(
                "a rate limit needs a positive count and period",
            ));
        }
        Ok(Self { max, per })
    }

    /// At most `max` per `seconds`; cannot fail (both are non-zero by type).
    pub fn per_seconds(max: core::num::NonZeroU32, seconds: core::num::NonZeroU32) -> Self {
        Self {
            max: max.get(),
            per: Duration::seconds(i64::from(seconds.get())),
        }
    }

    /// Maximum hits per window.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Window length.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// Applies one hit at `now` to `counter` (none yet: a fresh window).
    pub fn hit(
        &self,
        counter: Option<WindowCounter>,
        now: Timestamp,
    ) -> (WindowCounter, RateDecision) {
        let current = match counter {
            Some(c) if now >= c.window_started_at && now < c.window_started_at + self.per => c,
            _ => WindowCounter {
                count: 0,
                window_started_at: now,
            },
        };
        let reset_after = (current.window_started_at + self.per - now).max(Duration::seconds(1));
        if current.count >= self.max {
            return (
                current,
                RateDecision::Limited {
                    retry_after: reset_after,
                },
            );
        }
        let next = WindowCounter {
            count: current.count + 1,
            ..current
        };
        (
            next,
            RateDecision::Allowed {
                remaining: self.max - next.count,
                reset_after,
            },
        )
    }
}

impl RateLimit {
    /// The decision for a hit that brought the counter of a window started at
    /// `window_started_at` to `count` (a store that counts atomically, then asks). Agrees with
    /// [`RateLimit::hit`]: hits beyond `max` in a window are refused.
    pub fn decide(&self, count: u32, window_started_at: Timestamp, now: Timestamp) -> RateDecision {
        let reset_after = (window_started_at + self.per - now).max(Duration::seconds(1));
        if count > self.max {
            RateDecision::Limited {
                retry_after: reset_after,
            }
        } else {
            RateDecision::Allowed {
                remaining: self.max - count,
                reset_after,
            }
        }
    }

    /// The hits `counter` holds in a window still running at `now`: 0 for none or for a window
    /// that is over, and never more than `max` (a store may count refused hits too).
    pub fn count_at(&self, counter: Option<WindowCounter>, now: Timestamp) -> u32 {
        match counter {
            Some(c) if now >= c.window_started_at && now < c.window_started_at + self.per => {
                c.count.min(self.max)
            }
            _ => 0,
        }
    }

    /// Where a window that started at or before this instant is over at `now`.
    pub fn window_cutoff(&self, now: Timestamp) -> Timestamp {
        now - self.per
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
    fn five_per_minute() {
        let limit = RateLimit::new(5, Duration::minutes(1)).unwrap();
        let mut c = None;
        for i in 0..5 {
            let (next, d) = limit.hit(c, t0() + Duration::seconds(i));
            assert!(matches!(d, RateDecision::Allowed { .. }));
            c = Some(next);
        }
        let (_, d) = limit.hit(c, t0() + Duration::seconds(10));
        assert_eq!(
            d,
            RateDecision::Limited {
                retry_after: Duration::seconds(50)
            }
        );
        let (_, d) = limit.hit(c, t0() + Duration::seconds(60));
        assert_eq!(
            d,
            RateDecision::Allowed {
                remaining: 4,
                reset_after: Duration::seconds(60)
            }
        );
    }

    #[test]
    fn count_at_reads_only_a_running_window() {
        let limit = RateLimit::new(5, Duration::minutes(1)).unwrap();
        let c = WindowCounter {
            count: 7,
            window_started_at: t0(),
        };
        assert_eq!(limit.count_at(None, t0()), 0);
        assert_eq!(limit.count_at(Some(c), t0() + Duration::seconds(59)), 5);
        assert_eq!(limit.count_at(Some(c), t0() + Duration::seconds(60)), 0);
        assert_eq!(limit.count_at(Some(c), t0() - Duration::seconds(1)), 0);
    }

    proptest! {
        /// Counting every hit and then deciding (what an atomic store does) allows exactly the
        /// hits that `hit` allows.
        #[test]
        fn decide_agrees_with_hit(max in 1u32..10, gaps in prop::collection::vec(0i64..30, 1..80)) {
            let limit = RateLimit::new(max, Duration::minutes(1)).unwrap();
            let mut c: Option<WindowCounter> = None;
            let mut raw: Option<(u32, Timestamp)> = None;
            let mut now = t0();
            for gap in gaps {
                now += Duration::seconds(gap);
                let (next, expected) = limit.hit(c, now);
                c = Some(next);
                let (count, start) = match raw {
                    Some((count, start)) if start > limit.window_cutoff(now) => (count + 1, start),
                    _ => (1, now),
                };
                raw = Some((count, start));
                let got = limit.decide(count, start, now);
                prop_assert_eq!(matches!(got, RateDecision::Allowed { .. }), matches!(expected, RateDecision::Allowed { .. }));
            }
        }

        #[test]
        fn never_more_than_max_per_window(max in 1u32..10, gaps in prop::collection::vec(0i64..30, 1..80)) {
            let limit = RateLimit::new(max, Duration::minutes(1)).unwrap();
            let mut c: Option<WindowCounter> = None;
            let mut now = t0();
            for gap in gaps {
                now += Duration::seconds(gap);
                let (next, _) = limit.hit(c, now);
                prop_assert!(next.count <= max);
                c = Some(next);
            }
        }
    }
}

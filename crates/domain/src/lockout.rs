//! Account lockout after consecutive failed sign-in attempts (password or second factor).
//!
//! A pure state machine: the caller loads a [`LockoutState`], asks the [`LockoutPolicy`] what
//! the next state is, and stores it. Only failures count; a success resets the counter.
//! A lock is not extended by attempts made while it holds, so an attacker cannot keep an
//! account locked forever by hammering it (and magic-link sign-in still works during a lock).

use crate::{Duration, InvalidPolicy, Timestamp};

/// How many failures lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    max_failures: u32,
    lock_for: Duration,
}

/// The per-account counters that the policy reads and writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockoutState {
    /// Consecutive failures since the last success or lock.
    pub failed_attempts: u32,
    /// While in the future, the account refuses password sign-in.
    pub locked_until: Option<Timestamp>,
}

/// What a failed attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; `remaining` more failures lock the account.
    Counted {
        /// Failures left before the lock.
        remaining: u32,
    },
    /// This failure locked the account until the given time.
    Locked(Timestamp),
    /// The account was already locked; nothing was counted.
    AlreadyLocked(Timestamp),
}

impl Default for LockoutPolicy {
    /// Seed values: 5 failures lock for 30 minutes.
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: Duration::minutes(30),
        }
    }
}

impl LockoutPolicy {
    /// A policy locking after `max_failures` consecutive failures for `lock_for`.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when `max_failures` is zero or `lock_for` is not positive.
    pub fn new(max_failures: u32, lock_for: Duration) -> Result<Self, InvalidPolicy> {
        if max_failures == 0 {
            return Err(InvalidPolicy("lockout needs at least one failed attempt"));
        }
        if lock_for <= Duration::zero() {
            return Err(InvalidPolicy("lockout duration must be positive"));
        }
        Ok(Self {
            max_failures,
            lock_for,
        })
    }

    /// Failures that lock the account.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// How long a lock lasts.
    pub fn lock_for(&self) -> Duration {
        self.lock_for
    }

    /// The time until which the account is locked, if it is locked at `now`.
    pub fn locked_until(&self, state: &LockoutState, now: Timestamp) -> Option<Timestamp> {
        state.locked_until.filter(|until| *until > now)
    }

    /// The state after a failed attempt at `now`, and what happened.
    pub fn after_failure(
        &self,
        state: &LockoutState,
        now: Timestamp,
    ) -> (LockoutState, FailureOutcome) {
        if let Some(until) = self.locked_until(state, now) {
            return (*state, FailureOutcome::AlreadyLocked(until));
        }
        let failed = state.failed_attempts.saturating_add(1);
        if failed >= self.max_failures {
            let until = now + self.lock_for;
            (
                LockoutState {
                    failed_attempts: 0,
                    locked_until: Some(until),
                },
                FailureOutcome::Locked(until),
            )
        } else {
            (
                LockoutState {
                    failed_attempts: failed,
                    locked_until: None,
                },
                FailureOutcome::Counted {
                    remaining: self.max_failures - failed,
                },
            )
        }
    }

    /// The state after a successful attempt: counters cleared.
    pub fn after_success(&self) -> LockoutState {
        LockoutState::default()
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
    fn five_failures_lock_for_thirty_minutes() {
        let policy = LockoutPolicy::default();
        let mut state = LockoutState::default();
        for i in 1..5 {
            let (next, outcome) = policy.after_failure(&state, t0());
            assert_eq!(outcome, FailureOutcome::Counted { remaining: 5 - i });
            state = next;
        }
        let (state, outcome) = policy.after_failure(&state, t0());
        let until = t0() + Duration::minutes(30);
        assert_eq!(outcome, FailureOutcome::Locked(until));
        assert_eq!(
            policy.locked_until(&state, t0() + Duration::minutes(29)),
            Some(until)
        );
        assert_eq!(policy.locked_until(&state, until), None);
        let (_, again) = policy.after_failure(&state, t0() + Duration::minutes(1));
        assert_eq!(
            again,
            FailureOutcome::AlreadyLocked(until),
            "a lock is not extended"
        );
    }

    #[test]
    fn rejects_nonsense() {
        assert!(LockoutPolicy::new(0, Duration::minutes(1)).is_err());
        assert!(LockoutPolicy::new(3, Duration::zero()).is_err());
    }

    #[derive(Debug, Clone)]
    enum Event {
        Fail(i64),
        Succeed(i64),
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        prop::collection::vec(
            prop_oneof![
                4 => (0i64..600).prop_map(Event::Fail),
                1 => (0i64..600).prop_map(Event::Succeed),
            ],
            0..60,
        )
    }

    proptest! {
        /// Against a simple model: the account is locked exactly when `max` failures happened
        /// with no success in between since the last lock, and for exactly `lock_for`.
        #[test]
        fn matches_the_model(max in 1u32..8, lock_minutes in 1i64..60, evs in events()) {
            let policy = LockoutPolicy::new(max, Duration::minutes(lock_minutes)).unwrap();
            let mut state = LockoutState::default();
            let mut now = t0();
            let mut streak = 0u32;
            let mut model_until: Option<Timestamp> = None;
            for ev in evs {
                match ev {
                    Event::Fail(gap) => {
                        now += Duration::seconds(gap);
                        let locked = model_until.filter(|u| *u > now);
                        let (next, outcome) = policy.after_failure(&state, now);
                        if let Some(until) = locked {
                            prop_assert_eq!(outcome, FailureOutcome::AlreadyLocked(until));
                        } else {
                            streak += 1;
                            if streak == max {
                                streak = 0;
                                model_until = Some(now + Duration::minutes(lock_minutes));
                                prop_assert_eq!(outcome, FailureOutcome::Locked(model_until.unwrap()));
                            } else {
                                prop_assert_eq!(outcome, FailureOutcome::Counted { remaining: max - streak });
                            }
                        }
                        state = next;
                    }
                    Event::Succeed(gap) => {
                        now += Duration::seconds(gap);
                        // Callers only let a success through when not locked.
                        if policy.locked_until(&state, now).is_none() {
                            state = policy.after_success();
                            streak = 0;
                            model_until = None;
                        }
                    }
                }
                prop_assert_eq!(policy.locked_until(&state, now), model_until.filter(|u| *u > now));
                prop_assert!(state.failed_attempts < max);
            }
        }
    }
}

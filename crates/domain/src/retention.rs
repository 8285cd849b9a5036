//! How long data is kept before the purge job deletes it.

use crate::{Duration, InvalidPolicy, Timestamp};

/// Retention periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    visit_mappings: Duration,
    spent_tokens: Duration,
    read_notifications: Duration,
    unverified_accounts: Duration,
}

impl Default for RetentionPolicy {
    /// Seed value: visit mappings 14 days. Spent sign-in tokens and delivered mail are kept 1
    /// day for forensics, read notifications 90 days, accounts whose address was never
    /// confirmed 7 days.
    fn default() -> Self {
        Self {
            visit_mappings: Duration::days(14),
            spent_tokens: Duration::days(1),
            read_notifications: Duration::days(90),
            unverified_accounts: Duration::days(7),
        }
    }
}

impl RetentionPolicy {
    /// A policy with the given periods.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when a period is not positive.
    pub fn new(
        visit_mappings: Duration,
        spent_tokens: Duration,
        read_notifications: Duration,
    ) -> Result<Self, InvalidPolicy> {
        if [visit_mappings, spent_tokens, read_notifications]
            .iter()
            .any(|d| *d <= Duration::zero())
        {
            return Err(InvalidPolicy("retention periods must be positive"));
        }
        Ok(Self {
            visit_mappings,
            spent_tokens,
            read_notifications,
            ..Self::default()
        })
    }

    /// The same policy, keeping accounts whose address was never confirmed for `period`.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when the period is not positive.
    pub fn with_unverified_accounts(self, period: Duration) -> Result<Self, InvalidPolicy> {
        if period <= Duration::zero() {
            return Err(InvalidPolicy("retention periods must be positive"));
        }
        Ok(Self {
            unverified_accounts: period,
            ..self
        })
    }

    /// How long visit mappings (and bookings of past visits) are kept.
    pub fn visit_mappings(&self) -> Duration {
        self.visit_mappings
    }

    /// How long spent sign-in tokens, and delivered mail, are kept.
    pub fn spent_tokens(&self) -> Duration {
        self.spent_tokens
    }

    /// How long notifications are kept once read.
    pub fn read_notifications(&self) -> Duration {
        self.read_notifications
    }

    /// How long an account registered with a password is kept while its address is not
    /// confirmed (it cannot sign in meanwhile).
    pub fn unverified_accounts(&self) -> Duration {
        self.unverified_accounts
    }

    /// Visitor accounts registered with a password before this instant whose address is still
    /// not confirmed are deleted.
    pub fn unverified_account_cutoff(&self, now: Timestamp) -> Timestamp {
        now - self.unverified_accounts
    }

    /// Visit mappings created before this instant are purged.
    pub fn visit_mapping_cutoff(&self, now: Timestamp) -> Timestamp {
        now - self.visit_mappings
    }

    /// Tokens that expired or were used before this instant are purged.
    pub fn spent_token_cutoff(&self, now: Timestamp) -> Timestamp {
        now - self.spent_tokens
    }

    /// Notifications read before this instant are purged.
    pub fn read_notification_cutoff(&self, now: Timestamp) -> Timestamp {
        now - self.read_notifications
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the periods and the instant, a record is purged exactly when it is older
        /// than its period: one written at the cut-off or later stays, one a microsecond
        /// earlier goes; and a period that is not positive is refused.
        #[test]
        fn a_record_goes_exactly_when_it_is_older_than_its_period(
            visit_days in 1i64..=365,
            read_days in 1i64..=3650,
            now_secs in 0i64..4_000_000_000,
            age_micros in 0i64..40_000_000_000_000,
            bad in -1_000i64..=0,
        ) {
            let now = chrono::Utc.timestamp_opt(now_secs, 0).unwrap();
            let policy = RetentionPolicy::new(
                Duration::days(visit_days),
                Duration::days(1),
                Duration::days(read_days),
            )
            .unwrap();
            let written = now - Duration::microseconds(age_micros);
            let purged = written < policy.visit_mapping_cutoff(now);
            prop_assert_eq!(purged, now - written > Duration::days(visit_days));
            let cutoff = policy.visit_mapping_cutoff(now);
            prop_assert_eq!(now - cutoff, Duration::days(visit_days));
            prop_assert_eq!(now - policy.read_notification_cutoff(now), Duration::days(read_days));
            prop_assert!(RetentionPolicy::new(
                Duration::days(bad),
                Duration::days(1),
                Duration::days(1)
            )
            .is_err());
            prop_assert!(RetentionPolicy::new(
                Duration::days(1),
                Duration::days(1),
                Duration::seconds(bad)
            )
            .is_err());
        }
    }

    #[test]
    fn fourteen_days_for_mappings() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 5, 15, 0, 0, 0).unwrap();
        let policy = RetentionPolicy::default();
        assert_eq!(
            policy.visit_mapping_cutoff(now),
            chrono::Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
        );
        assert!(
            RetentionPolicy::new(Duration::zero(), Duration::days(1), Duration::days(1)).is_err()
        );
    }

    #[test]
    fn unconfirmed_accounts_go_after_seven_days_or_as_configured() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 5, 15, 0, 0, 0).unwrap();
        let policy = RetentionPolicy::default();
        assert_eq!(policy.unverified_accounts(), Duration::days(7));
        assert_eq!(
            policy.unverified_account_cutoff(now),
            chrono::Utc.with_ymd_and_hms(2026, 5, 8, 0, 0, 0).unwrap()
        );
        let longer = policy.with_unverified_accounts(Duration::days(30)).unwrap();
        assert_eq!(
            now - longer.unverified_account_cutoff(now),
            Duration::days(30)
        );
        assert_eq!(
            longer.visit_mappings(),
            policy.visit_mappings(),
            "the rest kept"
        );
        assert!(policy.with_unverified_accounts(Duration::zero()).is_err());
    }
}

//! How long data is kept before the purge job deletes it.

use crate::{Duration, InvalidPolicy, Timestamp};

/// Retention periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    visit_mappings: Duration,
    spent_tokens: Duration,
    read_notifications: Duration,
}

impl Default for RetentionPolicy {
    /// Seed value: visit mappings 14 days. Spent sign-in tokens are kept 1 day for forensics,
    /// read notifications 90 days.
    fn default() -> Self {
        Self {
            visit_mappings: Duration::days(14),
            spent_tokens: Duration::days(1),
            read_notifications: Duration::days(90),
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
        })
    }

    /// How long visit mappings (and bookings of past visits) are kept.
    pub fn visit_mappings(&self) -> Duration {
        self.visit_mappings
    }

    /// How long spent sign-in tokens are kept.
    pub fn spent_tokens(&self) -> Duration {
        self.spent_tokens
    }

    /// How long notifications are kept once read.
    pub fn read_notifications(&self) -> Duration {
        self.read_notifications
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
}

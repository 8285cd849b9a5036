//! Retention of visit data (seed 004 items 6 and 17): the visit mappings and the bookings of
//! visits older than the retention period (14 days by default), and notifications read long
//! ago, are deleted in batches by the server's maintenance job. Every purge that deleted
//! something is audited with its counts, never with what was deleted.

use std::sync::Arc;

use wildid_domain::audit::{self, AuditDetails, AuditRecord};
use wildid_domain::retention::RetentionPolicy;

use crate::RepoError;
use crate::clock::Clock;
use crate::repo::{BookingRepository, NotificationRepository, VisitMappingRepository};
use crate::services::audit::AuditTrail;

/// Rows deleted per statement.
pub const PURGE_BATCH: u32 = 1_000;

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Visit mappings written before the cut-off.
    pub mappings: u64,
    /// Bookings of visits that started before the cut-off.
    pub bookings: u64,
    /// Notifications read before their cut-off.
    pub notifications: u64,
}

impl Purged {
    /// Whether anything was deleted.
    pub fn is_empty(&self) -> bool {
        self.mappings == 0 && self.bookings == 0 && self.notifications == 0
    }
}

/// The visit data retention use case.
#[derive(Clone)]
pub struct VisitRetention {
    bookings: Arc<dyn BookingRepository>,
    mappings: Arc<dyn VisitMappingRepository>,
    notifications: Arc<dyn NotificationRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    policy: RetentionPolicy,
}

impl VisitRetention {
    /// The use case over its ports, keeping data as long as `policy` says.
    pub fn new(
        bookings: Arc<dyn BookingRepository>,
        mappings: Arc<dyn VisitMappingRepository>,
        notifications: Arc<dyn NotificationRepository>,
        audit: AuditTrail,
        clock: Arc<dyn Clock>,
        policy: RetentionPolicy,
    ) -> Self {
        Self {
            bookings,
            mappings,
            notifications,
            audit,
            clock,
            policy,
        }
    }

    /// Deletes what the policy no longer keeps: mappings first (the link to people), then
    /// bookings, then notifications read long ago. A failing store does not stop the others.
    ///
    /// # Errors
    /// [`PurgeFailed`] with what was deleted all the same and the first failure.
    pub async fn purge(&self) -> Result<Purged, PurgeFailed> {
        let now = self.clock.now();
        let visits = self.policy.visit_mapping_cutoff(now);
        let mut first_error = None;
        let mut count = |result: Result<u64, RepoError>| {
            result.unwrap_or_else(|error| {
                first_error.get_or_insert(error);
                0
            })
        };
        let purged = Purged {
            mappings: count(
                self.mappings
                    .purge_created_before(visits, PURGE_BATCH)
                    .await,
            ),
            bookings: count(
                self.bookings
                    .purge_started_before(visits, PURGE_BATCH)
                    .await,
            ),
            notifications: count(
                self.notifications
                    .purge_read_before(self.policy.read_notification_cutoff(now), PURGE_BATCH)
                    .await,
            ),
        };
        if !purged.is_empty() {
            let mut record =
                AuditRecord::new(now, audit::Actor::System, audit::Action::RetentionPurged);
            record.details = AuditDetails::new()
                .with("visit_mappings", purged.mappings.to_string())
                .with("bookings", purged.bookings.to_string())
                .with("notifications", purged.notifications.to_string());
            self.audit.record_or_log(record).await;
        }
        match first_error {
            None => Ok(purged),
            Some(error) => Err(PurgeFailed { purged, error }),
        }
    }
}

/// A purge in which a store failed; what the others deleted stays deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("visit data purge failed: {error}")]
pub struct PurgeFailed {
    /// What was deleted all the same.
    pub purged: Purged,
    /// The first failure.
    pub error: RepoError,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::repo::{
        MockAuditLog, MockBookingRepository, MockNotificationRepository, MockVisitMappingRepository,
    };
    use crate::services::fixtures::{FixedClock, t0};
    use std::sync::Mutex;
    use wildid_domain::audit::AuditEntry;

    #[tokio::test]
    async fn the_cut_offs_come_from_the_policy_and_only_real_purges_are_audited() {
        let policy = RetentionPolicy::default();
        let mut mappings = MockVisitMappingRepository::new();
        let visits = policy.visit_mapping_cutoff(t0());
        mappings
            .expect_purge_created_before()
            .withf(move |cutoff, batch| *cutoff == visits && *batch == PURGE_BATCH)
            .returning(|_, _| Ok(3));
        let mut bookings = MockBookingRepository::new();
        bookings
            .expect_purge_started_before()
            .withf(move |cutoff, _| *cutoff == visits)
            .returning(|_, _| Ok(2));
        let mut notifications = MockNotificationRepository::new();
        let read = policy.read_notification_cutoff(t0());
        notifications
            .expect_purge_read_before()
            .withf(move |cutoff, _| *cutoff == read)
            .returning(|_, _| Ok(0));
        let audited = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&audited);
        let mut log = MockAuditLog::new();
        log.expect_append().times(1).returning(move |record| {
            seen.lock().unwrap().push(format!("{:?}", record.details));
            Ok(AuditEntry::append_to(None, record))
        });
        let retention = VisitRetention::new(
            Arc::new(bookings),
            Arc::new(mappings),
            Arc::new(notifications),
            AuditTrail::new(Arc::new(log)),
            Arc::new(FixedClock(t0())),
            policy,
        );
        let purged = retention.purge().await.unwrap();
        assert_eq!(
            (purged.mappings, purged.bookings, purged.notifications),
            (3, 2, 0)
        );
        let audited = audited.lock().unwrap().join(" ");
        assert!(audited.contains("visit_mappings") && audited.contains('3'));
    }
}

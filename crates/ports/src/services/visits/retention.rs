//! Retention of visit data: the visit mappings and the bookings of visits older than the retention period (14 days by default), and notifications read long
//! ago, are deleted in batches, daily by the server's maintenance job (and at start when a day
//! has passed), or at once when an admin or the operator asks. Of several server processes
//! on one database only the holder of the job's lease purges. Every purge that deleted
//! something, and every purge someone asked for, is audited with its counts, never with what
//! was deleted.

use std::sync::Arc;

use chrono::TimeDelta;
use wildid_domain::Timestamp;
use wildid_domain::audit::{self, Actor, AuditDetails, AuditRecord, Origin};
use wildid_domain::retention::RetentionPolicy;

use crate::RepoError;
use crate::clock::Clock;
use crate::repo::{
    BookingRepository, Job, JobLeases, JobState, LeaseRequest, NotificationRepository,
    VisitMappingRepository,
};
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

/// What the retention purge works on.
#[derive(Clone)]
pub struct RetentionPorts {
    /// Bookings of old visits.
    pub bookings: Arc<dyn BookingRepository>,
    /// The visit mappings.
    pub mappings: Arc<dyn VisitMappingRepository>,
    /// Read notifications.
    pub notifications: Arc<dyn NotificationRepository>,
    /// The lease that lets one process of several purge at a time.
    pub leases: Arc<dyn JobLeases>,
    /// Where each purge is recorded.
    pub audit: AuditTrail,
    /// The current time: the retention cut-offs, whether a scheduled purge is due, and the
    /// lease.
    pub clock: Arc<dyn Clock>,
}

/// How long one purge may hold the lease; a crashed process's lease runs out after it.
pub const LEASE: TimeDelta = TimeDelta::minutes(15);
/// The scheduled purge runs once a day (and at start when a day has passed since the last).
pub const EVERY: TimeDelta = TimeDelta::days(1);

/// How a purge request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeRun {
    /// This process purged.
    Purged(Purged),
    /// The scheduled purge already ran within the last [`EVERY`].
    NotDue,
    /// Another process holds the lease and is purging now.
    Busy,
}

/// The visit data retention use case.
#[derive(Clone)]
pub struct VisitRetention {
    ports: RetentionPorts,
    policy: RetentionPolicy,
    holder: Arc<str>,
}

impl VisitRetention {
    /// The use case over its ports, keeping data as long as `policy` says; `holder` names this
    /// process in the lease (unique per process).
    pub fn new(ports: RetentionPorts, policy: RetentionPolicy, holder: &str) -> Self {
        Self {
            ports,
            policy,
            holder: Arc::from(holder),
        }
    }

    /// The retention periods in force.
    pub fn policy(&self) -> RetentionPolicy {
        self.policy
    }

    /// The scheduled purge: runs (as the system) when no process purged within [`EVERY`]
    /// and no other process is purging.
    ///
    /// # Errors
    /// [`PurgeFailed`] as for [`VisitRetention::purge_now`].
    pub async fn purge_if_due(&self) -> Result<PurgeRun, PurgeFailed> {
        let now = self.ports.clock.now();
        self.leased(Actor::System, None, Some(now - EVERY)).await
    }

    /// A purge asked for by `actor` (an admin, or the operator's shell as the system) from
    /// `origin` (the request, when it came over HTTP; recorded in the audit entry): runs now
    /// unless another process is purging. Never [`PurgeRun::NotDue`].
    ///
    /// # Errors
    /// [`PurgeFailed`] with what was deleted all the same and the first failure (the lease
    /// itself failing included).
    pub async fn purge_now(
        &self,
        actor: Actor,
        origin: Option<Origin>,
    ) -> Result<PurgeRun, PurgeFailed> {
        self.leased(actor, origin, None).await
    }

    async fn leased(
        &self,
        actor: Actor,
        origin: Option<Origin>,
        finished_before: Option<Timestamp>,
    ) -> Result<PurgeRun, PurgeFailed> {
        let now = self.ports.clock.now();
        let failed = |error| PurgeFailed {
            purged: Purged::default(),
            error,
        };
        let request = LeaseRequest {
            job: Job::Retention,
            holder: self.holder.to_string(),
            now,
            until: now + LEASE,
            finished_before,
        };
        if !self.ports.leases.acquire(request).await.map_err(failed)? {
            return Ok(match finished_before {
                Some(due) if self.finished_since(due).await => PurgeRun::NotDue,
                _ => PurgeRun::Busy,
            });
        }
        let outcome = self.purge(actor, origin, finished_before.is_none()).await;
        let finished = outcome.is_ok().then(|| self.ports.clock.now());
        if let Err(error) = self
            .ports
            .leases
            .release(Job::Retention, &self.holder, finished)
            .await
        {
            // The lease runs out by itself; the purge's own outcome is what matters.
            tracing::warn!(%error, "the retention lease could not be released");
        }
        outcome.map(PurgeRun::Purged)
    }

    /// Whether the job finished at or after `due` (so a refused lease means "not due").
    async fn finished_since(&self, due: Timestamp) -> bool {
        matches!(
            self.ports.leases.state(Job::Retention).await,
            Ok(Some(JobState { finished_at: Some(at), .. })) if at >= due
        )
    }

    /// When the purge last ran to its end.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn last_finished(&self) -> Result<Option<Timestamp>, RepoError> {
        Ok(self
            .ports
            .leases
            .state(Job::Retention)
            .await?
            .and_then(|s| s.finished_at))
    }

    /// What the purge would delete if it ran now (past its period, still stored): the
    /// backlog an admin sees between two daily purges.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn waiting(&self) -> Result<Purged, RepoError> {
        let now = self.ports.clock.now();
        let visits = self.policy.visit_mapping_cutoff(now);
        Ok(Purged {
            mappings: self.ports.mappings.count_created_before(visits).await?,
            bookings: self.ports.bookings.count_started_before(visits).await?,
            notifications: self
                .ports
                .notifications
                .count_read_before(self.policy.read_notification_cutoff(now))
                .await?,
        })
    }

    /// Deletes what the policy no longer keeps: mappings first (the link to people), then
    /// bookings, then notifications read long ago. A failing store does not stop the others.
    async fn purge(
        &self,
        actor: Actor,
        origin: Option<Origin>,
        asked: bool,
    ) -> Result<Purged, PurgeFailed> {
        let now = self.ports.clock.now();
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
                self.ports
                    .mappings
                    .purge_created_before(visits, PURGE_BATCH)
                    .await,
            ),
            bookings: count(
                self.ports
                    .bookings
                    .purge_started_before(visits, PURGE_BATCH)
                    .await,
            ),
            notifications: count(
                self.ports
                    .notifications
                    .purge_read_before(self.policy.read_notification_cutoff(now), PURGE_BATCH)
                    .await,
            ),
        };
        // The scheduled purge is recorded when it deleted something or failed; one someone
        // asked for, always (who asked, and that it found nothing, is worth knowing).
        if asked || !purged.is_empty() || first_error.is_some() {
            let mut record =
                AuditRecord::new(now, actor, audit::Action::RetentionPurged).origin(origin);
            record.details = AuditDetails::new()
                .with("visit_mappings", purged.mappings.to_string())
                .with("bookings", purged.bookings.to_string())
                .with("notifications", purged.notifications.to_string());
            if first_error.is_some() {
                record.details = record.details.with("outcome", "failed");
            }
            self.ports.audit.record_or_log(record).await;
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
        MockAuditLog, MockBookingRepository, MockJobLeases, MockNotificationRepository,
        MockVisitMappingRepository,
    };
    use crate::services::fixtures::{FixedClock, t0};
    use std::sync::Mutex;
    use wildid_domain::audit::AuditEntry;
    use wildid_domain::ids::UserId;

    struct Fixture {
        bookings: MockBookingRepository,
        mappings: MockVisitMappingRepository,
        notifications: MockNotificationRepository,
        leases: MockJobLeases,
        audited: Arc<Mutex<Vec<String>>>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                bookings: MockBookingRepository::new(),
                mappings: MockVisitMappingRepository::new(),
                notifications: MockNotificationRepository::new(),
                leases: MockJobLeases::new(),
                audited: Arc::new(Mutex::new(Vec::new())),
            }
        }

        fn deleting(mut self, mappings: u64, bookings: u64, notifications: u64) -> Self {
            let policy = RetentionPolicy::default();
            let visits = policy.visit_mapping_cutoff(t0());
            self.mappings
                .expect_purge_created_before()
                .withf(move |cutoff, batch| *cutoff == visits && *batch == PURGE_BATCH)
                .returning(move |_, _| Ok(mappings));
            self.bookings
                .expect_purge_started_before()
                .withf(move |cutoff, _| *cutoff == visits)
                .returning(move |_, _| Ok(bookings));
            let read = policy.read_notification_cutoff(t0());
            self.notifications
                .expect_purge_read_before()
                .withf(move |cutoff, _| *cutoff == read)
                .returning(move |_, _| Ok(notifications));
            self
        }

        fn retention(self) -> (VisitRetention, Arc<Mutex<Vec<String>>>) {
            let seen = Arc::clone(&self.audited);
            let mut log = MockAuditLog::new();
            log.expect_append().returning(move |record| {
                seen.lock().unwrap().push(format!(
                    "{} {:?}",
                    record.actor.to_storage(),
                    record.details
                ));
                Ok(AuditEntry::append_to(None, record))
            });
            let ports = RetentionPorts {
                bookings: Arc::new(self.bookings),
                mappings: Arc::new(self.mappings),
                notifications: Arc::new(self.notifications),
                leases: Arc::new(self.leases),
                audit: AuditTrail::new(Arc::new(log)),
                clock: Arc::new(FixedClock(t0())),
            };
            (
                VisitRetention::new(ports, RetentionPolicy::default(), "process-a"),
                self.audited,
            )
        }
    }

    #[tokio::test]
    async fn the_scheduled_purge_takes_the_daily_lease_and_records_its_end() {
        let mut f = Fixture::new().deleting(3, 2, 0);
        f.leases
            .expect_acquire()
            .withf(|r| {
                r.job == Job::Retention
                    && r.holder == "process-a"
                    && r.until == t0() + LEASE
                    && r.finished_before == Some(t0() - EVERY)
            })
            .times(1)
            .returning(|_| Ok(true));
        f.leases
            .expect_release()
            .withf(|job, holder, finished| {
                *job == Job::Retention && holder == "process-a" && *finished == Some(t0())
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (retention, audited) = f.retention();
        let run = retention.purge_if_due().await.unwrap();
        assert_eq!(
            run,
            PurgeRun::Purged(Purged {
                mappings: 3,
                bookings: 2,
                notifications: 0
            })
        );
        let audited = audited.lock().unwrap().join(" ");
        assert!(audited.starts_with("system") && audited.contains("visit_mappings"));
    }

    #[tokio::test]
    async fn a_refused_lease_purges_nothing_and_says_why() {
        for (finished, expected) in [
            (Some(t0() - TimeDelta::hours(1)), PurgeRun::NotDue),
            (None, PurgeRun::Busy),
        ] {
            let mut f = Fixture::new();
            f.leases.expect_acquire().returning(|_| Ok(false));
            f.leases.expect_state().returning(move |_| {
                Ok(Some(JobState {
                    holder: Some("process-b".into()),
                    leased_until: Some(t0() + LEASE),
                    finished_at: finished,
                }))
            });
            let (retention, audited) = f.retention();
            assert_eq!(retention.purge_if_due().await.unwrap(), expected);
            assert!(audited.lock().unwrap().is_empty());
        }
        let mut f = Fixture::new();
        f.leases.expect_acquire().returning(|_| Ok(false));
        let (retention, _) = f.retention();
        let admin = Actor::User(UserId::from_random([7; 16]));
        assert_eq!(
            retention.purge_now(admin, None).await.unwrap(),
            PurgeRun::Busy
        );
    }

    #[tokio::test]
    async fn an_asked_for_purge_is_audited_even_when_empty_and_a_failure_stays_due() {
        let mut f = Fixture::new();
        f.mappings
            .expect_purge_created_before()
            .returning(|_, _| Err(RepoError::Unavailable("down".into())));
        f.bookings
            .expect_purge_started_before()
            .returning(|_, _| Ok(4));
        f.notifications
            .expect_purge_read_before()
            .returning(|_, _| Ok(0));
        f.leases
            .expect_acquire()
            .withf(|r| r.finished_before.is_none())
            .returning(|_| Ok(true));
        f.leases
            .expect_release()
            .withf(|_, _, finished| finished.is_none())
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (retention, audited) = f.retention();
        let admin = UserId::from_random([7; 16]);
        let failed = retention
            .purge_now(Actor::User(admin), None)
            .await
            .unwrap_err();
        assert_eq!(failed.purged.bookings, 4);
        let audited = audited.lock().unwrap().join(" ");
        assert!(audited.contains(&admin.to_string()) && audited.contains("failed"));

        let mut f = Fixture::new().deleting(0, 0, 0);
        f.leases.expect_acquire().returning(|_| Ok(true));
        f.leases.expect_release().returning(|_, _, _| Ok(()));
        let (retention, audited) = f.retention();
        let run = retention.purge_now(Actor::System, None).await.unwrap();
        assert_eq!(run, PurgeRun::Purged(Purged::default()));
        assert!(audited.lock().unwrap()[0].starts_with("system"));
    }
}

//! Periodic maintenance while the server runs: expired sessions, rate-limit counters, spent
//! tokens, delivered mail (after a day), expired CAPTCHA challenges, expired held photos and
//! accounts whose address was never confirmed (after a week) are deleted every few minutes; visit data past its retention period once a day, by whichever
//! server process takes the purge's lease (the first round runs at start, so an overdue purge
//! happens then). Jobs stop with the server.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wildid_domain::audit::Actor;
use wildid_domain::audit::{Action, AuditDetails, AuditRecord};
use wildid_ports::clock::Clock;
use wildid_ports::repo::{
    HeldPhotoRepository, LoginTokenRepository, RateLimitStore, UserRepository,
};
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::captcha::Captchas;
use wildid_ports::services::mail::MailQueue;
use wildid_ports::services::reencryption::{Reencryption, Walk};
use wildid_ports::services::sessions::SessionService;
use wildid_ports::services::visits::{PurgeRun, VisitRetention};

/// How often the jobs run.
pub const INTERVAL: Duration = Duration::from_secs(300);
/// Rate-limit windows are at most a day; counters older than this are dead.
const COUNTER_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// How often due mail is looked for.
pub const MAIL_INTERVAL: Duration = Duration::from_secs(1);
/// Messages handed to the transport per round.
const MAIL_BATCH: u32 = 20;

/// What the jobs work on.
pub struct Jobs {
    /// Session purge.
    pub sessions: SessionService,
    /// Counter purge.
    pub rate_limits: std::sync::Arc<dyn RateLimitStore>,
    /// Spent token purge.
    pub tokens: std::sync::Arc<dyn LoginTokenRepository>,
    /// Expired held photo purge (a photo expires after
    /// `wildid_ports::services::identify::HELD_PHOTO_MINUTES`; an expired one can no longer be
    /// taken, and this deletes it at the next round).
    pub held_photos: std::sync::Arc<dyn HeldPhotoRepository>,
    /// Expired CAPTCHA purge.
    pub captchas: Captchas,
    /// Accounts whose address was never confirmed, past their retention period.
    pub accounts: std::sync::Arc<dyn UserRepository>,
    /// Where the deletion of such accounts is recorded.
    pub audit: AuditTrail,
    /// Mail delivery.
    pub mail: MailQueue,
    /// Visit data past its retention period (daily, under a lease that one process of
    /// several holds).
    pub visits: VisitRetention,
    /// Re-encryption under the newest key, after a key is put first in the ring (its own
    /// task, so a long walk never delays mail or the other jobs).
    pub keys: Reencryption,
    /// Time.
    pub clock: std::sync::Arc<dyn Clock>,
}

impl Jobs {
    /// Runs until `stop` is cancelled: mail every [`MAIL_INTERVAL`], maintenance every
    /// [`INTERVAL`].
    pub async fn run(self, stop: CancellationToken) {
        let rewrap = tokio::spawn(reencrypt_while(self.keys.clone(), stop.clone()));
        self.maintain(stop).await;
        if let Err(error) = rewrap.await {
            tracing::warn!(%error, "the re-encryption task ended abnormally");
        }
    }

    async fn maintain(self, stop: CancellationToken) {
        let mut maintenance = tokio::time::interval(INTERVAL);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut mail = tokio::time::interval(MAIL_INTERVAL);
        mail.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = maintenance.tick() => self.once().await,
                _ = mail.tick() => self.deliver_mail().await,
            }
        }
    }

    /// One round of mail delivery.
    pub async fn deliver_mail(&self) {
        let round = self.mail.deliver_due(MAIL_BATCH).await;
        ran("mail_delivery", round.is_ok());
        match round {
            Ok(round) if round.sent + round.retried > 0 => {
                tracing::info!(
                    sent = round.sent,
                    retried = round.retried,
                    "mail delivery round"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "mail delivery round failed"),
        }
    }

    /// One round of every job.
    pub async fn once(&self) {
        let sessions = self.sessions.purge_expired().await;
        ran("session_purge", sessions.is_ok());
        match sessions {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired sessions purged"),
            Err(error) => tracing::warn!(%error, "session purge failed"),
        }
        let counters = self
            .rate_limits
            .purge_before(self.clock.now() - COUNTER_RETENTION)
            .await;
        ran("rate_limit_purge", counters.is_ok());
        if let Err(error) = counters {
            tracing::warn!(%error, "rate-limit purge failed");
        }
        let tokens = self
            .tokens
            .purge_spent(self.visits.policy().spent_token_cutoff(self.clock.now()))
            .await;
        ran("token_purge", tokens.is_ok());
        if let Err(error) = tokens {
            tracing::warn!(%error, "token purge failed");
        }
        let held = self.held_photos.purge_expired(self.clock.now()).await;
        ran("held_photo_purge", held.is_ok());
        match held {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired held photos purged"),
            Err(error) => tracing::warn!(%error, "held photo purge failed"),
        }
        let mail = self
            .mail
            .purge_delivered(self.visits.policy().spent_tokens())
            .await;
        ran("mail_purge", mail.is_ok());
        match mail {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "delivered mail purged"),
            Err(error) => tracing::warn!(%error, "mail purge failed"),
        }
        let captchas = self.captchas.purge_expired().await;
        ran("captcha_purge", captchas.is_ok());
        match captchas {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired captchas purged"),
            Err(error) => tracing::warn!(%error, "captcha purge failed"),
        }
        let cutoff = self
            .visits
            .policy()
            .unverified_account_cutoff(self.clock.now());
        let unconfirmed = self.accounts.purge_unverified(cutoff).await;
        ran("unverified_account_purge", unconfirmed.is_ok());
        match unconfirmed {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(deleted = n, "accounts never confirmed purged");
                let mut record =
                    AuditRecord::new(self.clock.now(), Actor::System, Action::RetentionPurged);
                record.details = AuditDetails::new().with("unverified_accounts", n.to_string());
                self.audit.record_or_log(record).await;
            }
            Err(error) => tracing::warn!(%error, "unverified account purge failed"),
        }
        let visits = self.visits.purge_if_due().await;
        ran_as(
            "visit_purge",
            match &visits {
                Ok(PurgeRun::Purged(_)) => "ok",
                // Another process purged within the day, or is purging now.
                Ok(PurgeRun::NotDue) => "not_due",
                Ok(PurgeRun::Busy) => "busy",
                Err(_) => "failed",
            },
        );
        match visits {
            Ok(PurgeRun::NotDue | PurgeRun::Busy) => {}
            Ok(PurgeRun::Purged(purged)) if purged.is_empty() => {}
            Ok(PurgeRun::Purged(purged)) => tracing::info!(
                visit_mappings = purged.mappings,
                bookings = purged.bookings,
                notifications = purged.notifications,
                "visit data past its retention period purged"
            ),
            Err(failed) => tracing::warn!(
                error = %failed.error,
                visit_mappings = failed.purged.mappings,
                bookings = failed.purged.bookings,
                notifications = failed.purged.notifications,
                "visit data purge failed"
            ),
        }
    }
}

/// Counts a run of `job` in the metrics (`wildid_job_runs_total`, by job and outcome).
fn ran(job: &'static str, ok: bool) {
    ran_as(job, if ok { "ok" } else { "failed" });
}

/// Counts a run of `job` that ended as `outcome` (`ok`, `failed`, or for a job one process
/// of several runs, `not_due` or `busy` when another did or does).
fn ran_as(job: &'static str, outcome: &'static str) {
    metrics::counter!("wildid_job_runs_total", "job" => job, "outcome" => outcome).increment(1);
}

/// Every [`INTERVAL`] until `stop`: walks the encrypted columns not yet walked under the
/// newest key (a few small reads when there are none), under the job's lease. A walk cut
/// short by `stop` resumes at the next start.
async fn reencrypt_while(keys: Reencryption, stop: CancellationToken) {
    let mut every = tokio::time::interval(INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let mut quiet = |_| {};
        let walk = tokio::select! {
            () = stop.cancelled() => return,
            walk = keys.run(Actor::System, false, &mut quiet) => walk,
        };
        ran("reencryption", walk.is_ok());
        match walk {
            Ok(Walk::Done(done)) => tracing::info!(
                examined = done.examined,
                rewritten = done.rewritten,
                unreadable = done.unreadable,
                "encrypted values walked under the newest key"
            ),
            Ok(Walk::AlreadyDone | Walk::Busy) => {}
            Err(error) => tracing::warn!(%error, "re-encryption stopped; it resumes next round"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::TimeZone;
    use wildid_domain::Timestamp;
    use wildid_domain::session::SessionPolicy;
    use wildid_ports::RepoError;
    use wildid_ports::builtin::OsRandom;
    use wildid_ports::crypto::MockFieldCipher;
    use wildid_ports::mail::MockMailer;
    use wildid_ports::repo::MockSealedValues;
    use wildid_ports::repo::{
        MockAuditLog, MockBookingRepository, MockCaptchaRepository, MockHeldPhotoRepository,
        MockJobLeases, MockLoginTokenRepository, MockMailOutbox, MockNotificationRepository,
        MockRateLimitStore, MockSessionRepository, MockUserRepository, MockVisitMappingRepository,
    };
    use wildid_ports::services::audit::AuditTrail;
    use wildid_ports::services::captcha::CaptchaPorts;
    use wildid_ports::services::reencryption::ReencryptionPorts;
    use wildid_ports::services::visits::RetentionPorts;

    use super::*;

    struct At(Timestamp);
    impl Clock for At {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    /// Jobs whose stores record the cutoff each purge was asked for, under its name; the
    /// store named `failing` fails.
    fn jobs(asked: &Arc<Mutex<Vec<(&'static str, Timestamp)>>>, failing: &'static str) -> Jobs {
        jobs_under(
            asked,
            failing,
            wildid_domain::retention::RetentionPolicy::default(),
        )
    }

    /// [`jobs`] keeping data as `policy` says.
    fn jobs_under(
        asked: &Arc<Mutex<Vec<(&'static str, Timestamp)>>>,
        failing: &'static str,
        policy: wildid_domain::retention::RetentionPolicy,
    ) -> Jobs {
        let answer = move |name: &'static str| {
            if name == failing {
                Err(RepoError::Other("the disk is full".into()))
            } else {
                Ok(1)
            }
        };
        let note = |name: &'static str| {
            let asked = Arc::clone(asked);
            move |cutoff: Timestamp| {
                asked.lock().unwrap().push((name, cutoff));
                answer(name)
            }
        };
        let clock: Arc<dyn Clock> = Arc::new(At(now()));
        let mut sessions = MockSessionRepository::new();
        let sessions_seen = note("sessions");
        sessions
            .expect_purge_expired()
            .times(1)
            .returning(move |idle, _, _| sessions_seen(idle));
        let mut counters = MockRateLimitStore::new();
        let seen = note("counters");
        counters.expect_purge_before().times(1).returning(seen);
        let mut tokens = MockLoginTokenRepository::new();
        let seen = note("tokens");
        tokens.expect_purge_spent().times(1).returning(seen);
        let mut held = MockHeldPhotoRepository::new();
        let seen = note("held_photos");
        held.expect_purge_expired().times(1).returning(seen);
        let mut outbox = MockMailOutbox::new();
        let seen = note("mail");
        outbox.expect_purge_sent_before().times(1).returning(seen);
        let mut accounts = MockUserRepository::new();
        let seen = note("unverified_accounts");
        accounts.expect_purge_unverified().times(1).returning(seen);
        let mut captchas = MockCaptchaRepository::new();
        let seen = note("captchas");
        captchas.expect_purge_expired().times(1).returning(seen);
        let mut mappings = MockVisitMappingRepository::new();
        let seen = note("visit_mappings");
        mappings
            .expect_purge_created_before()
            .times(1)
            .returning(move |cutoff, _| seen(cutoff));
        let mut bookings = MockBookingRepository::new();
        let seen = note("bookings");
        bookings
            .expect_purge_started_before()
            .times(1)
            .returning(move |cutoff, _| seen(cutoff));
        let mut notifications = MockNotificationRepository::new();
        let seen = note("notifications");
        notifications
            .expect_purge_read_before()
            .times(1)
            .returning(move |cutoff, _| seen(cutoff));
        let mut leases = MockJobLeases::new();
        leases.expect_acquire().times(1).returning(|_| Ok(true));
        leases.expect_release().times(1).returning(|_, _, _| Ok(()));
        let audit = AuditTrail::new(Arc::new(MockAuditLog::new()));
        let mut audited = MockAuditLog::new();
        audited
            .expect_append()
            .returning(|record| Ok(wildid_domain::audit::AuditEntry::append_to(None, record)));
        let cipher = Arc::new(
            wildid_ports::builtin::FernetKeyRing::new(&[wildid_domain::secret::SecretString::new(
                fernet::Fernet::generate_key(),
            )])
            .unwrap(),
        );
        Jobs {
            sessions: SessionService::new(
                Arc::new(sessions),
                Arc::new(MockUserRepository::new()),
                audit.clone(),
                Arc::clone(&clock),
                Arc::new(OsRandom),
                SessionPolicy::default(),
            ),
            rate_limits: Arc::new(counters),
            tokens: Arc::new(tokens),
            held_photos: Arc::new(held),
            captchas: Captchas::new(
                CaptchaPorts {
                    captchas: Arc::new(captchas),
                    sessions: Arc::new(MockSessionRepository::new()),
                    audit,
                    clock: Arc::clone(&clock),
                    random: Arc::new(OsRandom),
                },
                None,
            ),
            accounts: Arc::new(accounts),
            audit: AuditTrail::new(Arc::new({
                let mut log = MockAuditLog::new();
                log.expect_append().returning(|record| {
                    Ok(wildid_domain::audit::AuditEntry::append_to(None, record))
                });
                log
            })),
            mail: MailQueue::new(
                Arc::new(outbox),
                cipher,
                Arc::new(MockMailer::new()),
                Arc::clone(&clock),
                Arc::new(OsRandom),
            ),
            visits: VisitRetention::new(
                RetentionPorts {
                    bookings: Arc::new(bookings),
                    mappings: Arc::new(mappings),
                    notifications: Arc::new(notifications),
                    leases: Arc::new(leases),
                    audit: AuditTrail::new(Arc::new(audited)),
                    clock: Arc::clone(&clock),
                },
                policy,
                "test",
            ),
            keys: Reencryption::new(
                ReencryptionPorts {
                    sealed: Arc::new(MockSealedValues::new()),
                    cipher: Arc::new(MockFieldCipher::new()),
                    leases: Arc::new(MockJobLeases::new()),
                    audit: AuditTrail::new(Arc::new(MockAuditLog::new())),
                    clock: Arc::clone(&clock),
                },
                "test",
            ),
            clock,
        }
    }

    #[tokio::test]
    async fn one_round_purges_every_store_with_its_retention() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        jobs(&asked, "none").once().await;
        let mut asked = asked.lock().unwrap().clone();
        asked.sort();
        let day = chrono::TimeDelta::days(1);
        assert_eq!(
            asked,
            [
                ("bookings", now() - day * 14),
                ("captchas", now()),
                ("counters", now() - day),
                ("held_photos", now()),
                ("mail", now() - day),
                ("notifications", now() - day * 90),
                ("sessions", now() - SessionPolicy::default().idle_timeout()),
                ("tokens", now() - day),
                ("unverified_accounts", now() - day * 7),
                ("visit_mappings", now() - day * 14),
            ]
        );
    }

    #[tokio::test]
    async fn the_configured_policy_sets_every_period_it_names() {
        let day = chrono::TimeDelta::days(1);
        let policy = wildid_domain::retention::RetentionPolicy::new(day * 20, day * 3, day * 7)
            .unwrap()
            .with_unverified_accounts(day * 30)
            .unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        jobs_under(&asked, "none", policy).once().await;
        let asked = asked.lock().unwrap().clone();
        let cutoff = |name: &str| asked.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(cutoff("tokens"), now() - day * 3);
        assert_eq!(cutoff("mail"), now() - day * 3);
        assert_eq!(cutoff("visit_mappings"), now() - day * 20);
        assert_eq!(cutoff("bookings"), now() - day * 20);
        assert_eq!(cutoff("notifications"), now() - day * 7);
        assert_eq!(cutoff("unverified_accounts"), now() - day * 30);
    }

    #[tokio::test]
    async fn a_failing_store_does_not_stop_the_others() {
        for failing in [
            "sessions",
            "counters",
            "tokens",
            "held_photos",
            "mail",
            "captchas",
            "unverified_accounts",
            "visit_mappings",
            "bookings",
            "notifications",
        ] {
            let asked = Arc::new(Mutex::new(Vec::new()));
            // Every store is still asked once (the mocks' `times(1)` checks it on drop).
            jobs(&asked, failing).once().await;
            assert_eq!(asked.lock().unwrap().len(), 10, "after {failing} failed");
        }
    }
}

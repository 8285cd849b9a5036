//! Exposure reports and in-app notifications: a worker or admin says what was found at a site during a window; everyone checked in there during that window is
//! told inside the app, once, without anyone else being named.
//!
//! - The visits are found through the mappings' site and time index, and only those mappings
//!   are decrypted ([`VisitMappingRepository::visits_at`]).
//! - The report and its notifications are stored in one step ([`ExposureReportRepository::
//!   record`]); each person gets one notification however many visits they made.
//! - The audit entry holds the site and how many people were told, never who; nothing about
//!   the people told is logged.

use std::collections::BTreeSet;
use std::sync::Arc;

use wildid_domain::Timestamp;
use wildid_domain::audit::{self, AuditDetails, AuditRecord, Origin};
use wildid_domain::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use wildid_domain::text::PlainText;
use wildid_domain::visits::{
    EXPOSURE_NOTE_MAX_CHARS, ExposureError, ExposureReport, Notification, Site,
};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::FieldCipher;
use crate::random::{SecureRandom, random_array};
use crate::repo::{
    ExposureReportRepository, NotificationRepository, SiteRepository, VisitMappingRepository,
};
use crate::services::audit::AuditTrail;
use crate::text::clean;

/// The most notifications one listing returns.
pub const MAX_NOTIFICATIONS: u32 = 200;

/// An exposure as a worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureInput {
    /// The site where something was found.
    pub site: SiteId,
    /// When the exposure window starts.
    pub from: Timestamp,
    /// When it ends (not after now).
    pub to: Timestamp,
    /// What was found and what people should do (markup is removed).
    pub note: String,
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// The stored report.
    pub report: ExposureReport,
    /// How many people were told.
    pub notified: usize,
    /// Visits whose visitor could not be decrypted (a key missing from the ring): nobody was
    /// told about them, and the operator must restore the key.
    pub undecryptable: usize,
}

/// Why a report or a notification request was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposuresError {
    /// No such site.
    #[error("no such site")]
    UnknownSite,
    /// The window or the note is wrong.
    #[error(transparent)]
    Invalid(#[from] ExposureError),
    /// No such notification (or someone else's).
    #[error("no such notification")]
    NotFound,
    /// A dependency failed.
    #[error("exposures unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for ExposuresError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => ExposuresError::NotFound,
            other => ExposuresError::Unavailable(other.to_string()),
        }
    }
}

/// What [`Exposures`] works with.
pub struct ExposurePorts {
    /// Who was at a site when.
    pub mappings: Arc<dyn VisitMappingRepository>,
    /// Reports and their notifications.
    pub reports: Arc<dyn ExposureReportRepository>,
    /// People's notifications.
    pub notifications: Arc<dyn NotificationRepository>,
    /// Sites (names for the message).
    pub sites: Arc<dyn SiteRepository>,
    /// Where reports are recorded.
    pub audit: AuditTrail,
    /// The current time: when a report is made (its window may not end after it) and when a
    /// notification is read.
    pub clock: Arc<dyn Clock>,
    /// Random ids for reports and notifications.
    pub random: Arc<dyn SecureRandom>,
    /// Opens the mappings' sealed visitors.
    pub cipher: Arc<dyn FieldCipher>,
}

/// The exposure use case.
#[derive(Clone)]
pub struct Exposures {
    mappings: Arc<dyn VisitMappingRepository>,
    reports: Arc<dyn ExposureReportRepository>,
    notifications: Arc<dyn NotificationRepository>,
    sites: Arc<dyn SiteRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    cipher: Arc<dyn FieldCipher>,
}

impl Exposures {
    /// The use case over its ports.
    pub fn new(ports: ExposurePorts) -> Self {
        Self {
            mappings: ports.mappings,
            reports: ports.reports,
            notifications: ports.notifications,
            sites: ports.sites,
            audit: ports.audit,
            clock: ports.clock,
            random: ports.random,
            cipher: ports.cipher,
        }
    }

    /// `reporter` reports an exposure; everyone checked in at the site during the window is
    /// notified once.
    ///
    /// # Errors
    /// [`ExposuresError`] naming what is wrong; nothing is stored then.
    pub async fn report(
        &self,
        reporter: UserId,
        input: &ExposureInput,
        origin: Option<Origin>,
    ) -> Result<Reported, ExposuresError> {
        let site = self.sites.get(input.site).await.map_err(|e| match e {
            RepoError::NotFound => ExposuresError::UnknownSite,
            other => other.into(),
        })?;
        let note = clean(&input.note, EXPOSURE_NOTE_MAX_CHARS).map_err(ExposureError::Note)?;
        let now = self.clock.now();
        let report = ExposureReport::new(
            ExposureReportId::from_random(self.random_id()?),
            site.id(),
            (input.from, input.to),
            note.as_str(),
            reporter,
            now,
        )?;
        let visits = self
            .mappings
            .visits_at(site.id(), input.from, input.to)
            .await?;
        let mut people = BTreeSet::new();
        let mut undecryptable = 0;
        for visit in &visits {
            let visitor = self
                .cipher
                .decrypt(&visit.sealed_visitor)
                .ok()
                .and_then(|plain| std::str::from_utf8(plain.expose()).ok().map(UserId::parse))
                .and_then(Result::ok);
            match visitor {
                Some(id) => {
                    people.insert(id);
                }
                None => undecryptable += 1,
            }
        }
        let message = message(&site, &report)?;
        let notices = people
            .iter()
            .map(|user| {
                Ok(Notification {
                    id: NotificationId::from_random(self.random_id()?),
                    user: *user,
                    report: report.id,
                    message: message.clone(),
                    created_at: now,
                    read_at: None,
                })
            })
            .collect::<Result<Vec<_>, ExposuresError>>()?;
        self.reports.record(&report, &notices).await?;
        let mut details = AuditDetails::new()
            .with("site", site.id().to_string())
            .with("notified", notices.len().to_string());
        if undecryptable > 0 {
            details = details.with("undecryptable", undecryptable.to_string());
            tracing::warn!(
                report = %report.id,
                undecryptable,
                "visit mappings under a key no longer in the ring: their visitors were not told"
            );
        }
        let record = AuditRecord::new(
            now,
            audit::Actor::User(reporter),
            audit::Action::ExposureReported,
        )
        .target(report.id.to_string())
        .details(details)
        .origin(origin);
        self.audit.record_or_log(record).await;
        Ok(Reported {
            notified: notices.len(),
            undecryptable,
            report,
        })
    }

    /// The latest reports, newest first.
    ///
    /// # Errors
    /// [`ExposuresError::Unavailable`].
    pub async fn latest(&self) -> Result<Vec<ExposureReport>, ExposuresError> {
        Ok(self.reports.latest(50).await?)
    }

    /// `user`'s notifications, newest first.
    ///
    /// # Errors
    /// [`ExposuresError::Unavailable`].
    pub async fn notifications(&self, user: UserId) -> Result<Vec<Notification>, ExposuresError> {
        Ok(self.notifications.for_user(user, MAX_NOTIFICATIONS).await?)
    }

    /// How many of `user`'s notifications are unread.
    ///
    /// # Errors
    /// [`ExposuresError::Unavailable`].
    pub async fn unread(&self, user: UserId) -> Result<u32, ExposuresError> {
        Ok(self.notifications.unread(user).await?)
    }

    /// `user` marks one of their notifications read.
    ///
    /// # Errors
    /// [`ExposuresError::NotFound`] for a missing notification or someone else's.
    pub async fn mark_read(&self, user: UserId, id: NotificationId) -> Result<(), ExposuresError> {
        Ok(self
            .notifications
            .mark_read(id, user, self.clock.now())
            .await?)
    }

    fn random_id(&self) -> Result<[u8; 16], ExposuresError> {
        random_array(self.random.as_ref())
            .map_err(|_| ExposuresError::Unavailable("no randomness".into()))
    }
}

/// What each person told reads: what happened, where, when, and what to do; nobody else named.
fn message(site: &Site, report: &ExposureReport) -> Result<PlainText, ExposuresError> {
    let when = |t: Timestamp| t.format("%-d %b %Y %H:%M UTC").to_string();
    let text = format!(
        "You were at {site} while it was exposed: between {from} and {to}.\n\n{note}\n\nWhat to \
         do: watch for signs of illness in yourself and any animals you touched for the next \
         14 days, follow the advice above, and if you feel unwell tell your doctor that you \
         were at {site} and what was found there.",
        site = site.name().as_str(),
        from = when(report.window_start),
        to = when(report.window_end),
        note = report.note.as_str(),
    );
    PlainText::new(&text, 4_000).map_err(|e| ExposuresError::Unavailable(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::builtin::{FernetKeyRing, OsRandom};
    use crate::repo::{
        MockAuditLog, MockExposureReportRepository, MockNotificationRepository, MockSiteRepository,
        MockVisitMappingRepository,
    };
    use crate::services::fixtures::{FixedClock, t0};
    use std::sync::Mutex;
    use wildid_domain::audit::AuditEntry;
    use wildid_domain::secret::SecretString;
    use wildid_domain::sighting::Area;
    use wildid_domain::user::EncryptedField;
    use wildid_domain::visits::VisitMapping;

    #[tokio::test]
    async fn each_person_there_is_told_once_and_the_audit_names_nobody() {
        let ring = Arc::new(
            FernetKeyRing::new(&[SecretString::new(fernet::Fernet::generate_key())]).unwrap(),
        );
        let site = Site::new(SiteId::from_random([1; 16]), "Marsh", "", Area::WORLD, true).unwrap();
        let (ana, ben) = (UserId::from_random([2; 16]), UserId::from_random([3; 16]));
        let visit = |n: u8, sealed: EncryptedField| VisitMapping {
            token_digest: [n; 32],
            sealed_visitor: sealed,
            site: site.id(),
            visit_start: t0() - chrono::TimeDelta::hours(3),
            visit_end: t0() - chrono::TimeDelta::hours(2),
            created_at: t0(),
        };
        let seal = |u: UserId| ring.encrypt(u.to_string().as_bytes()).unwrap();
        let visits = vec![
            visit(1, seal(ana)),
            visit(2, seal(ana)),
            visit(3, seal(ben)),
            visit(4, EncryptedField::new("gAAAAB-under-a-lost-key".into())),
        ];
        let mut mappings = MockVisitMappingRepository::new();
        mappings
            .expect_visits_at()
            .returning(move |_, _, _| Ok(visits.clone()));
        let mut sites = MockSiteRepository::new();
        let stored_site = site.clone();
        sites
            .expect_get()
            .returning(move |_| Ok(stored_site.clone()));
        let told = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&told);
        let mut reports = MockExposureReportRepository::new();
        reports
            .expect_record()
            .times(1)
            .returning(move |_, notices| {
                seen.lock().unwrap().extend(
                    notices
                        .iter()
                        .map(|n| (n.user, n.message.as_str().to_owned())),
                );
                Ok(())
            });
        let audited = Arc::new(Mutex::new(Vec::new()));
        let log_seen = Arc::clone(&audited);
        let mut log = MockAuditLog::new();
        log.expect_append().returning(move |record| {
            log_seen
                .lock()
                .unwrap()
                .push(format!("{:?}", record.details));
            Ok(AuditEntry::append_to(None, record))
        });
        let exposures = Exposures::new(ExposurePorts {
            mappings: Arc::new(mappings),
            reports: Arc::new(reports),
            notifications: Arc::new(MockNotificationRepository::new()),
            sites: Arc::new(sites),
            audit: AuditTrail::new(Arc::new(log)),
            clock: Arc::new(FixedClock(t0())),
            random: Arc::new(OsRandom),
            cipher: ring,
        });
        let input = ExposureInput {
            site: site.id(),
            from: t0() - chrono::TimeDelta::hours(4),
            to: t0() - chrono::TimeDelta::hours(1),
            note: "<b>Avian influenza</b> in a dead gull by the boardwalk.".into(),
        };
        let reported = exposures.report(ben, &input, None).await.unwrap();
        assert_eq!((reported.notified, reported.undecryptable), (2, 1));
        let told = told.lock().unwrap().clone();
        let people: BTreeSet<UserId> = told.iter().map(|(u, _)| *u).collect();
        assert_eq!(people, BTreeSet::from([ana, ben]));
        assert!(
            told[0].1.contains("Marsh") && told[0].1.contains("Avian influenza in a dead gull")
        );
        assert!(!told[0].1.contains("<b>"), "markup is removed");
        let audit = audited.lock().unwrap().join(" ");
        assert!(audit.contains("notified") && !audit.contains(&ana.to_string()));

        let mut future = input.clone();
        future.to = t0() + chrono::TimeDelta::hours(1);
        assert_eq!(
            exposures
                .report(ben, &future, None)
                .await
                .map(|r| r.notified),
            Err(ExposuresError::Invalid(ExposureError::InFuture))
        );
    }
}

//! Re-encryption under the newest key: after a new key is put first in the ring, every sealed
//! value (addresses, TOTP secrets, pending addresses, queued mail, visit
//! mappings, visit tokens) is rewritten under it, so that the older keys can then be retired.
//!
//! The walk goes column by column in row-key order, in batches; after each batch its progress
//! is stored, so a walk interrupted by a crash resumes where it stopped. A value is replaced
//! only if it is still the one read. A value no key of the ring decrypts is kept as it is,
//! counted and reported (never dropped). Of several processes only the holder of the job's
//! lease walks.

use std::sync::Arc;

use chrono::TimeDelta;
use wildid_domain::audit::{self, Actor, AuditDetails, AuditRecord};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::FieldCipher;
use crate::repo::{ColumnProgress, Job, JobLeases, LeaseRequest, SealedColumn, SealedValues};
use crate::services::audit::AuditTrail;

/// Values read per batch.
pub const BATCH: u32 = 500;
/// How long the lease runs past each batch; a crashed walker's lease runs out after it.
pub const LEASE: TimeDelta = TimeDelta::minutes(15);

/// What re-encryption works on.
#[derive(Clone)]
pub struct ReencryptionPorts {
    /// The sealed columns and the walk's progress.
    pub sealed: Arc<dyn SealedValues>,
    /// The key ring.
    pub cipher: Arc<dyn FieldCipher>,
    /// The lease that lets one process walk at a time.
    pub leases: Arc<dyn JobLeases>,
    /// Where each walk is recorded.
    pub audit: AuditTrail,
    /// The current time: when the lease runs out, when a walk finished, and the audit entry's
    /// time.
    pub clock: Arc<dyn Clock>,
}

/// What a walk reports as it goes (for a progress bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// About this many values are left to look at (sent once, first).
    Total(u64),
    /// This many more values were looked at.
    Examined(u64),
    /// No key of the ring decrypts the value of `column` at `row`; it is kept as it is.
    Unreadable {
        /// The column.
        column: SealedColumn,
        /// The row's key.
        row: String,
    },
}

/// What a finished walk did, over every column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// Values looked at by this walk.
    pub examined: u64,
    /// Values rewritten under the newest key by this walk.
    pub rewritten: u64,
    /// Values no key decrypts, found by this walk (kept, reported).
    pub unreadable: u64,
}

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Every column was walked to its end under the newest key.
    Done(Rewrapped),
    /// Every column had already been walked under the newest key.
    AlreadyDone,
    /// Another process holds the lease and is walking now.
    Busy,
}

/// A walk stopped; the progress stored up to the last whole batch stays, and the next walk
/// resumes from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReencryptionError {
    /// The database failed.
    #[error("re-encryption stopped: {0}")]
    Storage(#[from] RepoError),
    /// The platform could not encrypt.
    #[error("re-encryption stopped: a value could not be encrypted")]
    Cipher,
}

/// One column: how many values it holds and how far the walk under the newest key came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnStatus {
    /// The column.
    pub column: SealedColumn,
    /// Rows holding a value.
    pub values: u64,
    /// The walk under the newest key, if one began.
    pub progress: Option<ColumnProgress>,
}

impl ColumnStatus {
    /// Whether the walk under the newest key reached the column's end.
    pub fn finished(&self) -> bool {
        self.progress
            .as_ref()
            .is_some_and(|p| p.finished_at.is_some())
    }
}

/// The key ring's state in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    /// The newest key's id.
    pub key_id: String,
    /// Keys in the ring.
    pub key_count: usize,
    /// Each sealed column.
    pub columns: Vec<ColumnStatus>,
}

impl KeyStatus {
    /// Whether every column was walked under the newest key and no value was unreadable:
    /// then the older keys decrypt nothing that is stored and can be retired.
    pub fn older_keys_retirable(&self) -> bool {
        self.columns
            .iter()
            .all(|c| c.finished() && c.progress.as_ref().is_some_and(|p| p.unreadable == 0))
    }

    /// Values still to look at (an estimate: rows come and go while a walk runs).
    pub fn remaining(&self) -> u64 {
        self.columns
            .iter()
            .filter(|c| !c.finished())
            .map(|c| {
                c.values
                    .saturating_sub(c.progress.as_ref().map_or(0, |p| p.examined))
            })
            .sum()
    }
}

/// The re-encryption use case.
#[derive(Clone)]
pub struct Reencryption {
    ports: ReencryptionPorts,
    holder: Arc<str>,
}

impl Reencryption {
    /// The use case over its ports; `holder` names this process in the lease.
    pub fn new(ports: ReencryptionPorts, holder: &str) -> Self {
        Self {
            ports,
            holder: Arc::from(holder),
        }
    }

    /// Each column's state under the newest key.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn status(&self) -> Result<KeyStatus, RepoError> {
        let key_id = self.ports.cipher.key_id();
        let mut columns = Vec::with_capacity(SealedColumn::ALL.len());
        for column in SealedColumn::ALL {
            columns.push(ColumnStatus {
                column,
                values: self.ports.sealed.count(column).await?,
                progress: self.current(column, &key_id).await?,
            });
        }
        Ok(KeyStatus {
            key_id,
            key_count: self.ports.cipher.key_count(),
            columns,
        })
    }

    /// The stored progress of `column` if it belongs to the walk under `key_id`.
    async fn current(
        &self,
        column: SealedColumn,
        key_id: &str,
    ) -> Result<Option<ColumnProgress>, RepoError> {
        Ok(self
            .ports
            .sealed
            .progress(column)
            .await?
            .filter(|p| p.key_id == key_id))
    }

    /// Walks every column not yet walked under the newest key, as `actor`, telling `on` how it
    /// goes. A walk someone asked for is audited even when it rewrote nothing; the servers'
    /// own walks only when they rewrote or found something.
    ///
    /// # Errors
    /// [`ReencryptionError`]: the walk stopped, its progress up to the last batch is kept.
    pub async fn run(
        &self,
        actor: Actor,
        asked: bool,
        on: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Walk, ReencryptionError> {
        let key_id = self.ports.cipher.key_id();
        let mut walks = Vec::new();
        for column in SealedColumn::ALL {
            let progress = self
                .current(column, &key_id)
                .await?
                .unwrap_or_else(|| ColumnProgress::start(column, &key_id));
            if progress.finished_at.is_none() {
                walks.push(progress);
            }
        }
        if walks.is_empty() {
            return Ok(Walk::AlreadyDone);
        }
        if !self.lease().await? {
            return Ok(Walk::Busy);
        }
        let outcome = self.walk(walks, on).await;
        let finished = matches!(outcome, Ok(Some(_))).then(|| self.ports.clock.now());
        if let Err(error) = self
            .ports
            .leases
            .release(Job::Reencryption, &self.holder, finished)
            .await
        {
            tracing::warn!(%error, "the re-encryption lease could not be released");
        }
        let Some(done) = outcome? else {
            return Ok(Walk::Busy);
        };
        if asked || done.rewritten > 0 || done.unreadable > 0 {
            let mut record = AuditRecord::new(
                self.ports.clock.now(),
                actor,
                audit::Action::KeysReencrypted,
            );
            record.details = AuditDetails::new()
                .with("key_id", key_id)
                .with("examined", done.examined.to_string())
                .with("rewritten", done.rewritten.to_string())
                .with("unreadable", done.unreadable.to_string());
            self.ports.audit.record_or_log(record).await;
        }
        Ok(Walk::Done(done))
    }

    /// Takes or renews the lease.
    async fn lease(&self) -> Result<bool, RepoError> {
        let now = self.ports.clock.now();
        self.ports
            .leases
            .acquire(LeaseRequest {
                job: Job::Reencryption,
                holder: self.holder.to_string(),
                now,
                until: now + LEASE,
                finished_before: None,
            })
            .await
    }

    /// The walk itself; `None` when the lease was lost to another process part-way.
    async fn walk(
        &self,
        walks: Vec<ColumnProgress>,
        on: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Option<Rewrapped>, ReencryptionError> {
        let (sealed, cipher) = (&self.ports.sealed, &self.ports.cipher);
        let mut total = 0;
        for progress in &walks {
            total += sealed
                .count(progress.column)
                .await?
                .saturating_sub(progress.examined);
        }
        on(Event::Total(total));
        let mut done = Rewrapped::default();
        for mut progress in walks {
            let column = progress.column;
            loop {
                let page = sealed.page(column, progress.cursor.clone(), BATCH).await?;
                for value in &page {
                    progress.examined += 1;
                    done.examined += 1;
                    if !cipher.needs_rotation(&value.value) {
                        continue;
                    }
                    let Ok(plain) = cipher.decrypt(&value.value) else {
                        progress.unreadable += 1;
                        done.unreadable += 1;
                        on(Event::Unreadable {
                            column,
                            row: value.row.clone(),
                        });
                        continue;
                    };
                    let fresh = cipher
                        .encrypt(plain.expose())
                        .map_err(|_| ReencryptionError::Cipher)?;
                    if sealed
                        .replace(column, value.row.clone(), value.value.clone(), fresh)
                        .await?
                    {
                        progress.rewritten += 1;
                        done.rewritten += 1;
                    }
                }
                if let Some(last) = page.last() {
                    progress.cursor = Some(last.row.clone());
                }
                let end = page.len() < BATCH as usize;
                if end {
                    progress.finished_at = Some(self.ports.clock.now());
                }
                sealed.save_progress(progress.clone()).await?;
                on(Event::Examined(page.len() as u64));
                if end {
                    break;
                }
                if !self.lease().await? {
                    return Ok(None);
                }
            }
        }
        Ok(Some(done))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use wildid_domain::secret::SecretString;
    use wildid_domain::user::EncryptedField;

    use super::*;
    use crate::builtin::FernetKeyRing;
    use crate::repo::{MockAuditLog, MockJobLeases, SealedValue};
    use crate::services::fixtures::{FixedClock, t0};
    use wildid_domain::audit::AuditEntry;

    /// Sealed columns in memory; `fail_after` pages are served before the store fails.
    #[derive(Default)]
    struct Memory {
        rows: Mutex<BTreeMap<(&'static str, String), EncryptedField>>,
        progress: Mutex<BTreeMap<&'static str, ColumnProgress>>,
        pages_asked: Mutex<Vec<(SealedColumn, Option<String>)>>,
        fail_after: Mutex<Option<usize>>,
    }

    #[async_trait]
    impl SealedValues for Memory {
        async fn count(&self, column: SealedColumn) -> Result<u64, RepoError> {
            Ok(self
                .rows
                .lock()
                .unwrap()
                .keys()
                .filter(|(c, _)| *c == column.as_str())
                .count() as u64)
        }
        async fn page(
            &self,
            column: SealedColumn,
            after: Option<String>,
            limit: u32,
        ) -> Result<Vec<SealedValue>, RepoError> {
            if let Some(left) = self.fail_after.lock().unwrap().as_mut() {
                if *left == 0 {
                    return Err(RepoError::Unavailable("the disk went away".into()));
                }
                *left -= 1;
            }
            self.pages_asked
                .lock()
                .unwrap()
                .push((column, after.clone()));
            Ok(self
                .rows
                .lock()
                .unwrap()
                .iter()
                .filter(|((c, row), _)| {
                    *c == column.as_str() && after.as_ref().is_none_or(|a| row > a)
                })
                .take(limit as usize)
                .map(|((_, row), value)| SealedValue {
                    row: row.clone(),
                    value: value.clone(),
                })
                .collect())
        }
        async fn replace(
            &self,
            column: SealedColumn,
            row: String,
            old: EncryptedField,
            new: EncryptedField,
        ) -> Result<bool, RepoError> {
            let mut rows = self.rows.lock().unwrap();
            match rows.get_mut(&(column.as_str(), row)) {
                Some(value) if *value == old => {
                    *value = new;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
        async fn progress(
            &self,
            column: SealedColumn,
        ) -> Result<Option<ColumnProgress>, RepoError> {
            Ok(self.progress.lock().unwrap().get(column.as_str()).cloned())
        }
        async fn save_progress(&self, progress: ColumnProgress) -> Result<(), RepoError> {
            self.progress
                .lock()
                .unwrap()
                .insert(progress.column.as_str(), progress);
            Ok(())
        }
    }

    fn key() -> SecretString {
        SecretString::new(fernet::Fernet::generate_key())
    }

    fn ring(keys: &[&SecretString]) -> FernetKeyRing {
        FernetKeyRing::new(&keys.iter().map(|k| (*k).clone()).collect::<Vec<_>>()).unwrap()
    }

    fn leases(granted: bool) -> MockJobLeases {
        let mut leases = MockJobLeases::new();
        leases.expect_acquire().returning(move |_| Ok(granted));
        leases.expect_release().returning(|_, _, _| Ok(()));
        leases
    }

    fn reencryption(
        store: &Arc<Memory>,
        cipher: &FernetKeyRing,
        leases: MockJobLeases,
        audited: &Arc<Mutex<Vec<String>>>,
    ) -> Reencryption {
        let seen = Arc::clone(audited);
        let mut log = MockAuditLog::new();
        log.expect_append().returning(move |record| {
            seen.lock().unwrap().push(format!("{:?}", record.details));
            Ok(AuditEntry::append_to(None, record))
        });
        Reencryption::new(
            ReencryptionPorts {
                sealed: Arc::clone(store) as Arc<dyn SealedValues>,
                cipher: Arc::new(cipher.clone()),
                leases: Arc::new(leases),
                audit: AuditTrail::new(Arc::new(log)),
                clock: Arc::new(FixedClock(t0())),
            },
            "process-a",
        )
    }

    /// `n` mappings sealed under `old`, plus one value no key opens.
    fn filled(old: &FernetKeyRing, n: usize) -> Arc<Memory> {
        let store = Arc::new(Memory::default());
        {
            let mut rows = store.rows.lock().unwrap();
            for i in 0..n {
                rows.insert(
                    (SealedColumn::VisitMappings.as_str(), format!("{i:06}")),
                    old.encrypt(format!("visitor {i}").as_bytes()).unwrap(),
                );
            }
            rows.insert(
                (SealedColumn::UserEmails.as_str(), "user-1".into()),
                EncryptedField::new("gAAAAA-not-from-any-key".into()),
            );
        }
        store
    }

    #[tokio::test]
    async fn every_value_ends_under_the_newest_key_and_an_unreadable_one_is_kept_and_reported() {
        let (a, b) = (key(), key());
        let before = ring(&[&a]);
        let store = filled(&before, 1_203);
        let after = ring(&[&b, &a]);
        let audited = Arc::new(Mutex::new(Vec::new()));
        let walker = reencryption(&store, &after, leases(true), &audited);
        let mut events = Vec::new();
        let walk = walker
            .run(Actor::System, true, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(
            walk,
            Walk::Done(Rewrapped {
                examined: 1_204,
                rewritten: 1_203,
                unreadable: 1
            })
        );
        assert_eq!(events[0], Event::Total(1_204));
        assert!(events.contains(&Event::Unreadable {
            column: SealedColumn::UserEmails,
            row: "user-1".into()
        }));
        let examined: u64 = events
            .iter()
            .map(|e| if let Event::Examined(n) = e { *n } else { 0 })
            .sum();
        assert_eq!(examined, 1_204);

        // The newest key alone opens every readable value; the unreadable one is still there.
        let only_b = ring(&[&b]);
        let rows = store.rows.lock().unwrap().clone();
        assert_eq!(rows.len(), 1_204);
        for ((column, _), value) in &rows {
            if *column == SealedColumn::VisitMappings.as_str() {
                assert!(only_b.decrypt(value).is_ok());
            }
        }
        let status = walker.status().await.unwrap();
        assert_eq!(status.remaining(), 0);
        assert!(
            !status.older_keys_retirable(),
            "an unreadable value is reported, not forgotten"
        );
        let audit = audited.lock().unwrap().join(" ");
        assert!(audit.contains("1203") && audit.contains(&after.key_id()));

        // Walked once per key: a second walk has nothing to do.
        assert_eq!(
            walker.run(Actor::System, false, &mut |_| {}).await.unwrap(),
            Walk::AlreadyDone
        );
    }

    #[tokio::test]
    async fn a_walk_cut_short_resumes_after_its_last_batch() {
        let (a, b) = (key(), key());
        let store = filled(&ring(&[&a]), 1_203);
        without_unreadable(&store);
        let after = ring(&[&b, &a]);
        let audited = Arc::new(Mutex::new(Vec::new()));
        let walker = reencryption(&store, &after, leases(true), &audited);
        // The four columns before the mappings are one (empty) page each, then one page of
        // mappings is served, then the store fails.
        *store.fail_after.lock().unwrap() = Some(5);
        let failed = walker.run(Actor::System, false, &mut |_| {}).await;
        assert!(matches!(failed, Err(ReencryptionError::Storage(_))));
        let kept = store
            .progress
            .lock()
            .unwrap()
            .get(SealedColumn::VisitMappings.as_str())
            .cloned()
            .unwrap();
        assert_eq!(
            (kept.examined, kept.cursor.as_deref(), kept.finished_at),
            (500, Some("000499"), None)
        );

        *store.fail_after.lock().unwrap() = None;
        store.pages_asked.lock().unwrap().clear();
        let walk = walker.run(Actor::System, false, &mut |_| {}).await.unwrap();
        assert_eq!(
            walk,
            Walk::Done(Rewrapped {
                examined: 703,
                rewritten: 703,
                unreadable: 0
            })
        );
        let asked = store.pages_asked.lock().unwrap().clone();
        assert_eq!(
            asked.first(),
            Some(&(SealedColumn::VisitMappings, Some("000499".to_owned()))),
            "the finished columns are not walked again, the cut one resumes"
        );
        assert!(walker.status().await.unwrap().older_keys_retirable());
    }

    #[tokio::test]
    async fn a_walk_under_a_newer_key_starts_over_and_a_held_lease_is_respected() {
        let (a, b, c) = (key(), key(), key());
        let store = filled(&ring(&[&a]), 10);
        without_unreadable(&store);
        let audited = Arc::new(Mutex::new(Vec::new()));
        let under_b = ring(&[&b, &a]);
        reencryption(&store, &under_b, leases(true), &audited)
            .run(Actor::System, false, &mut |_| {})
            .await
            .unwrap();
        let under_c = ring(&[&c, &b, &a]);
        let busy = reencryption(&store, &under_c, leases(false), &audited);
        assert_eq!(
            busy.run(Actor::System, true, &mut |_| {}).await.unwrap(),
            Walk::Busy
        );
        let walker = reencryption(&store, &under_c, leases(true), &audited);
        assert_eq!(walker.status().await.unwrap().remaining(), 10);
        let walk = walker.run(Actor::System, false, &mut |_| {}).await.unwrap();
        assert!(matches!(walk, Walk::Done(r) if r.rewritten == 10));
    }

    /// Drops the value no key opens.
    fn without_unreadable(store: &Memory) {
        store
            .rows
            .lock()
            .unwrap()
            .retain(|(column, _), _| *column != SealedColumn::UserEmails.as_str());
    }
}

//! The [`AuditLog`] port: an append-only, hash-chained log, read back page by page for
//! verification, and searched newest first for the admin console.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::audit::{Actor, AuditAction, AuditEntry, AuditRecord, ChainHash};

use crate::RepoError;

/// One stored row of the audit log as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every row is an entry; boxing it would allocate for each row of a page"
)]
pub enum AuditRow {
    /// A row that forms a valid entry (its digest is checked by the verifier, not here).
    Entry(AuditEntry),
    /// A row whose fields no longer parse (an actor or action edited into garbage). It counts
    /// as altered.
    Unreadable {
        /// Its sequence number.
        seq: i64,
    },
}

impl AuditRow {
    /// The sequence number of the row.
    pub fn seq(&self) -> i64 {
        match self {
            AuditRow::Entry(e) => e.seq,
            AuditRow::Unreadable { seq } => *seq,
        }
    }
}

/// What an audit search keeps: an entry matches when every field that is `Some` matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries by this actor only.
    pub actor: Option<Actor>,
    /// Entries of this action only.
    pub action: Option<AuditAction>,
    /// Entries at or after this instant.
    pub from: Option<Timestamp>,
    /// Entries before this instant.
    pub until: Option<Timestamp>,
}

/// The append-only, hash-chained audit log.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `record` after the current head: reads the head, computes the entry with
    /// [`AuditEntry::append_to`] and stores it, atomically. Concurrent appends (from any
    /// number of tasks or server processes) MUST serialise so that the chain never forks:
    /// sequence numbers stay gap-free and each entry links to exactly one predecessor.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Other`] when the entry could not be stored;
    /// then nothing was stored.
    async fn append(&self, record: AuditRecord) -> Result<AuditEntry, RepoError>;

    /// Rows with `seq > after_seq`, ascending, at most `limit` (capped at 1000).
    ///
    /// # Errors
    /// Only storage failures.
    async fn page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRow>, RepoError>;

    /// Rows matching `filter` with `seq < before_seq` (any `seq` when `None`), newest first
    /// (descending `seq`), at most `limit` (capped at 1000). The filter is applied to the
    /// stored fields; a matching row that no longer parses is returned as
    /// [`AuditRow::Unreadable`], never skipped.
    ///
    /// # Errors
    /// Only storage failures.
    async fn search(
        &self,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, RepoError>;

    /// The last entry's sequence number and digest, `None` when the log is empty.
    ///
    /// # Errors
    /// Only storage failures.
    async fn head(&self) -> Result<Option<(i64, ChainHash)>, RepoError>;
}

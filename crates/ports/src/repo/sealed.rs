//! Every value stored encrypted under the field key ring, column by column, so that a new key
//! can be rolled over all of them (re-encryption) with progress that survives a crash.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::user::EncryptedField;

use crate::RepoError;

/// A column that holds ciphertext under the key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// Each account's email address.
    UserEmails,
    /// Each account's TOTP secret (when enrolled).
    TotpSecrets,
    /// The new address an email change waits to confirm (in its sign-in token).
    PendingAddresses,
    /// Queued and recently delivered mail.
    QueuedMail,
    /// Who was at a site when (the visitor, sealed).
    VisitMappings,
    /// The visit token shown to a checked-in visitor.
    VisitTokens,
}

impl SealedColumn {
    /// Every sealed column, in the order re-encryption walks them.
    pub const ALL: [SealedColumn; 6] = [
        Self::UserEmails,
        Self::TotpSecrets,
        Self::PendingAddresses,
        Self::QueuedMail,
        Self::VisitMappings,
        Self::VisitTokens,
    ];

    /// The column's stored name (`table.column`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserEmails => "users.email_encrypted",
            Self::TotpSecrets => "users.totp_secret",
            Self::PendingAddresses => "login_tokens.email_encrypted",
            Self::QueuedMail => "mail_outbox.payload",
            Self::VisitMappings => "visit_mappings.sealed_visitor",
            Self::VisitTokens => "visit_tokens.sealed",
        }
    }

    /// The column with stored name `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One stored ciphertext and the key of its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The row's key as text (lower-case hex for byte keys); it names no person.
    pub row: String,
    /// The ciphertext.
    pub value: EncryptedField,
}

/// How far re-encryption of one column has come under one newest key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProgress {
    /// The column.
    pub column: SealedColumn,
    /// The newest key's id when this walk began; a walk under another key starts over.
    pub key_id: String,
    /// The last row handled (rows are walked in key order); `None`: none yet.
    pub cursor: Option<String>,
    /// Values looked at.
    pub examined: u64,
    /// Values rewritten under the newest key.
    pub rewritten: u64,
    /// Values no key of the ring decrypts (kept as they are, and reported).
    pub unreadable: u64,
    /// When the walk reached the column's end.
    pub finished_at: Option<Timestamp>,
}

impl ColumnProgress {
    /// A walk of `column` under `key_id` that has not begun.
    pub fn start(column: SealedColumn, key_id: &str) -> Self {
        Self {
            column,
            key_id: key_id.to_owned(),
            cursor: None,
            examined: 0,
            rewritten: 0,
            unreadable: 0,
            finished_at: None,
        }
    }
}

/// The encrypted columns, read in pages and rewritten value by value, and the walk's
/// progress.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SealedValues: Send + Sync {
    /// How many rows of `column` hold a value.
    ///
    /// # Errors
    /// Only storage failures.
    async fn count(&self, column: SealedColumn) -> Result<u64, RepoError>;

    /// Up to `limit` values of `column` (rows without one are skipped), in row-key order,
    /// starting after the row `after` (from the first when `None`).
    ///
    /// # Errors
    /// Only storage failures; [`RepoError::Corrupt`] when `after` is not a key of the column's
    /// form.
    async fn page(
        &self,
        column: SealedColumn,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<SealedValue>, RepoError>;

    /// Replaces the value of `column` at `row` with `new` if it still is `old` (a concurrent
    /// change wins: it was written under the newest key anyway). `Ok(false)` when the row
    /// changed or is gone.
    ///
    /// # Errors
    /// Only storage failures.
    async fn replace(
        &self,
        column: SealedColumn,
        row: String,
        old: EncryptedField,
        new: EncryptedField,
    ) -> Result<bool, RepoError>;

    /// The stored progress of `column`'s walk, if one began.
    ///
    /// # Errors
    /// Only storage failures; [`RepoError::Corrupt`] for an unreadable row.
    async fn progress(&self, column: SealedColumn) -> Result<Option<ColumnProgress>, RepoError>;

    /// Stores `progress` (replacing the column's earlier progress).
    ///
    /// # Errors
    /// Only storage failures.
    async fn save_progress(&self, progress: ColumnProgress) -> Result<(), RepoError>;
}

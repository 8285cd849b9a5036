//! The [`MailOutbox`] port: a durable outbox, written in the same transaction as what a message
//! announces, so a transport outage delays mail and loses none.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::MailId;
use wildid_domain::user::EncryptedField;

use crate::RepoError;

/// A message waiting in (or delivered from) the outbox. The payload (recipient, subject,
/// bodies) is encrypted with the key ring: it holds addresses and sign-in links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// The message's random id, fixed when it is queued; delivery marks it sent by this id.
    pub id: MailId,
    /// The encrypted message.
    pub payload: EncryptedField,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// Not to be tried before this instant.
    pub next_attempt_at: Timestamp,
    /// When the transport accepted it.
    pub sent_at: Option<Timestamp>,
    /// The last transport error (diagnostic text, no personal data).
    pub last_error: Option<String>,
}

/// The durable outbox: messages are written in the same transaction as what they announce
/// (see [`crate::repo::LoginTokenRepository::insert_with_mail`]) and delivered by a worker, so
/// a transport outage delays mail and loses none.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MailOutbox: Send + Sync {
    /// Queues a message on its own.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists.
    async fn enqueue(&self, mail: &QueuedMail) -> Result<(), RepoError>;

    /// Claims up to `limit` unsent messages due at `now` (oldest first) by moving their next
    /// attempt to `lease_until`, and returns them. Each due message is claimed by exactly one of
    /// any number of concurrent callers (several server processes); one whose delivery is never
    /// reported is claimed again once the lease ends, so a crash loses nothing.
    ///
    /// # Errors
    /// Only storage failures.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, RepoError>;

    /// Records delivery.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn mark_sent(&self, id: MailId, at: Timestamp) -> Result<(), RepoError>;

    /// Records a failed attempt and when to try again.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn reschedule(
        &self,
        id: MailId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), RepoError>;

    /// Number of unsent messages.
    ///
    /// # Errors
    /// Only storage failures.
    async fn pending(&self) -> Result<u64, RepoError>;

    /// When the oldest unsent message was queued (`None` when every message is sent): how long
    /// mail has been waiting, for the operator's metrics.
    ///
    /// # Errors
    /// Only storage failures.
    async fn oldest_pending(&self) -> Result<Option<Timestamp>, RepoError>;

    /// Deletes messages delivered before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_sent_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

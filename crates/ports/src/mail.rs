//! Sending mail.

use async_trait::async_trait;
use wildid_domain::mail::OutgoingMail;

/// A message could not be handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Temporary: the transport is down or busy. The message may be retried later.
    #[error("mail transport unavailable: {0}")]
    Unavailable(String),
    /// Permanent: the transport refused this message. Retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
}

/// Hands messages to a transport (SMTP server, outbox directory...).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Delivers `mail` to the transport. `Ok` means the transport accepted responsibility for
    /// it (an SMTP server queued it, a file was durably written); anything short of that MUST be
    /// an error, so that the caller keeps the message and retries.
    ///
    /// # Errors
    /// [`MailError::Unavailable`] for temporary failures, [`MailError::Rejected`] for
    /// permanent ones.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

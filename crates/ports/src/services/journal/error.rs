//! Why a journal request was refused ([`JournalError`]).

use crate::RepoError;

/// Why a journal request was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The person has no such entry (or it is someone else's).
    #[error("no such identification")]
    NotFound,
    /// The photo alone takes more than an entry may.
    #[error("the photo takes {bytes} bytes; an entry may keep at most {max}")]
    PhotoTooLarge {
        /// What it takes.
        bytes: u64,
        /// The most an entry may take.
        max: u64,
    },
    /// The person's photos already take (nearly) all of their allowance.
    #[error("the journal is full: {used} of {allowance} bytes are taken")]
    Full {
        /// Bytes taken now.
        used: u64,
        /// The allowance.
        allowance: u64,
    },
    /// The page cursor was not one this server gave to this person.
    #[error("the page cursor is not valid")]
    InvalidCursor,
    /// The feedback's text was refused.
    #[error(transparent)]
    Feedback(#[from] wildid_domain::identification::FeedbackError),
    /// A dependency failed.
    #[error("journal unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for JournalError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => JournalError::NotFound,
            other => JournalError::Unavailable(other.to_string()),
        }
    }
}

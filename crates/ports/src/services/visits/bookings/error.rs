//! Why a booking request or change was refused ([`BookingsError`]).

use wildid_domain::visits::{BookingError, RequestError};

use crate::RepoError;

/// Why a booking request or change was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingsError {
    /// No such site.
    #[error("no such site")]
    UnknownSite,
    /// No such service type.
    #[error("no such service")]
    UnknownService,
    /// The request breaks a rule (closed site, time, description).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Every place of the slot is taken.
    #[error("this visit is fully booked; choose another time")]
    Full,
    /// The visitor already has a place in this slot.
    #[error("you have already booked this visit")]
    AlreadyBooked,
    /// No such booking (or, for a visitor, someone else's).
    #[error("no such booking")]
    NotFound,
    /// The change breaks a rule of the booking's life.
    #[error(transparent)]
    Refused(#[from] BookingError),
    /// Someone changed the booking meanwhile; reload it and decide again.
    #[error("this booking was changed meanwhile; reload it and try again")]
    Changed,
    /// The text presented at check-in is not a visit token.
    #[error("a visit token is 32 letters and digits (0-9 and a-f)")]
    InvalidToken,
    /// The token presented is not this visit's (or the visit has none any more).
    #[error("this is not the token of this visit")]
    WrongToken,
    /// The assignee is not an active account.
    #[error("no such worker")]
    UnknownAssignee,
    /// A dependency failed.
    #[error("bookings unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for BookingsError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => BookingsError::NotFound,
            RepoError::Conflict => BookingsError::Changed,
            other => BookingsError::Unavailable(other.to_string()),
        }
    }
}

//! Why a booking, or a change to one, was refused.

use super::status::{Action, BookingStatus};
use crate::text::TextError;
use crate::visits::slot::SlotError;

/// A transition the rules forbid. Each names why, for the person who tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The booking's status does not allow the action.
    #[error("a {status} booking cannot be {action}")]
    WrongState {
        /// Where the booking stands.
        status: BookingStatus,
        /// What was tried.
        action: Action,
    },
    /// Only workers and admins claim, check in and complete.
    #[error("only workers can do this")]
    NotAWorker,
    /// Only admins reassign.
    #[error("only admins can reassign a booking")]
    NotAnAdmin,
    /// A booking can be handed only to a worker or an admin.
    #[error("a booking can be assigned only to a worker")]
    AssigneeNotAWorker,
    /// Another worker holds the booking.
    #[error("this booking is claimed by another worker")]
    ClaimedByOther,
    /// Only the visitor who booked (or an admin) cancels.
    #[error("only the visitor who made this booking can cancel it")]
    NotTheOwner,
    /// The visit has started; it can no longer be cancelled.
    #[error("the visit has started and can no longer be cancelled")]
    Started,
    /// The visit's time is over.
    #[error("the visit's time is over")]
    Over,
    /// Check-in opens shortly before the start.
    #[error("check-in opens 30 minutes before the visit starts")]
    TooEarly,
}

/// Why a new booking was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The site takes no bookings now.
    #[error("this site is closed and takes no bookings")]
    SiteClosed,
    /// The time is not bookable.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// The description is too long.
    #[error("description: {0}")]
    Description(TextError),
}

/// A stored row that does not form a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent booking record: {0}")]
pub struct InvalidBooking(pub &'static str);

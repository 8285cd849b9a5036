//! Where a booking stands ([`BookingStatus`]) and what someone tried to do to it
//! ([`Action`]).

use std::fmt;

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Made by a visitor, waiting for a worker.
    Requested,
    /// A worker took it and will run the visit.
    Claimed,
    /// The visitor arrived: the worker accepted their visit token.
    CheckedIn,
    /// The visit happened.
    Completed,
    /// Called off before it started.
    Cancelled,
}

impl BookingStatus {
    /// Every status, in the order of a booking's life.
    pub const ALL: [BookingStatus; 5] = [
        BookingStatus::Requested,
        BookingStatus::Claimed,
        BookingStatus::CheckedIn,
        BookingStatus::Completed,
        BookingStatus::Cancelled,
    ];

    /// Stable name (storage, URLs, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Requested => "requested",
            BookingStatus::Claimed => "claimed",
            BookingStatus::CheckedIn => "checked_in",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    /// Inverse of [`BookingStatus::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the booking still holds a place in its slot.
    pub fn holds_a_place(self) -> bool {
        self != BookingStatus::Cancelled
    }

    /// Whether a worker holds the booking in this status.
    pub(super) fn has_worker(self) -> bool {
        matches!(
            self,
            BookingStatus::Claimed | BookingStatus::CheckedIn | BookingStatus::Completed
        )
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BookingStatus::CheckedIn => "checked in",
            other => other.as_str(),
        })
    }
}

/// What someone tried to do to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A worker takes a requested booking.
    Claim,
    /// An admin hands a claimed booking to another worker.
    Reassign,
    /// The claiming worker accepts the visitor's token.
    CheckIn,
    /// The claiming worker closes the visit.
    Complete,
    /// The visitor (or an admin) calls it off.
    Cancel,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Claim => "claimed",
            Action::Reassign => "reassigned",
            Action::CheckIn => "checked in",
            Action::Complete => "completed",
            Action::Cancel => "cancelled",
        })
    }
}

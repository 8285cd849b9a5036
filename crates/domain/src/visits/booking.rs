//! A visitor's booking and its life: requested, claimed by a worker, checked in, completed, or
//! cancelled before the visit starts.
//!
//! ```text
//! requested --claim--> claimed --check in--> checked in --complete--> completed
//!     |                  |  ^ reassign (admin)     ^ reassign (admin)
//!     +----cancel--------+--> cancelled (before the start)
//! ```
//!
//! Every transition is a function from a booking to a new booking or a [`BookingError`]; the
//! booking it was called on never changes. Storage applies a transition only if the stored
//! booking is still in the state the transition started from ([`Transition::from`]), so two
//! workers cannot both claim one booking.
//!
//! Its files, by what they hold:
//!
//! - `status`: where a booking stands and what was tried ([`BookingStatus`], [`Action`]);
//! - `record`: the stored booking, how one is requested and restored ([`Booking`],
//!   [`BookingRecord`]);
//! - `transition`: the moves of its life ([`Transition`], [`Actor`]);
//! - `error`: why a request or a move was refused ([`BookingError`], [`RequestError`],
//!   [`InvalidBooking`]).

mod error;
#[cfg(test)]
mod fixture;
mod record;
mod status;
mod transition;

pub use error::{BookingError, InvalidBooking, RequestError};
pub use record::{Booking, BookingRecord};
pub use status::{Action, BookingStatus};
pub use transition::{Actor, Transition};

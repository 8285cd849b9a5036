//! Field visits: wildlife sites, the kinds of visit offered there, bookings that workers claim,
//! check in and complete, ephemeral visit tokens, and the exposure notifications that reach the
//! people who were at a site when something was found there.

mod booking;
mod exposure;
mod site;
mod slot;
mod token;

pub use booking::{
    Action, Actor, Booking, BookingError, BookingRecord, BookingStatus, InvalidBooking,
    RequestError, Transition,
};
pub use exposure::{
    EXPOSURE_FUTURE_TOLERANCE_MINUTES, EXPOSURE_NOTE_MAX_CHARS, EXPOSURE_WINDOW_MAX_DAYS,
    ExposureError, ExposureReport, Notification, VisitMapping,
};
pub use site::{
    DESCRIPTION_MAX_CHARS, MAX_CAPACITY, MAX_DURATION_MINUTES, NAME_MAX_CHARS, SLOT_MINUTES,
    ServiceType, Site, SiteError,
};
pub use slot::{BOOKING_HORIZON_DAYS, CHECK_IN_EARLY_MINUTES, Slot, SlotError};
pub use token::{InvalidVisitToken, VisitToken};

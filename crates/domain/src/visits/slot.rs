//! When a visit happens: a slot of a service, starting on a whole quarter hour.

use chrono::Timelike;

use super::site::{MAX_DURATION_MINUTES, SLOT_MINUTES};
use crate::{Duration, Timestamp};

/// How far ahead a visit may be booked, in days.
pub const BOOKING_HORIZON_DAYS: i64 = 366;
/// How long before its start a visit may be checked in, in minutes.
pub const CHECK_IN_EARLY_MINUTES: i64 = 30;

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The start is not on a whole quarter hour (seconds included).
    #[error("a visit starts on a whole quarter hour (:00, :15, :30 or :45)")]
    Misaligned,
    /// The length is not whole quarter hours within the limit.
    #[error("a visit lasts whole quarter hours, at most {MAX_DURATION_MINUTES} minutes")]
    Length,
    /// The start has passed.
    #[error("this time has passed; choose a later one")]
    InPast,
    /// The start is beyond the booking horizon.
    #[error("visits can be booked at most {BOOKING_HORIZON_DAYS} days ahead")]
    TooFarAhead,
}

/// A visit's time: its start and its length. Built only on a quarter hour and for whole
/// quarter hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    start: Timestamp,
    minutes: u32,
}

impl Slot {
    /// The slot starting at `start` and lasting `minutes`, whatever the time now (as stored).
    ///
    /// # Errors
    /// [`SlotError::Misaligned`] or [`SlotError::Length`].
    pub fn new(start: Timestamp, minutes: u32) -> Result<Self, SlotError> {
        let aligned = start.minute().is_multiple_of(SLOT_MINUTES)
            && start.second() == 0
            && start.nanosecond() == 0;
        if !aligned {
            return Err(SlotError::Misaligned);
        }
        if minutes == 0 || minutes > MAX_DURATION_MINUTES || !minutes.is_multiple_of(SLOT_MINUTES) {
            return Err(SlotError::Length);
        }
        Ok(Self { start, minutes })
    }

    /// The slot if it can be booked at `now`: it starts after `now` and within
    /// [`BOOKING_HORIZON_DAYS`].
    ///
    /// # Errors
    /// [`SlotError`] naming what is wrong.
    pub fn bookable(start: Timestamp, minutes: u32, now: Timestamp) -> Result<Self, SlotError> {
        let slot = Self::new(start, minutes)?;
        if start <= now {
            return Err(SlotError::InPast);
        }
        if start > now + Duration::days(BOOKING_HORIZON_DAYS) {
            return Err(SlotError::TooFarAhead);
        }
        Ok(slot)
    }

    /// When the visit starts.
    pub fn start(self) -> Timestamp {
        self.start
    }

    /// How long it lasts, in minutes.
    pub fn minutes(self) -> u32 {
        self.minutes
    }

    /// When the visit ends.
    pub fn end(self) -> Timestamp {
        self.start + Duration::minutes(i64::from(self.minutes))
    }

    /// Whether a visitor may be checked in at `now`: from [`CHECK_IN_EARLY_MINUTES`] before
    /// the start until the end. A visit token is accepted only then.
    pub fn open_for_check_in(self, now: Timestamp) -> bool {
        now >= self.start - Duration::minutes(CHECK_IN_EARLY_MINUTES) && now <= self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2027, 3, 1, h, m, s).unwrap()
    }

    #[test]
    fn slots_start_on_quarter_hours_and_last_whole_quarters() {
        assert!(Slot::new(at(9, 15, 0), 90).is_ok());
        assert_eq!(Slot::new(at(9, 10, 0), 90), Err(SlotError::Misaligned));
        assert_eq!(Slot::new(at(9, 15, 1), 90), Err(SlotError::Misaligned));
        assert_eq!(Slot::new(at(9, 15, 0), 20), Err(SlotError::Length));
        assert_eq!(Slot::new(at(9, 15, 0), 0), Err(SlotError::Length));
    }

    #[test]
    fn only_future_slots_within_the_horizon_are_bookable() {
        let now = at(9, 0, 0);
        assert_eq!(Slot::bookable(now, 60, now), Err(SlotError::InPast));
        assert!(Slot::bookable(at(9, 15, 0), 60, now).is_ok());
        let far = now + Duration::days(BOOKING_HORIZON_DAYS) + Duration::minutes(15);
        assert_eq!(Slot::bookable(far, 60, now), Err(SlotError::TooFarAhead));
    }

    #[test]
    fn check_in_opens_half_an_hour_early_and_closes_at_the_end() {
        let slot = Slot::new(at(10, 0, 0), 60).unwrap();
        assert!(!slot.open_for_check_in(at(9, 29, 59)));
        assert!(slot.open_for_check_in(at(9, 30, 0)));
        assert!(slot.open_for_check_in(at(11, 0, 0)));
        assert!(!slot.open_for_check_in(at(11, 0, 1)));
    }
}

//! A booking as stored ([`BookingRecord`]) and the [`Booking`] that keeps it consistent with
//! its status: how one is requested, restored from storage and read.

use super::error::{InvalidBooking, RequestError};
use super::status::BookingStatus;
use crate::Timestamp;
use crate::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use crate::text::PlainText;
use crate::visits::site::{DESCRIPTION_MAX_CHARS, ServiceType, Site, optional};
use crate::visits::slot::Slot;

/// Everything a booking holds, as stored. [`Booking::restore`] checks it is consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRecord {
    /// The booking's random id, fixed when it is requested.
    pub id: BookingId,
    /// The visitor who booked.
    pub visitor: UserId,
    /// The site the visit is at.
    pub site: SiteId,
    /// The kind of visit booked (its length and the places a slot offers).
    pub service: ServiceTypeId,
    /// When the visit starts and ends.
    pub slot: Slot,
    /// The visitor's note, cleaned.
    pub description: Option<PlainText>,
    /// Where it stands.
    pub status: BookingStatus,
    /// The worker who holds it (kept when a claimed booking is cancelled).
    pub worker: Option<UserId>,
    /// When it was booked.
    pub created_at: Timestamp,
    /// When the visitor was checked in.
    pub checked_in_at: Option<Timestamp>,
    /// When the visit was completed.
    pub completed_at: Option<Timestamp>,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
}

/// A visit booking whose fields always agree with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking(pub(super) BookingRecord);

impl Booking {
    /// A new booking by `visitor` of `service` at `site` starting at `start`, made at `now`.
    /// `description` may be blank.
    ///
    /// # Errors
    /// [`RequestError`] for a closed site, a time that cannot be booked, or a description
    /// that is too long.
    pub fn request(
        id: BookingId,
        visitor: UserId,
        site: &Site,
        service: &ServiceType,
        start: Timestamp,
        description: &str,
        now: Timestamp,
    ) -> Result<Self, RequestError> {
        if !site.is_active() {
            return Err(RequestError::SiteClosed);
        }
        let slot = Slot::bookable(start, service.duration_minutes(), now)?;
        let description =
            optional(description, DESCRIPTION_MAX_CHARS).map_err(RequestError::Description)?;
        Ok(Self(BookingRecord {
            id,
            visitor,
            site: site.id(),
            service: service.id(),
            slot,
            description,
            status: BookingStatus::Requested,
            worker: None,
            created_at: now,
            checked_in_at: None,
            completed_at: None,
            cancelled_at: None,
        }))
    }

    /// A booking read back from storage.
    ///
    /// # Errors
    /// [`InvalidBooking`] when the fields disagree with the status.
    pub fn restore(record: BookingRecord) -> Result<Self, InvalidBooking> {
        let s = record.status;
        if s.has_worker() && record.worker.is_none() {
            return Err(InvalidBooking("a claimed booking has no worker"));
        }
        if s == BookingStatus::Requested && record.worker.is_some() {
            return Err(InvalidBooking("a requested booking has a worker"));
        }
        let checked_in = matches!(s, BookingStatus::CheckedIn | BookingStatus::Completed);
        if record.checked_in_at.is_some() != checked_in {
            return Err(InvalidBooking("check-in time and status disagree"));
        }
        if record.completed_at.is_some() != (s == BookingStatus::Completed) {
            return Err(InvalidBooking("completion time and status disagree"));
        }
        if record.cancelled_at.is_some() != (s == BookingStatus::Cancelled) {
            return Err(InvalidBooking("cancellation time and status disagree"));
        }
        Ok(Self(record))
    }

    /// What the booking holds.
    pub fn record(&self) -> &BookingRecord {
        &self.0
    }

    /// The booking's random id ([`BookingRecord::id`]).
    pub fn id(&self) -> BookingId {
        self.0.id
    }

    /// The visitor who booked.
    pub fn visitor(&self) -> UserId {
        self.0.visitor
    }

    /// Where the booking stands.
    pub fn status(&self) -> BookingStatus {
        self.0.status
    }

    /// The worker who holds it.
    pub fn worker(&self) -> Option<UserId> {
        self.0.worker
    }

    /// When the visit happens.
    pub fn slot(&self) -> Slot {
        self.0.slot
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{booking, site, t, user, walk};
    use super::*;
    use crate::visits::slot::SlotError;

    #[test]
    fn a_closed_site_or_a_bad_time_takes_no_booking() {
        let id = BookingId::from_random([1; 16]);
        let closed = Booking::request(id, user(1), &site(false), &walk(), t(10, 0), "", t(8, 0));
        assert_eq!(closed, Err(RequestError::SiteClosed));
        let past = Booking::request(id, user(1), &site(true), &walk(), t(7, 0), "", t(8, 0));
        assert_eq!(past, Err(RequestError::Slot(SlotError::InPast)));
        let long = "x".repeat(DESCRIPTION_MAX_CHARS + 1);
        let note = Booking::request(id, user(1), &site(true), &walk(), t(10, 0), &long, t(8, 0));
        assert!(matches!(note, Err(RequestError::Description(_))));
    }

    #[test]
    fn restore_refuses_records_that_disagree_with_their_status() {
        let mut record = booking().record().clone();
        record.status = BookingStatus::Claimed;
        assert!(Booking::restore(record.clone()).is_err());
        record.worker = Some(user(9));
        assert!(Booking::restore(record.clone()).is_ok());
        record.status = BookingStatus::Completed;
        assert!(Booking::restore(record).is_err());
    }
}

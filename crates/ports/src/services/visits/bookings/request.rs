//! A visitor books a visit: the site and the kind of visit looked up, the note cleaned, a
//! fresh visit token sealed, the place taken atomically with the booking, and the booking
//! audited.

use wildid_domain::Timestamp;
use wildid_domain::audit::{self, AuditDetails, Origin};
use wildid_domain::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use wildid_domain::text::TextError;
use wildid_domain::visits::{Booking, DESCRIPTION_MAX_CHARS, RequestError, VisitToken};

use super::{Bookings, BookingsError};
use crate::RepoError;
use crate::random::random_array;
use crate::repo::Booked;
use crate::text::clean;

/// A booking as a visitor asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingInput {
    /// The site to visit.
    pub site: SiteId,
    /// The kind of visit to book (its length and the places a slot offers come from it).
    pub service: ServiceTypeId,
    /// When it starts.
    pub start: Timestamp,
    /// A note for the guide; blank for none.
    pub description: String,
}

impl Bookings {
    /// `visitor` books a visit.
    ///
    /// # Errors
    /// [`BookingsError`] naming what is wrong.
    pub async fn book(
        &self,
        visitor: UserId,
        input: &BookingInput,
        origin: Option<Origin>,
    ) -> Result<Booking, BookingsError> {
        let site = self.sites.get(input.site).await.map_err(|e| match e {
            RepoError::NotFound => BookingsError::UnknownSite,
            other => other.into(),
        })?;
        let service = self
            .services
            .get(input.service)
            .await
            .map_err(|e| match e {
                RepoError::NotFound => BookingsError::UnknownService,
                other => other.into(),
            })?;
        let no_randomness = |_| BookingsError::Unavailable("no randomness".into());
        let id = BookingId::from_random(random_array(self.random.as_ref()).map_err(no_randomness)?);
        // The visit token: 128 fresh bits, derived from nothing, stored only encrypted.
        let token =
            VisitToken::from_random(random_array(self.random.as_ref()).map_err(no_randomness)?);
        let sealed = self
            .cipher
            .encrypt(token.to_string().as_bytes())
            .map_err(|e| BookingsError::Unavailable(e.to_string()))?;
        // Markup goes before the domain bounds the text (as for every text users write).
        let description = match clean(&input.description, DESCRIPTION_MAX_CHARS) {
            Ok(text) => text.as_str().to_owned(),
            Err(TextError::Empty) => String::new(),
            Err(why) => return Err(RequestError::Description(why).into()),
        };
        let now = self.clock.now();
        let booking =
            Booking::request(id, visitor, &site, &service, input.start, &description, now)?;
        match self
            .bookings
            .book(&booking, service.capacity(), &sealed)
            .await
        {
            Ok(Booked::Stored) => {}
            Ok(Booked::Full) => return Err(BookingsError::Full),
            // A duplicate is the visitor's own concurrent request winning the race for the
            // slot (a random id cannot repeat).
            Ok(Booked::AlreadyBooked) | Err(RepoError::Duplicate) => {
                return Err(BookingsError::AlreadyBooked);
            }
            Err(other) => return Err(other.into()),
        }
        let details = AuditDetails::new()
            .with("site", site.id().to_string())
            .with("service", service.id().to_string());
        self.record(visitor, audit::Action::BookingMade, id, details, origin)
            .await;
        Ok(booking)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::repo::MockBookingRepository;
    use crate::services::fixtures::t0;
    use crate::services::visits::bookings::fixture::{input, visitor, world};
    use std::sync::Mutex;

    #[tokio::test]
    async fn a_booking_is_cleaned_stored_with_the_capacity_and_audited() {
        let mut repo = MockBookingRepository::new();
        repo.expect_book()
            .withf(|b, capacity, _| {
                *capacity == 4
                    && b.record().description.as_ref().map(|d| d.as_str()) == Some("Two of us")
            })
            .times(1)
            .returning(|_, _, _| Ok(Booked::Stored));
        let (bookings, actions) = world(repo);
        let booked = bookings.book(visitor(1).id, &input(), None).await.unwrap();
        assert_eq!(
            booked.status(),
            wildid_domain::visits::BookingStatus::Requested
        );
        assert_eq!(*actions.lock().unwrap(), ["visits.booking.made"]);
    }

    #[tokio::test]
    async fn a_full_slot_a_second_place_or_an_unknown_site_is_refused_and_not_audited() {
        let mut repo = MockBookingRepository::new();
        let answers = Mutex::new(vec![
            Err(RepoError::Duplicate),
            Ok(Booked::AlreadyBooked),
            Ok(Booked::Full),
        ]);
        repo.expect_book()
            .returning(move |_, _, _| answers.lock().unwrap().pop().unwrap());
        let (bookings, actions) = world(repo);
        let me = visitor(1).id;
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::Full)
        );
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::AlreadyBooked)
        );
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::AlreadyBooked)
        );
        let mut elsewhere = input();
        elsewhere.site = SiteId::from_random([9; 16]);
        assert_eq!(
            bookings.book(me, &elsewhere, None).await,
            Err(BookingsError::UnknownSite)
        );
        let mut past = input();
        past.start = t0() - chrono::TimeDelta::hours(1);
        assert_eq!(
            bookings.book(me, &past, None).await,
            Err(BookingsError::Request(RequestError::Slot(
                wildid_domain::visits::SlotError::InPast
            )))
        );
        assert!(actions.lock().unwrap().is_empty());
    }
}

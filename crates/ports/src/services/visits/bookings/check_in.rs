//! Visit tokens: shown only to the booking's visitor, checked in constant time when the worker
//! holding the booking checks the visitor in, and spent by it; the visit mapping for exposure
//! notifications is written in the same step.

use subtle::ConstantTimeEq as _;
use wildid_domain::audit::{self, Origin};
use wildid_domain::ids::{BookingId, UserId};
use wildid_domain::visits::{Actor, Booking, VisitMapping, VisitToken};

use super::{Bookings, BookingsError};

/// The purpose under which visit tokens are digested for the visit mappings
/// ([`KeyedDigest::digest`](crate::crypto::KeyedDigest::digest)).
const TOKEN_DIGEST_PURPOSE: &str = "visit-token";

impl Bookings {
    /// The visit token of `visitor`'s booking, while it awaits check-in (`None` afterwards).
    ///
    /// # Errors
    /// [`BookingsError::NotFound`] for a missing booking or someone else's;
    /// [`BookingsError::Unavailable`] when the token cannot be decrypted.
    pub async fn visit_token(
        &self,
        visitor: UserId,
        id: BookingId,
        origin: Option<Origin>,
    ) -> Result<Option<VisitToken>, BookingsError> {
        let booking = self.bookings.get(id).await?;
        if booking.visitor() != visitor {
            return Err(self.someone_elses(visitor, id, origin).await);
        }
        self.token_of(id).await
    }

    async fn token_of(&self, id: BookingId) -> Result<Option<VisitToken>, BookingsError> {
        let Some(sealed) = self.bookings.sealed_token(id).await? else {
            return Ok(None);
        };
        let unreadable = || BookingsError::Unavailable("a visit token cannot be decrypted".into());
        let plain = self.cipher.decrypt(&sealed).map_err(|_| unreadable())?;
        let text = std::str::from_utf8(plain.expose()).map_err(|_| unreadable())?;
        VisitToken::parse(text).map(Some).map_err(|_| unreadable())
    }

    /// The worker holding a booking checks its visitor in with the visit token the visitor
    /// shows (typed or scanned), while the visit is open for check-in. The token is compared
    /// in constant time and is spent by the check-in.
    ///
    /// # Errors
    /// [`BookingsError::InvalidToken`] for text that is no token, [`BookingsError::WrongToken`]
    /// for another visit's token; otherwise as [`Bookings::step`].
    pub async fn check_in(
        &self,
        actor: Actor,
        id: BookingId,
        presented: &str,
        origin: Option<Origin>,
    ) -> Result<Booking, BookingsError> {
        let presented = VisitToken::parse(presented).map_err(|_| BookingsError::InvalidToken)?;
        let now = self.clock.now();
        let booking = self.get(actor, id, origin.clone()).await?;
        let transition = booking.check_in(actor, now)?;
        let expected = self.token_of(id).await?.ok_or(BookingsError::WrongToken)?;
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(BookingsError::WrongToken);
        }
        // Who was there, for exposure notifications: the visitor only as ciphertext, the
        // token only as a keyed digest; there from the check-in to the visit's planned end.
        let slot = booking.slot();
        let mapping = VisitMapping {
            token_digest: self
                .digest
                .digest(TOKEN_DIGEST_PURPOSE, expected.as_bytes()),
            sealed_visitor: self
                .cipher
                .encrypt(booking.visitor().to_string().as_bytes())
                .map_err(|e| BookingsError::Unavailable(e.to_string()))?,
            site: booking.record().site,
            visit_start: now,
            visit_end: slot.end().max(now),
            created_at: now,
        };
        self.store(
            actor,
            id,
            origin,
            audit::Action::VisitorCheckedIn,
            transition,
            Some(&mapping),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::crypto::FieldCipher;
    use crate::repo::MockBookingRepository;
    use crate::services::fixtures::t0;
    use crate::services::visits::bookings::fixture::{key_ring, site, visitor, walk, world_with};
    use std::sync::Arc;
    use wildid_domain::role::Role;

    #[tokio::test]
    async fn check_in_needs_this_visit_s_token_compared_whole() {
        let cipher = key_ring();
        let ranger = Actor {
            id: UserId::from_random([7; 16]),
            role: Role::Worker,
        };
        let requested = Booking::request(
            BookingId::from_random([5; 16]),
            visitor(2).id,
            &site(),
            &walk(),
            t0() + chrono::TimeDelta::minutes(15),
            "",
            t0(),
        )
        .unwrap();
        let claimed = requested.claim(ranger, t0()).unwrap().to;
        let token = VisitToken::from_random([0x5a; 16]);
        let sealed = cipher.encrypt(token.to_string().as_bytes()).unwrap();
        let mut repo = MockBookingRepository::new();
        repo.expect_get().returning(move |_| Ok(claimed.clone()));
        repo.expect_sealed_token()
            .returning(move |_| Ok(Some(sealed.clone())));
        let visitor_id = visitor(2).id;
        let ring = Arc::clone(&cipher);
        repo.expect_check_in()
            .withf(move |t, m| {
                let sealed = ring.decrypt(&m.sealed_visitor).unwrap();
                t.to.status() == wildid_domain::visits::BookingStatus::CheckedIn
                    && sealed.expose() == visitor_id.to_string().as_bytes()
                    && m.token_digest != [0; 32]
                    && m.visit_start == t0()
                    && m.visit_end == t0() + chrono::TimeDelta::minutes(75)
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let (bookings, actions) = world_with(repo, cipher);
        let id = BookingId::from_random([5; 16]);
        assert_eq!(
            bookings.check_in(ranger, id, "not a token", None).await,
            Err(BookingsError::InvalidToken)
        );
        let mut other = *token.as_bytes();
        other[15] ^= 1;
        assert_eq!(
            bookings
                .check_in(
                    ranger,
                    id,
                    &VisitToken::from_random(other).to_string(),
                    None
                )
                .await,
            Err(BookingsError::WrongToken),
            "one bit off is another token"
        );
        assert!(actions.lock().unwrap().is_empty());
        let typed = token.grouped().to_uppercase();
        let done = bookings.check_in(ranger, id, &typed, None).await.unwrap();
        assert_eq!(
            done.status(),
            wildid_domain::visits::BookingStatus::CheckedIn
        );
        assert_eq!(*actions.lock().unwrap(), ["visits.booking.checked_in"]);
    }
}

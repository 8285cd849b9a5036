//! What each role sees of bookings: a visitor only their own (someone else's is
//! [`BookingsError::NotFound`], and the refusal is audited as `access.refused`), workers and
//! admins all; the listings, and the places left in a slot.

use wildid_domain::Timestamp;
use wildid_domain::audit::{self, AuditDetails, Origin};
use wildid_domain::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use wildid_domain::role::Role;
use wildid_domain::visits::{Actor, Booking};

use super::{Bookings, BookingsError};
use crate::RepoError;

/// The most bookings one listing returns.
pub const MAX_LISTED: u32 = 200;

impl Bookings {
    /// `actor`'s view of one booking, asked from `origin`.
    ///
    /// # Errors
    /// [`BookingsError::NotFound`] for a missing booking or, for a visitor, someone else's (the
    /// refusal then audited).
    pub async fn get(
        &self,
        actor: Actor,
        id: BookingId,
        origin: Option<Origin>,
    ) -> Result<Booking, BookingsError> {
        let booking = self.bookings.get(id).await?;
        if actor.role == Role::Visitor && booking.visitor() != actor.id {
            return Err(self.someone_elses(actor.id, id, origin).await);
        }
        Ok(booking)
    }

    /// Audits that `asker` named someone else's booking (ASVS 16.3.2) and returns the answer
    /// they get: the one a missing booking gets.
    pub(super) async fn someone_elses(
        &self,
        asker: UserId,
        id: BookingId,
        origin: Option<Origin>,
    ) -> BookingsError {
        self.record(
            asker,
            audit::Action::AccessRefused,
            id,
            AuditDetails::new().with("reason", "not_owner"),
            origin,
        )
        .await;
        BookingsError::NotFound
    }

    /// `visitor`'s bookings, latest start first.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn of_visitor(&self, visitor: UserId) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.for_visitor(visitor, MAX_LISTED).await?)
    }

    /// Requested bookings not over yet, soonest first: what workers can claim.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn open(&self) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.open(self.clock.now(), MAX_LISTED).await?)
    }

    /// The bookings `worker` holds, soonest first.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn held_by(&self, worker: UserId) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.held_by(Some(worker), MAX_LISTED).await?)
    }

    /// Every booking a worker holds (claimed or checked in), soonest first: what an admin may
    /// hand to another worker.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn in_progress(&self) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.held_by(None, MAX_LISTED).await?)
    }

    /// Places left in the slot of `service` at `site` starting at `start`.
    ///
    /// # Errors
    /// [`BookingsError::UnknownService`], [`BookingsError::Unavailable`].
    pub async fn places_left(
        &self,
        site: SiteId,
        service: ServiceTypeId,
        start: Timestamp,
    ) -> Result<u32, BookingsError> {
        let capacity = self
            .services
            .get(service)
            .await
            .map_err(|e| match e {
                RepoError::NotFound => BookingsError::UnknownService,
                other => other.into(),
            })?
            .capacity();
        let taken = self.bookings.places_taken(site, service, start).await?;
        Ok(capacity.saturating_sub(taken))
    }
}

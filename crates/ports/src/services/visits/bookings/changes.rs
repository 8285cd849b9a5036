//! The changes of a booking's life after it is made: claim, complete, cancel and reassign. The
//! domain decides ([`Booking`]); the change is stored only if nobody changed the booking
//! meanwhile, and audited with the status it left.

use wildid_domain::audit::{self, AuditDetails, AuditRecord, Origin};
use wildid_domain::ids::{BookingId, UserId};
use wildid_domain::visits::{Actor, Booking, BookingError, Transition, VisitMapping};

use super::{Bookings, BookingsError};
use crate::RepoError;

/// A step of a booking's life that needs nothing but who takes it ([`Bookings::step`]; a
/// check-in also needs the visit token: [`Bookings::check_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A worker takes a requested booking.
    Claim,
    /// The worker holding it closes the visit.
    Complete,
    /// The visitor (or an admin) calls it off before it starts.
    Cancel,
}

impl Bookings {
    /// Moves a booking one step of its life: a worker claims it, the worker holding it
    /// completes the visit, the visitor (or an admin) cancels it before it starts (its place
    /// is given back).
    ///
    /// # Errors
    /// [`BookingsError`] naming what is wrong.
    pub async fn step(
        &self,
        actor: Actor,
        id: BookingId,
        step: Step,
        origin: Option<Origin>,
    ) -> Result<Booking, BookingsError> {
        let now = self.clock.now();
        let action = match step {
            Step::Claim => audit::Action::BookingClaimed,
            Step::Complete => audit::Action::BookingCompleted,
            Step::Cancel => audit::Action::BookingCancelled,
        };
        let decide = |b: &Booking| match step {
            Step::Claim => b.claim(actor, now),
            Step::Complete => b.complete(actor, now),
            Step::Cancel => b.cancel(actor, now),
        };
        self.change(actor, id, origin, action, decide).await
    }

    /// An admin hands a booking to another worker.
    ///
    /// # Errors
    /// [`BookingsError::UnknownAssignee`] when `assignee` is not an active account; otherwise
    /// as the other changes.
    pub async fn reassign(
        &self,
        actor: Actor,
        id: BookingId,
        assignee: UserId,
        origin: Option<Origin>,
    ) -> Result<Booking, BookingsError> {
        let user = match self.users.get(assignee).await {
            Ok(user) if user.is_active() => user,
            Ok(_) | Err(RepoError::NotFound) => return Err(BookingsError::UnknownAssignee),
            Err(other) => return Err(other.into()),
        };
        let to = Actor {
            id: user.id(),
            role: user.role(),
        };
        self.change(actor, id, origin, audit::Action::BookingReassigned, |b| {
            b.reassign(actor, to)
        })
        .await
    }

    async fn change(
        &self,
        actor: Actor,
        id: BookingId,
        origin: Option<Origin>,
        action: audit::Action,
        decide: impl FnOnce(&Booking) -> Result<Transition, BookingError>,
    ) -> Result<Booking, BookingsError> {
        let booking = self.get(actor, id, origin.clone()).await?;
        let transition = decide(&booking)?;
        self.store(actor, id, origin, action, transition, None)
            .await
    }

    pub(super) async fn store(
        &self,
        actor: Actor,
        id: BookingId,
        origin: Option<Origin>,
        action: audit::Action,
        transition: Transition,
        mapping: Option<&VisitMapping>,
    ) -> Result<Booking, BookingsError> {
        match mapping {
            Some(mapping) => self.bookings.check_in(&transition, mapping).await?,
            None => self.bookings.apply(&transition).await?,
        }
        let mut details = AuditDetails::new().with("from", transition.from.as_str());
        if let Some(worker) = transition.to.worker() {
            details = details.with("worker", worker.to_string());
        }
        self.record(actor.id, action, id, details, origin).await;
        Ok(transition.to)
    }

    pub(super) async fn record(
        &self,
        actor: UserId,
        action: audit::Action,
        id: BookingId,
        details: AuditDetails,
        origin: Option<Origin>,
    ) {
        let record = AuditRecord::new(self.clock.now(), audit::Actor::User(actor), action)
            .target(id.to_string())
            .details(details)
            .origin(origin);
        self.audit.record_or_log(record).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::repo::MockBookingRepository;
    use crate::services::fixtures::t0;
    use crate::services::visits::bookings::fixture::{input, site, visitor, walk, world};
    use wildid_domain::role::Role;

    #[tokio::test]
    async fn a_visitor_cannot_see_or_touch_someone_else_s_booking_and_a_lost_race_changes_nothing()
    {
        let theirs = Booking::request(
            BookingId::from_random([5; 16]),
            visitor(2).id,
            &site(),
            &walk(),
            input().start,
            "",
            t0(),
        )
        .unwrap();
        let mut repo = MockBookingRepository::new();
        let stored = theirs.clone();
        repo.expect_get().returning(move |_| Ok(stored.clone()));
        repo.expect_apply()
            .times(1)
            .returning(|_| Err(RepoError::Conflict));
        let (bookings, actions) = world(repo);
        assert_eq!(
            bookings.get(visitor(1), theirs.id(), None).await,
            Err(BookingsError::NotFound)
        );
        assert_eq!(
            bookings
                .step(visitor(1), theirs.id(), Step::Cancel, None)
                .await,
            Err(BookingsError::NotFound)
        );
        let ranger = Actor {
            id: UserId::from_random([7; 16]),
            role: Role::Worker,
        };
        assert_eq!(
            bookings
                .step(visitor(2), theirs.id(), Step::Claim, None)
                .await,
            Err(BookingsError::Refused(BookingError::NotAWorker))
        );
        assert_eq!(
            bookings.step(ranger, theirs.id(), Step::Claim, None).await,
            Err(BookingsError::Changed)
        );
        // The visitor's two tries at someone else's booking are audited as refusals; nothing
        // else is (the refused claim and the lost race changed nothing).
        assert_eq!(
            *actions.lock().unwrap(),
            ["access.refused", "access.refused"]
        );
    }
}

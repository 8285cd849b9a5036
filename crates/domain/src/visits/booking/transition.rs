//! The moves of a booking's life: who may claim, reassign, check in, complete or cancel it,
//! and when. Each returns a [`Transition`] (the booking afterwards, with the state storage
//! must still find) or the [`BookingError`] naming the broken rule.

use super::error::BookingError;
use super::record::{Booking, BookingRecord};
use super::status::{Action, BookingStatus};
use crate::Timestamp;
use crate::ids::UserId;
use crate::role::Role;

/// Who acts on a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Their account.
    pub id: UserId,
    /// Their role now.
    pub role: Role,
}

/// A booking's change, with the status storage must still find for it to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The status the booking had when the transition was decided.
    pub from: BookingStatus,
    /// The worker who held it then.
    pub from_worker: Option<UserId>,
    /// The booking afterwards.
    pub to: Booking,
}

impl Booking {
    /// A worker (or admin) takes a requested booking, until the visit's end.
    ///
    /// # Errors
    /// [`BookingError`] naming the broken rule.
    pub fn claim(&self, actor: Actor, now: Timestamp) -> Result<Transition, BookingError> {
        require_worker(actor)?;
        self.require(&[BookingStatus::Requested], Action::Claim)?;
        if now > self.0.slot.end() {
            return Err(BookingError::Over);
        }
        Ok(self.becomes(|b| {
            b.status = BookingStatus::Claimed;
            b.worker = Some(actor.id);
        }))
    }

    /// An admin hands a claimed (or checked-in) booking to `assignee`, a worker or admin.
    ///
    /// # Errors
    /// [`BookingError`] naming the broken rule.
    pub fn reassign(&self, actor: Actor, assignee: Actor) -> Result<Transition, BookingError> {
        if actor.role != Role::Admin {
            return Err(BookingError::NotAnAdmin);
        }
        if !assignee.role.includes(Role::Worker) {
            return Err(BookingError::AssigneeNotAWorker);
        }
        self.require(
            &[BookingStatus::Claimed, BookingStatus::CheckedIn],
            Action::Reassign,
        )?;
        Ok(self.becomes(|b| b.worker = Some(assignee.id)))
    }

    /// The worker holding the booking checks the visitor in, while the slot is open for
    /// check-in (see [`Slot::open_for_check_in`](crate::visits::Slot::open_for_check_in)). The
    /// visit token is checked by the caller.
    ///
    /// # Errors
    /// [`BookingError`] naming the broken rule.
    pub fn check_in(&self, actor: Actor, now: Timestamp) -> Result<Transition, BookingError> {
        self.require_holder(actor, &[BookingStatus::Claimed], Action::CheckIn)?;
        if now > self.0.slot.end() {
            return Err(BookingError::Over);
        }
        if !self.0.slot.open_for_check_in(now) {
            return Err(BookingError::TooEarly);
        }
        Ok(self.becomes(|b| {
            b.status = BookingStatus::CheckedIn;
            b.checked_in_at = Some(now);
        }))
    }

    /// The worker holding the booking closes the visit.
    ///
    /// # Errors
    /// [`BookingError`] naming the broken rule.
    pub fn complete(&self, actor: Actor, now: Timestamp) -> Result<Transition, BookingError> {
        self.require_holder(actor, &[BookingStatus::CheckedIn], Action::Complete)?;
        Ok(self.becomes(|b| {
            b.status = BookingStatus::Completed;
            b.completed_at = Some(now);
        }))
    }

    /// The visitor who booked (or an admin) calls the booking off before the visit starts.
    ///
    /// # Errors
    /// [`BookingError`] naming the broken rule.
    pub fn cancel(&self, actor: Actor, now: Timestamp) -> Result<Transition, BookingError> {
        if actor.id != self.0.visitor && actor.role != Role::Admin {
            return Err(BookingError::NotTheOwner);
        }
        self.require(
            &[BookingStatus::Requested, BookingStatus::Claimed],
            Action::Cancel,
        )?;
        if now >= self.0.slot.start() {
            return Err(BookingError::Started);
        }
        Ok(self.becomes(|b| {
            b.status = BookingStatus::Cancelled;
            b.cancelled_at = Some(now);
        }))
    }

    fn require(&self, allowed: &[BookingStatus], action: Action) -> Result<(), BookingError> {
        if allowed.contains(&self.0.status) {
            Ok(())
        } else {
            Err(BookingError::WrongState {
                status: self.0.status,
                action,
            })
        }
    }

    fn require_holder(
        &self,
        actor: Actor,
        allowed: &[BookingStatus],
        action: Action,
    ) -> Result<(), BookingError> {
        require_worker(actor)?;
        self.require(allowed, action)?;
        if self.0.worker != Some(actor.id) {
            return Err(BookingError::ClaimedByOther);
        }
        Ok(())
    }

    fn becomes(&self, change: impl FnOnce(&mut BookingRecord)) -> Transition {
        let mut next = self.0.clone();
        change(&mut next);
        Transition {
            from: self.0.status,
            from_worker: self.0.worker,
            to: Self(next),
        }
    }
}

fn require_worker(actor: Actor) -> Result<(), BookingError> {
    if actor.role.includes(Role::Worker) {
        Ok(())
    } else {
        Err(BookingError::NotAWorker)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{actor, booking, t, user};
    use super::*;
    use crate::Duration;
    use proptest::prelude::*;

    #[test]
    fn the_whole_life_of_a_visit() {
        let worker = actor(9, Role::Worker);
        let b = booking();
        assert_eq!(
            b.claim(actor(1, Role::Visitor), t(8, 0)),
            Err(BookingError::NotAWorker)
        );
        let b = b.claim(worker, t(8, 0)).unwrap().to;
        assert_eq!(
            b.claim(actor(8, Role::Worker), t(8, 0)),
            Err(BookingError::WrongState {
                status: BookingStatus::Claimed,
                action: Action::Claim
            })
        );
        assert_eq!(b.check_in(worker, t(9, 0)), Err(BookingError::TooEarly));
        assert_eq!(
            b.check_in(actor(8, Role::Worker), t(10, 0)),
            Err(BookingError::ClaimedByOther)
        );
        let b = b.check_in(worker, t(9, 45)).unwrap().to;
        assert_eq!(
            b.complete(actor(8, Role::Admin), t(11, 0)),
            Err(BookingError::ClaimedByOther)
        );
        let done = b.complete(worker, t(11, 0)).unwrap();
        assert_eq!(done.from, BookingStatus::CheckedIn);
        assert_eq!(done.to.status(), BookingStatus::Completed);
        assert_eq!(
            done.to.cancel(actor(1, Role::Visitor), t(9, 0)),
            Err(BookingError::WrongState {
                status: BookingStatus::Completed,
                action: Action::Cancel
            })
        );
    }

    #[test]
    fn an_admin_reassigns_and_the_new_holder_completes() {
        let b = booking().claim(actor(9, Role::Worker), t(8, 0)).unwrap().to;
        assert_eq!(
            b.reassign(actor(9, Role::Worker), actor(8, Role::Worker)),
            Err(BookingError::NotAnAdmin)
        );
        assert_eq!(
            b.reassign(actor(7, Role::Admin), actor(1, Role::Visitor)),
            Err(BookingError::AssigneeNotAWorker)
        );
        let moved = b
            .reassign(actor(7, Role::Admin), actor(8, Role::Worker))
            .unwrap();
        assert_eq!(moved.from_worker, Some(user(9)));
        let b = moved
            .to
            .check_in(actor(8, Role::Worker), t(10, 0))
            .unwrap()
            .to;
        assert!(b.complete(actor(8, Role::Worker), t(11, 0)).is_ok());
    }

    #[test]
    fn only_the_visitor_or_an_admin_cancels_and_only_before_the_start() {
        let b = booking();
        assert_eq!(
            b.cancel(actor(9, Role::Worker), t(9, 0)),
            Err(BookingError::NotTheOwner)
        );
        assert_eq!(
            b.cancel(actor(1, Role::Visitor), t(10, 0)),
            Err(BookingError::Started)
        );
        assert!(b.cancel(actor(7, Role::Admin), t(9, 0)).is_ok());
        let cancelled = b.cancel(actor(1, Role::Visitor), t(9, 59)).unwrap().to;
        assert!(!cancelled.status().holds_a_place());
    }

    /// The edges of the diagram in the `booking` module's documentation (a reassignment keeps
    /// the status).
    fn allowed(from: BookingStatus, to: BookingStatus) -> bool {
        use BookingStatus::*;
        matches!(
            (from, to),
            (Requested, Claimed)
                | (Claimed, CheckedIn)
                | (CheckedIn, Completed)
                | (Requested | Claimed, Cancelled)
                | (Claimed, Claimed)
                | (CheckedIn, CheckedIn)
        )
    }

    fn any_actor() -> impl Strategy<Value = Actor> {
        (
            0u8..4,
            prop_oneof![Just(Role::Visitor), Just(Role::Worker), Just(Role::Admin)],
        )
            .prop_map(|(n, role)| actor(n, role))
    }

    proptest! {
        /// Any sequence of attempts by anyone at any time moves a booking only along the
        /// diagram's edges, every result is a consistent record, only the holder checks in and
        /// completes, and nothing is cancelled once its visit started.
        #[test]
        fn bookings_move_only_along_the_diagram(
            steps in proptest::collection::vec((0u8..5, any_actor(), any_actor(), 0i64..300), 1..30)
        ) {
            let mut b = booking();
            for (action, actor, other, minutes) in steps {
                let now = t(8, 0) + Duration::minutes(minutes);
                let result = match action {
                    0 => b.claim(actor, now),
                    1 => b.reassign(actor, other),
                    2 => b.check_in(actor, now),
                    3 => b.complete(actor, now),
                    _ => b.cancel(actor, now),
                };
                if let Ok(step) = result {
                    prop_assert_eq!(step.from, b.status());
                    prop_assert_eq!(step.from_worker, b.worker());
                    prop_assert!(allowed(b.status(), step.to.status()));
                    prop_assert!(Booking::restore(step.to.record().clone()).is_ok());
                    if matches!(action, 2 | 3) {
                        prop_assert_eq!(b.worker(), Some(actor.id));
                    }
                    if action == 4 {
                        prop_assert!(now < b.slot().start());
                        prop_assert!(actor.id == b.visitor() || actor.role == Role::Admin);
                    }
                    b = step.to;
                }
            }
        }
    }
}

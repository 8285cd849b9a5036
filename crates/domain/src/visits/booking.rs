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

use std::fmt;

use super::site::{DESCRIPTION_MAX_CHARS, ServiceType, Site, optional};
use super::slot::{Slot, SlotError};
use crate::Timestamp;
use crate::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use crate::role::Role;
use crate::text::{PlainText, TextError};

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
    fn has_worker(self) -> bool {
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

/// Who acts on a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Their account.
    pub id: UserId,
    /// Their role now.
    pub role: Role,
}

/// A transition the rules forbid. Each names why, for the person who tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The booking's status does not allow the action.
    #[error("a {status} booking cannot be {action}")]
    WrongState {
        /// Where the booking stands.
        status: BookingStatus,
        /// What was tried.
        action: Action,
    },
    /// Only workers and admins claim, check in and complete.
    #[error("only workers can do this")]
    NotAWorker,
    /// Only admins reassign.
    #[error("only admins can reassign a booking")]
    NotAnAdmin,
    /// A booking can be handed only to a worker or an admin.
    #[error("a booking can be assigned only to a worker")]
    AssigneeNotAWorker,
    /// Another worker holds the booking.
    #[error("this booking is claimed by another worker")]
    ClaimedByOther,
    /// Only the visitor who booked (or an admin) cancels.
    #[error("only the visitor who made this booking can cancel it")]
    NotTheOwner,
    /// The visit has started; it can no longer be cancelled.
    #[error("the visit has started and can no longer be cancelled")]
    Started,
    /// The visit's time is over.
    #[error("the visit's time is over")]
    Over,
    /// Check-in opens shortly before the start.
    #[error("check-in opens 30 minutes before the visit starts")]
    TooEarly,
}

/// Why a new booking was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The site takes no bookings now.
    #[error("this site is closed and takes no bookings")]
    SiteClosed,
    /// The time is not bookable.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// The description is too long.
    #[error("description: {0}")]
    Description(TextError),
}

/// A stored row that does not form a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent booking record: {0}")]
pub struct InvalidBooking(pub &'static str);

/// Everything a booking holds, as stored. [`Booking::restore`] checks it is consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRecord {
    /// Identifier.
    pub id: BookingId,
    /// The visitor who booked.
    pub visitor: UserId,
    /// Where.
    pub site: SiteId,
    /// What.
    pub service: ServiceTypeId,
    /// When.
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
pub struct Booking(BookingRecord);

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

    /// Identifier.
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
    /// check-in (see [`Slot::open_for_check_in`]). The visit token is checked by the caller.
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
    use super::*;
    use crate::sighting::Area;
    use crate::{Duration, ids::ServiceTypeId};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2027, 6, 1, h, m, 0).unwrap()
    }

    fn user(n: u8) -> UserId {
        UserId::from_random([n; 16])
    }

    fn actor(n: u8, role: Role) -> Actor {
        Actor { id: user(n), role }
    }

    fn site(active: bool) -> Site {
        Site::new(
            SiteId::from_random([3; 16]),
            "Marsh",
            "",
            Area::WORLD,
            active,
        )
        .unwrap()
    }

    fn walk() -> ServiceType {
        ServiceType::new(ServiceTypeId::from_random([4; 16]), "Walk", 60, 10).unwrap()
    }

    /// Visitor 1's booking for 10:00-11:00, made at 8:00.
    fn booking() -> Booking {
        let id = BookingId::from_random([1; 16]);
        Booking::request(id, user(1), &site(true), &walk(), t(10, 0), "", t(8, 0)).unwrap()
    }

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

    /// The edges of the diagram in the module documentation (a reassignment keeps the status).
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

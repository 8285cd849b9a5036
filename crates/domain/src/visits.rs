//! Field visits: sites, service types, bookings claimed and completed by workers,
//! ephemeral visit tokens, the encrypted token-to-user mapping, exposure reports and in-app
//! notifications.

use crate::Timestamp;
use crate::ids::{BookingId, ExposureReportId, NotificationId, ServiceTypeId, SiteId, UserId};
use crate::role::Role;
use crate::text::PlainText;
use crate::user::EncryptedField;

/// A place where visits happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Identifier.
    pub id: SiteId,
    /// Name shown to visitors.
    pub name: PlainText,
    /// Closed sites take no new bookings.
    pub active: bool,
}

/// A kind of visit offered (guided walk, survey...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceType {
    /// Identifier.
    pub id: ServiceTypeId,
    /// Name.
    pub name: PlainText,
    /// Planned length in minutes.
    pub duration_minutes: u32,
}

/// A random, unlinkable visit token. Without the encrypted mapping it says
/// nothing about who visited.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitToken([u8; 16]);

/// The text is not a visit token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid visit token")]
pub struct InvalidVisitToken;

impl VisitToken {
    /// A token from 16 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses the 32-character lower-case hex form.
    ///
    /// # Errors
    /// [`InvalidVisitToken`] for any other shape.
    pub fn parse(raw: &str) -> Result<Self, InvalidVisitToken> {
        if raw.len() != 32 {
            return Err(InvalidVisitToken);
        }
        let bytes = hex::decode(raw).map_err(|_| InvalidVisitToken)?;
        bytes.try_into().map(Self).map_err(|_| InvalidVisitToken)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Display for VisitToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for VisitToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitToken(..)")
    }
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Made by a visitor, waiting for a worker.
    Requested,
    /// A worker took it.
    Claimed,
    /// The visit happened.
    Completed,
    /// Called off.
    Cancelled,
}

impl BookingStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Requested => "requested",
            BookingStatus::Claimed => "claimed",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    /// Inverse of [`BookingStatus::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "requested" => Some(BookingStatus::Requested),
            "claimed" => Some(BookingStatus::Claimed),
            "completed" => Some(BookingStatus::Completed),
            "cancelled" => Some(BookingStatus::Cancelled),
            _ => None,
        }
    }
}

/// A booking transition that the rules forbid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The booking is not in a state that allows this.
    #[error("a {0} booking cannot be changed this way")]
    WrongState(&'static str),
    /// Only workers (and admins) claim and complete bookings.
    #[error("only workers can do this")]
    NotAWorker,
    /// Another worker holds the booking.
    #[error("this booking is claimed by another worker")]
    ClaimedByOther,
    /// Only the visitor who made it (or an admin) may cancel a booking.
    #[error("only the visitor who made this booking can cancel it")]
    NotTheOwner,
}

/// A visit booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Identifier.
    pub id: BookingId,
    /// The visitor who booked.
    pub visitor_id: UserId,
    /// Where.
    pub site_id: SiteId,
    /// What.
    pub service_type_id: ServiceTypeId,
    /// When.
    pub scheduled_for: Timestamp,
    /// Visitor's note, cleaned.
    pub description: Option<PlainText>,
    /// State.
    pub status: BookingStatus,
    /// The worker who claimed it.
    pub worker_id: Option<UserId>,
    /// The ephemeral token shown to the visitor for check-in.
    pub visit_token: VisitToken,
    /// Creation time.
    pub created_at: Timestamp,
    /// When the visit was completed.
    pub completed_at: Option<Timestamp>,
}

impl Booking {
    /// A worker (or admin) takes a requested booking.
    ///
    /// # Errors
    /// [`BookingError`] when the actor is a visitor or the booking is not requested.
    pub fn claim(&mut self, worker: UserId, role: Role) -> Result<(), BookingError> {
        if !role.includes(Role::Worker) {
            return Err(BookingError::NotAWorker);
        }
        if self.status != BookingStatus::Requested {
            return Err(BookingError::WrongState(self.status.as_str()));
        }
        self.status = BookingStatus::Claimed;
        self.worker_id = Some(worker);
        Ok(())
    }

    /// The worker who claimed the booking marks the visit as done at `now`.
    ///
    /// # Errors
    /// [`BookingError`] when the actor did not claim it or it is not claimed.
    pub fn complete(
        &mut self,
        worker: UserId,
        role: Role,
        now: Timestamp,
    ) -> Result<(), BookingError> {
        if !role.includes(Role::Worker) {
            return Err(BookingError::NotAWorker);
        }
        if self.status != BookingStatus::Claimed {
            return Err(BookingError::WrongState(self.status.as_str()));
        }
        if self.worker_id != Some(worker) && role != Role::Admin {
            return Err(BookingError::ClaimedByOther);
        }
        self.status = BookingStatus::Completed;
        self.completed_at = Some(now);
        Ok(())
    }

    /// The visitor (or an admin) calls the booking off before it happens.
    ///
    /// # Errors
    /// [`BookingError`] when the actor is someone else or the visit is over.
    pub fn cancel(&mut self, actor: UserId, role: Role) -> Result<(), BookingError> {
        if actor != self.visitor_id && role != Role::Admin {
            return Err(BookingError::NotTheOwner);
        }
        if matches!(
            self.status,
            BookingStatus::Completed | BookingStatus::Cancelled
        ) {
            return Err(BookingError::WrongState(self.status.as_str()));
        }
        self.status = BookingStatus::Cancelled;
        Ok(())
    }
}

/// The encrypted link from a visit token to the visitor, kept for the retention
/// period only so that exposure notifications can reach the people who were there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitMapping {
    /// The visit token.
    pub token: VisitToken,
    /// The visitor's id, encrypted with the key ring.
    pub encrypted_user_id: EncryptedField,
    /// Where the visit took place.
    pub site_id: SiteId,
    /// When the visit took place.
    pub visited_at: Timestamp,
    /// When the mapping was written (retention counts from here).
    pub created_at: Timestamp,
}

/// An admin's report that a site had an exposure (disease, hazard) during a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureReport {
    /// Identifier.
    pub id: ExposureReportId,
    /// Where.
    pub site_id: SiteId,
    /// Start of the exposure window.
    pub window_start: Timestamp,
    /// End of the exposure window.
    pub window_end: Timestamp,
    /// What happened (cleaned).
    pub note: Option<PlainText>,
    /// The admin who reported it.
    pub reported_by: UserId,
    /// When it was reported.
    pub created_at: Timestamp,
}

/// An in-app notification (kept inside the app, not sent by mail or SMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Identifier.
    pub id: NotificationId,
    /// Recipient.
    pub user_id: UserId,
    /// Text.
    pub message: PlainText,
    /// When it was created.
    pub created_at: Timestamp,
    /// When the user read it.
    pub read_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn booking() -> Booking {
        Booking {
            id: BookingId::from_random([1; 16]),
            visitor_id: UserId::from_random([2; 16]),
            site_id: SiteId::from_random([3; 16]),
            service_type_id: ServiceTypeId::from_random([4; 16]),
            scheduled_for: chrono::Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
            description: None,
            status: BookingStatus::Requested,
            worker_id: None,
            visit_token: VisitToken::from_random([5; 16]),
            created_at: chrono::Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
            completed_at: None,
        }
    }

    #[test]
    fn claim_then_complete_by_the_same_worker() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
        let worker = UserId::from_random([9; 16]);
        let other = UserId::from_random([8; 16]);
        let mut b = booking();
        assert_eq!(
            b.claim(worker, Role::Visitor),
            Err(BookingError::NotAWorker)
        );
        b.claim(worker, Role::Worker).unwrap();
        assert_eq!(
            b.claim(other, Role::Worker),
            Err(BookingError::WrongState("claimed"))
        );
        assert_eq!(
            b.complete(other, Role::Worker, now),
            Err(BookingError::ClaimedByOther)
        );
        b.complete(worker, Role::Worker, now).unwrap();
        assert_eq!(b.status, BookingStatus::Completed);
        assert_eq!(
            b.cancel(b.visitor_id, Role::Visitor),
            Err(BookingError::WrongState("completed"))
        );
    }

    #[test]
    fn only_the_owner_cancels() {
        let mut b = booking();
        assert_eq!(
            b.cancel(UserId::from_random([7; 16]), Role::Worker),
            Err(BookingError::NotTheOwner)
        );
        b.cancel(b.visitor_id, Role::Visitor).unwrap();
        assert_eq!(b.status, BookingStatus::Cancelled);
    }

    #[test]
    fn visit_tokens_round_trip() {
        let t = VisitToken::from_random([0xab; 16]);
        assert_eq!(VisitToken::parse(&t.to_string()), Ok(t));
        assert!(VisitToken::parse("zz").is_err());
    }
}

//! The field-visit repository ports: sites, service types, bookings and the places they hold,
//! the encrypted mapping from a visit token to its visitor, exposure reports and the
//! notifications they cause.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, NotificationId, ServiceTypeId, SiteId, UserId};
use wildid_domain::user::EncryptedField;
use wildid_domain::visits::{
    Booking, ExposureReport, Notification, ServiceType, Site, Transition, VisitMapping,
};

use crate::RepoError;

/// Storage of wildlife sites.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SiteRepository: Send + Sync {
    /// Stores a new site.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists or another site has the same name (names
    /// compare without regard to case).
    async fn insert(&self, site: &Site) -> Result<(), RepoError>;
    /// The site.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn get(&self, id: SiteId) -> Result<Site, RepoError>;
    /// All sites (only active ones if `active_only`), by name.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list(&self, active_only: bool) -> Result<Vec<Site>, RepoError>;
    /// Replaces the site's name, description, area and active flag.
    ///
    /// # Errors
    /// [`RepoError::NotFound`], or [`RepoError::Duplicate`] for a name another site has.
    async fn update(&self, site: &Site) -> Result<(), RepoError>;
}

/// Storage of service types.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ServiceTypeRepository: Send + Sync {
    /// Stores a new service type.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists or another service has the same name
    /// (without regard to case).
    async fn insert(&self, service: &ServiceType) -> Result<(), RepoError>;
    /// The service type.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn get(&self, id: ServiceTypeId) -> Result<ServiceType, RepoError>;
    /// All service types, by name.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list(&self) -> Result<Vec<ServiceType>, RepoError>;
    /// Replaces the name, duration and capacity. Bookings already made keep their slot's
    /// length; a smaller capacity takes no booking away but admits no new one while the slot
    /// holds as many as before.
    ///
    /// # Errors
    /// [`RepoError::NotFound`], or [`RepoError::Duplicate`] for a name another service has.
    async fn update(&self, service: &ServiceType) -> Result<(), RepoError>;
}

/// What became of a booking request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// Stored; it holds one of the slot's places.
    Stored,
    /// Every place of the slot is taken; nothing was stored.
    Full,
    /// The visitor already holds a place in this slot; nothing was stored.
    AlreadyBooked,
}

/// Storage of bookings and of the places they hold in their slots.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BookingRepository: Send + Sync {
    /// Stores a requested booking with its encrypted visit token if its slot (site, service,
    /// start) has fewer than `capacity` bookings holding a place and the visitor holds none of
    /// them. Taking the place and storing the booking are one atomic step: concurrent requests
    /// never take more than `capacity` places.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists, or when a concurrent request of the same
    /// visitor for the same slot was stored first; [`RepoError::NotFound`] when the visitor,
    /// site or service type does not exist.
    async fn book(
        &self,
        booking: &Booking,
        capacity: u32,
        sealed_token: &EncryptedField,
    ) -> Result<Booked, RepoError>;
    /// The encrypted visit token of a booking, while it awaits check-in (`None` once the
    /// visitor was checked in or the booking cancelled: the token is deleted then).
    ///
    /// # Errors
    /// Only storage failures.
    async fn sealed_token(&self, id: BookingId) -> Result<Option<EncryptedField>, RepoError>;
    /// The booking.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn get(&self, id: BookingId) -> Result<Booking, RepoError>;
    /// A visitor's bookings, latest start first, at most `limit` (capped at 500).
    ///
    /// # Errors
    /// Only storage failures.
    async fn for_visitor(&self, visitor: UserId, limit: u32) -> Result<Vec<Booking>, RepoError>;
    /// Requested bookings whose visit has not ended by `now`, soonest first, at most `limit`
    /// (capped at 500): the workers' queue.
    ///
    /// # Errors
    /// Only storage failures.
    async fn open(&self, now: Timestamp, limit: u32) -> Result<Vec<Booking>, RepoError>;
    /// Bookings held (claimed or checked in) by `worker`, or by any worker when `None`,
    /// soonest first, at most `limit` (capped at 500).
    ///
    /// # Errors
    /// Only storage failures.
    async fn held_by(&self, worker: Option<UserId>, limit: u32) -> Result<Vec<Booking>, RepoError>;
    /// How many bookings hold a place in the slot of `site` and `service` starting at
    /// `start`.
    ///
    /// # Errors
    /// Only storage failures.
    async fn places_taken(
        &self,
        site: SiteId,
        service: ServiceTypeId,
        start: Timestamp,
    ) -> Result<u32, RepoError>;
    /// Stores `transition.to` only if the stored booking still has status `transition.from`
    /// and worker `transition.from_worker`, so that of two concurrent transitions from one
    /// state only one applies. A cancellation gives its place back in the same step; a
    /// check-in or a cancellation deletes the booking's visit token in the same step.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the stored booking changed meanwhile;
    /// [`RepoError::NotFound`] when there is no such booking.
    async fn apply(&self, transition: &Transition) -> Result<(), RepoError>;
    /// Stores a check-in: `transition` (to checked in) exactly as [`BookingRepository::apply`]
    /// does and, in the same step, the visit's `mapping`; neither is stored without the other.
    ///
    /// # Errors
    /// As [`BookingRepository::apply`]; [`RepoError::Duplicate`] when the mapping's token
    /// digest is stored already.
    async fn check_in(
        &self,
        transition: &Transition,
        mapping: &VisitMapping,
    ) -> Result<(), RepoError>;
    /// Deletes the bookings (with their tokens) of visits that started before `cutoff`, and
    /// the places counted for those slots, `batch` rows per statement; returns how many
    /// bookings.
    ///
    /// # Errors
    /// Only storage failures (what was deleted before the failure stays deleted).
    async fn purge_started_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError>;
    /// How many bookings [`BookingRepository::purge_started_before`] would delete for `cutoff`.
    ///
    /// # Errors
    /// Only storage failures.
    async fn count_started_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

/// Reading the encrypted visit mappings (they are written by
/// [`BookingRepository::check_in`]).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait VisitMappingRepository: Send + Sync {
    /// Mappings of visits to `site` that overlapped the window from `from` to `to` (both
    /// included), found through the site and time index without reading any other mapping.
    ///
    /// # Errors
    /// Only storage failures.
    async fn visits_at(
        &self,
        site: SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<VisitMapping>, RepoError>;
    /// Deletes the mappings written before `cutoff`, `batch` rows per statement (so no
    /// statement holds its locks for long); returns how many.
    ///
    /// # Errors
    /// Only storage failures (what was deleted before the failure stays deleted).
    async fn purge_created_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError>;
    /// How many mappings [`VisitMappingRepository::purge_created_before`] would delete for
    /// `cutoff`.
    ///
    /// # Errors
    /// Only storage failures.
    async fn count_created_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

/// Storage of exposure reports.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ExposureReportRepository: Send + Sync {
    /// Stores a report and the notifications it causes in one step: all or nothing.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the report's id exists; [`RepoError::NotFound`] for an
    /// unknown site or recipient (nothing is stored then).
    async fn record(
        &self,
        report: &ExposureReport,
        notifications: &[Notification],
    ) -> Result<(), RepoError>;
    /// The latest reports, newest first, at most `limit` (capped at 500).
    ///
    /// # Errors
    /// Only storage failures.
    async fn latest(&self, limit: u32) -> Result<Vec<ExposureReport>, RepoError>;
}

/// Storage of in-app notifications.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// `user`'s notifications, newest first, at most `limit` (capped at 500).
    ///
    /// # Errors
    /// Only storage failures.
    async fn for_user(&self, user: UserId, limit: u32) -> Result<Vec<Notification>, RepoError>;
    /// How many of `user`'s notifications are unread.
    ///
    /// # Errors
    /// Only storage failures.
    async fn unread(&self, user: UserId) -> Result<u32, RepoError>;
    /// Marks a notification of `user` read at `at` (a notification read already keeps its
    /// first time).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `user` has no such notification.
    async fn mark_read(
        &self,
        id: NotificationId,
        user: UserId,
        at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Deletes notifications read before `cutoff`, `batch` rows per statement; returns how
    /// many. Unread notifications are kept.
    ///
    /// # Errors
    /// Only storage failures (what was deleted before the failure stays deleted).
    async fn purge_read_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError>;
    /// How many notifications [`NotificationRepository::purge_read_before`] would delete for
    /// `cutoff`.
    ///
    /// # Errors
    /// Only storage failures.
    async fn count_read_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

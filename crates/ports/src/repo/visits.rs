//! The field-visit repository ports: sites, service types, bookings, the encrypted mapping from
//! a visit token to its visitor, exposure reports and the notifications they cause.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, NotificationId, ServiceTypeId, SiteId, UserId};
use wildid_domain::user::EncryptedField;
use wildid_domain::visits::{
    Booking, BookingStatus, ExposureReport, Notification, ServiceType, Site, VisitMapping,
    VisitToken,
};

use super::Page;
use crate::RepoError;

/// Storage of field sites.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SiteRepository: Send + Sync {
    /// Stores a new site.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id or the name exists.
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
    /// Replaces name and active flag.
    ///
    /// # Errors
    /// [`RepoError::NotFound`], or [`RepoError::Duplicate`] for a name in use.
    async fn update(&self, site: &Site) -> Result<(), RepoError>;
}

/// Storage of service types.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ServiceTypeRepository: Send + Sync {
    /// Stores a new service type.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id or the name exists.
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
}

/// Storage of bookings.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BookingRepository: Send + Sync {
    /// Stores a new booking.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id or visit token exists; [`RepoError::NotFound`] when
    /// the visitor, site or service type does not exist.
    async fn insert(&self, booking: &Booking) -> Result<(), RepoError>;
    /// The booking.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn get(&self, id: BookingId) -> Result<Booking, RepoError>;
    /// A visitor's bookings, soonest first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list_for_visitor(
        &self,
        visitor: UserId,
        page: Page,
    ) -> Result<Vec<Booking>, RepoError>;
    /// Bookings in `status` (all visitors), soonest first; workers' queue.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list_by_status(
        &self,
        status: BookingStatus,
        page: Page,
    ) -> Result<Vec<Booking>, RepoError>;
    /// Stores the booking's new status, worker and completion time only if its stored status
    /// is still `expected` (so two workers cannot both claim one booking).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the stored status differs; [`RepoError::NotFound`].
    async fn transition(&self, booking: &Booking, expected: BookingStatus)
    -> Result<(), RepoError>;
}

/// Storage of the encrypted visit-token-to-user mappings.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait VisitMappingRepository: Send + Sync {
    /// Stores a mapping.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the token is mapped already.
    async fn insert(&self, mapping: &VisitMapping) -> Result<(), RepoError>;
    /// Mappings of visits to `site` between `from` and `to` (inclusive).
    ///
    /// # Errors
    /// Only storage failures.
    async fn visits_at(
        &self,
        site: SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<VisitMapping>, RepoError>;
    /// Re-encrypted ciphertext for a mapping (key rotation).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the token is not mapped.
    async fn replace_ciphertext(
        &self,
        token: &VisitToken,
        ciphertext: &EncryptedField,
    ) -> Result<(), RepoError>;
    /// Deletes mappings created before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_created_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

/// Storage of exposure reports.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ExposureReportRepository: Send + Sync {
    /// Stores a report.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists; [`RepoError::NotFound`] for an unknown site.
    async fn insert(&self, report: &ExposureReport) -> Result<(), RepoError>;
    /// Reports, newest first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list(&self, page: Page) -> Result<Vec<ExposureReport>, RepoError>;
}

/// Storage of in-app notifications.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// Stores all notifications in one transaction (all or none).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when a recipient does not exist; nothing is stored then.
    async fn insert_all(&self, notifications: &[Notification]) -> Result<(), RepoError>;
    /// `user`'s notifications, newest first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list_for_user(&self, user: UserId, page: Page)
    -> Result<Vec<Notification>, RepoError>;
    /// Marks a notification of `user` read at `at`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `user` has no such notification.
    async fn mark_read(
        &self,
        id: NotificationId,
        user: UserId,
        at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Deletes notifications read before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_read_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

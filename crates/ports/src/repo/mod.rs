//! Repository ports: one trait per aggregate. Each method documents which [`RepoError`]
//! variant an adapter MUST return in which case; the contract test suite (`tests/`) checks
//! every adapter against these rules on every backend.
//!
//! [`RepoError`]: crate::RepoError

mod audit;
mod captchas;
mod held_photos;
mod identifications;
mod leases;
mod mail_outbox;
mod rate_limits;
mod recovery_codes;
mod sealed;
mod sessions;
mod tokens;
mod users;
mod visits;

pub use audit::{AuditFilter, AuditLog, AuditRow};
pub use captchas::CaptchaRepository;
pub use held_photos::HeldPhotoRepository;
pub use identifications::{
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, JournalSlice,
    JournalStamp, Kept, OwnSighting, PhotoSize, SharedSighting, StoredPicture,
};
pub use leases::{Job, JobLeases, JobState, LeaseRequest};
pub use mail_outbox::{MailOutbox, QueuedMail};
pub use rate_limits::RateLimitStore;
pub use recovery_codes::{RecoveryCodeRepository, StoredRecoveryCode};
pub use sealed::{ColumnProgress, SealedColumn, SealedValue, SealedValues};
pub use sessions::SessionRepository;
pub use tokens::LoginTokenRepository;
pub use users::{StoredAddress, UserRepository};
pub use visits::{
    Booked, BookingRepository, ExposureReportRepository, NotificationRepository,
    ServiceTypeRepository, SiteRepository, VisitMappingRepository,
};

#[cfg(feature = "mock")]
pub use audit::MockAuditLog;
#[cfg(feature = "mock")]
pub use captchas::MockCaptchaRepository;
#[cfg(feature = "mock")]
pub use held_photos::MockHeldPhotoRepository;
#[cfg(feature = "mock")]
pub use identifications::MockIdentificationRepository;
#[cfg(feature = "mock")]
pub use leases::MockJobLeases;
#[cfg(feature = "mock")]
pub use mail_outbox::MockMailOutbox;
#[cfg(feature = "mock")]
pub use rate_limits::MockRateLimitStore;
#[cfg(feature = "mock")]
pub use recovery_codes::MockRecoveryCodeRepository;
#[cfg(feature = "mock")]
pub use sealed::MockSealedValues;
#[cfg(feature = "mock")]
pub use sessions::MockSessionRepository;
#[cfg(feature = "mock")]
pub use tokens::MockLoginTokenRepository;
#[cfg(feature = "mock")]
pub use users::MockUserRepository;
#[cfg(feature = "mock")]
pub use visits::{
    MockBookingRepository, MockExposureReportRepository, MockNotificationRepository,
    MockServiceTypeRepository, MockSiteRepository, MockVisitMappingRepository,
};

/// A window of a listing, newest first unless a method says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return at most (adapters cap it at 500).
    pub limit: u32,
}

impl Page {
    /// The first `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { offset: 0, limit }
    }
}

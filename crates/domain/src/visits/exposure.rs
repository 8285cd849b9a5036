//! Exposure notifications: the encrypted mapping from a visit token to its visitor, the reports
//! of an exposure at a site, and the in-app notifications they cause.

use crate::Timestamp;
use crate::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use crate::text::PlainText;
use crate::user::EncryptedField;

/// The link from a visit to its visitor, written when the visitor is checked in and kept for
/// the retention period only, so that an exposure found at the site can reach the people who
/// were there. It names the visitor only as ciphertext under the field key ring, and the visit
/// token only as a keyed digest; the site and the visit's time are in clear, so that an
/// exposure finds its mappings through an index and decrypts those alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitMapping {
    /// Keyed digest of the visit token (the mapping's key).
    pub token_digest: [u8; 32],
    /// The visitor's id, encrypted with the key ring.
    pub sealed_visitor: EncryptedField,
    /// Where the visit took place.
    pub site: SiteId,
    /// When the visit started.
    pub visit_start: Timestamp,
    /// When it ended (as planned).
    pub visit_end: Timestamp,
    /// When the mapping was written (retention counts from here).
    pub created_at: Timestamp,
}

impl VisitMapping {
    /// Whether the visit overlapped the window from `start` to `end` (both included).
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.visit_start <= end && self.visit_end >= start
    }
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

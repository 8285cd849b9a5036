//! Exposure notifications: the encrypted mapping from a visit token to its visitor, the reports
//! of an exposure at a site, and the in-app notifications they cause.

use super::token::VisitToken;
use crate::Timestamp;
use crate::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use crate::text::PlainText;
use crate::user::EncryptedField;

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

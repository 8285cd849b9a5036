//! Exposure notifications: the encrypted mapping from a visit token to its visitor, the reports
//! of an exposure at a site, and the in-app notifications they cause.

use crate::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use crate::text::{PlainText, TextError};
use crate::user::EncryptedField;
use crate::{Duration, Timestamp};

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
    /// When the visitor arrived (was checked in).
    pub visit_start: Timestamp,
    /// When the visit ended (as planned).
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

/// The longest note of an exposure report, in characters.
pub const EXPOSURE_NOTE_MAX_CHARS: usize = 1_000;
/// The longest exposure window, in days.
pub const EXPOSURE_WINDOW_MAX_DAYS: i64 = 31;
/// How far past now a window may end (a form that says "until now" to the minute, clocks a
/// little apart), in minutes.
pub const EXPOSURE_FUTURE_TOLERANCE_MINUTES: i64 = 5;

/// Why an exposure report was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    /// The window ends before it starts (or when it starts).
    #[error("the exposure window must end after it starts")]
    Inverted,
    /// The window reaches into the future.
    #[error("the exposure window cannot reach into the future")]
    InFuture,
    /// The window is longer than allowed.
    #[error("the exposure window can be at most {EXPOSURE_WINDOW_MAX_DAYS} days long")]
    TooLong,
    /// The note is empty or too long.
    #[error("note: {0}")]
    Note(TextError),
}

/// A worker's or admin's report that something was found at a site (avian influenza, chytrid
/// fungus, a rabid animal) that may have reached the people there during a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureReport {
    /// The report's random id, fixed when it is made; its notifications name it.
    pub id: ExposureReportId,
    /// The site where something was found.
    pub site: SiteId,
    /// Start of the exposure window.
    pub window_start: Timestamp,
    /// End of the exposure window.
    pub window_end: Timestamp,
    /// What was found and what to do (cleaned).
    pub note: PlainText,
    /// Who reported it.
    pub reported_by: UserId,
    /// When it was reported.
    pub created_at: Timestamp,
}

impl ExposureReport {
    /// A report made at `now`: the window must end after it starts, not after `now` (give or
    /// take [`EXPOSURE_FUTURE_TOLERANCE_MINUTES`]), and span
    /// at most [`EXPOSURE_WINDOW_MAX_DAYS`]; `note` is 1 to [`EXPOSURE_NOTE_MAX_CHARS`]
    /// characters.
    ///
    /// # Errors
    /// [`ExposureError`] naming what is wrong.
    pub fn new(
        id: ExposureReportId,
        site: SiteId,
        window: (Timestamp, Timestamp),
        note: &str,
        reported_by: UserId,
        now: Timestamp,
    ) -> Result<Self, ExposureError> {
        let (window_start, window_end) = window;
        if window_end <= window_start {
            return Err(ExposureError::Inverted);
        }
        if window_end > now + Duration::minutes(EXPOSURE_FUTURE_TOLERANCE_MINUTES) {
            return Err(ExposureError::InFuture);
        }
        if window_end - window_start > Duration::days(EXPOSURE_WINDOW_MAX_DAYS) {
            return Err(ExposureError::TooLong);
        }
        let note = PlainText::new(note, EXPOSURE_NOTE_MAX_CHARS).map_err(ExposureError::Note)?;
        Ok(Self {
            id,
            site,
            window_start,
            window_end,
            note,
            reported_by,
            created_at: now,
        })
    }
}

/// An in-app notification of an exposure (kept inside the app, never sent by mail or SMS). It
/// names the site, the window and what to do, never anyone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The notification's random id; its recipient marks it read by this id.
    pub id: NotificationId,
    /// The person told: someone checked in at the site during the window; only they see it.
    pub user: UserId,
    /// The report it comes from (one notification per person and report).
    pub report: ExposureReportId,
    /// What happened, where, when, and what to do.
    pub message: PlainText,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its recipient marked it read.
    pub read_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2027, 3, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn a_report_needs_a_past_window_in_order_and_a_note() {
        let report = |start, end, note: &str| {
            ExposureReport::new(
                ExposureReportId::from_random([1; 16]),
                SiteId::from_random([2; 16]),
                (start, end),
                note,
                UserId::from_random([3; 16]),
                at(12),
            )
        };
        assert!(report(at(8), at(10), "Avian influenza in a dead gull.").is_ok());
        assert_eq!(report(at(10), at(10), "x"), Err(ExposureError::Inverted));
        assert_eq!(report(at(10), at(8), "x"), Err(ExposureError::Inverted));
        assert_eq!(report(at(10), at(13), "x"), Err(ExposureError::InFuture));
        let long_ago = at(8) - Duration::days(EXPOSURE_WINDOW_MAX_DAYS + 1);
        assert_eq!(report(long_ago, at(8), "x"), Err(ExposureError::TooLong));
        assert!(matches!(
            report(at(8), at(10), " "),
            Err(ExposureError::Note(_))
        ));
    }

    #[test]
    fn a_mapping_overlaps_windows_that_touch_its_visit() {
        let m = VisitMapping {
            token_digest: [1; 32],
            sealed_visitor: EncryptedField::new("x".into()),
            site: SiteId::from_random([2; 16]),
            visit_start: at(9),
            visit_end: at(11),
            created_at: at(9),
        };
        assert!(m.overlaps(at(8), at(9)));
        assert!(m.overlaps(at(10), at(10)));
        assert!(m.overlaps(at(11), at(12)));
        assert!(!m.overlaps(at(12), at(13)));
        assert!(!m.overlaps(at(6), at(8)));
    }
}

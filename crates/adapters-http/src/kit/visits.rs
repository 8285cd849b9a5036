//! What the visit pages and the visit JSON API both read: ids from paths and forms, a site's
//! area, a visit's start, and who is acting.

use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, NotificationId, ServiceTypeId, SiteId, UserId};
use wildid_domain::sighting::Area;
use wildid_domain::user::User;
use wildid_domain::visits::Actor;

use crate::error::AppError;

/// A site's id from a path; anything else is a 404 like a missing site.
pub(crate) fn site_id(raw: &str) -> Result<SiteId, AppError> {
    SiteId::parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// A service type's id from a path; anything else is a 404 like a missing one.
pub(crate) fn service_id(raw: &str) -> Result<ServiceTypeId, AppError> {
    ServiceTypeId::parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// A booking's id from a path; anything else is a 404 like a missing (or someone else's)
/// booking.
pub(crate) fn booking_id(raw: &str) -> Result<BookingId, AppError> {
    BookingId::parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// A notification's id from a path; anything else is a 404 like a missing (or someone
/// else's) notification.
pub(crate) fn notification_id(raw: &str) -> Result<NotificationId, AppError> {
    NotificationId::parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// A site or service named in a booking request's body: malformed is unknown (422).
pub(crate) fn chosen_site(raw: &str) -> Result<SiteId, AppError> {
    SiteId::parse(raw.trim()).map_err(|_| AppError::unknown_site())
}

/// See [`chosen_site`].
pub(crate) fn chosen_service(raw: &str) -> Result<ServiceTypeId, AppError> {
    ServiceTypeId::parse(raw.trim()).map_err(|_| AppError::unknown_service())
}

/// The worker a booking is handed to, from a body.
pub(crate) fn assignee(raw: &str) -> Result<UserId, AppError> {
    UserId::parse(raw.trim()).map_err(|_| AppError::unknown_worker())
}

/// A site's rectangle from its sides in degrees.
pub(crate) fn area(south: f64, west: f64, north: f64, east: f64) -> Result<Area, AppError> {
    Area::new(south, west, north, east).map_err(AppError::site_area_refused)
}

/// A visit's start: RFC 3339 with an offset (`2027-05-01T09:00:00+10:00`), or a local date and
/// time (`2027-05-01T09:00`, as a browser's date-time field sends it) read at `utc_offset`
/// minutes east of UTC.
pub(crate) fn visit_start(raw: &str, utc_offset_minutes: i64) -> Result<Timestamp, AppError> {
    let raw = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(raw, format).ok())
        .map(|local| local.and_utc() - chrono::TimeDelta::minutes(utc_offset_minutes))
        .ok_or_else(AppError::visit_time_unreadable)
}

/// An exposure window's start or end, read as [`visit_start`] reads a visit's start.
pub(crate) fn window_time(raw: &str, utc_offset_minutes: i64) -> Result<Timestamp, AppError> {
    visit_start(raw, utc_offset_minutes)
}

/// The signed-in user as the actor of a booking change.
pub(crate) fn actor(user: &User) -> Actor {
    Actor {
        id: user.id(),
        role: user.role(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn starts_are_read_with_their_offset_or_the_browser_s() {
        let nine_utc = chrono::Utc.with_ymd_and_hms(2027, 5, 1, 9, 0, 0).unwrap();
        assert_eq!(visit_start("2027-05-01T09:00:00Z", 0).unwrap(), nine_utc);
        assert_eq!(
            visit_start("2027-05-01T19:00:00+10:00", 0).unwrap(),
            nine_utc
        );
        assert_eq!(visit_start("2027-05-01T19:00", 600).unwrap(), nine_utc);
        assert!(visit_start("tomorrow", 0).is_err());
    }
}

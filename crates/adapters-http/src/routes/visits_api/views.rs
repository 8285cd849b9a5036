//! What the visits API answers with: sites, kinds of visit and bookings as views.

use serde::Serialize;
use utoipa::ToSchema;
use wildid_domain::sighting::MICRODEGREES;
use wildid_domain::visits::{Booking, ServiceType, Site};

use crate::session::SignedIn;

/// A rectangle of the globe, in decimal degrees.
#[derive(Serialize, ToSchema)]
pub(crate) struct AreaView {
    /// Southern edge.
    pub south: f64,
    /// Western edge.
    pub west: f64,
    /// Northern edge.
    pub north: f64,
    /// Eastern edge.
    pub east: f64,
}

/// A wildlife site.
#[derive(Serialize, ToSchema)]
pub(crate) struct SiteView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What visitors should know; `null` for nothing.
    pub description: Option<String>,
    /// What its map shows.
    pub area: AreaView,
    /// Whether it takes bookings.
    pub active: bool,
}

impl From<&Site> for SiteView {
    fn from(site: &Site) -> Self {
        let a = site.area();
        let degrees = |micro: i32| f64::from(micro) / f64::from(MICRODEGREES);
        Self {
            id: site.id().to_string(),
            name: site.name().as_str().to_owned(),
            description: site.description().map(|d| d.as_str().to_owned()),
            area: AreaView {
                south: degrees(a.south()),
                west: degrees(a.west()),
                north: degrees(a.north()),
                east: degrees(a.east()),
            },
            active: site.is_active(),
        }
    }
}

/// A kind of visit.
#[derive(Serialize, ToSchema)]
pub(crate) struct ServiceView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How long a visit lasts, in minutes.
    pub duration_minutes: u32,
    /// Places per slot.
    pub capacity: u32,
}

impl From<&ServiceType> for ServiceView {
    fn from(s: &ServiceType) -> Self {
        Self {
            id: s.id().to_string(),
            name: s.name().as_str().to_owned(),
            duration_minutes: s.duration_minutes(),
            capacity: s.capacity(),
        }
    }
}

/// A booking.
#[derive(Serialize, ToSchema)]
pub(crate) struct BookingView {
    /// Its id.
    pub id: String,
    /// The site.
    pub site_id: String,
    /// The kind of visit.
    pub service_id: String,
    /// When the visit starts (RFC 3339, UTC).
    pub starts_at: String,
    /// When it ends.
    pub ends_at: String,
    /// The visitor's note.
    pub description: Option<String>,
    /// `requested`, `claimed`, `checked_in`, `completed` or `cancelled`.
    pub status: String,
    /// The worker holding it (shown to workers and admins only).
    pub worker_id: Option<String>,
    /// When it was booked.
    pub created_at: String,
    /// When the visitor was checked in.
    pub checked_in_at: Option<String>,
    /// When the visit was completed.
    pub completed_at: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
}

impl BookingView {
    /// `booking` as `viewer` may see it: a visitor does not see which worker holds it.
    pub(super) fn of(booking: &Booking, staff: bool) -> Self {
        let r = booking.record();
        let time = |t: Option<wildid_domain::Timestamp>| t.map(|t| t.to_rfc3339());
        Self {
            id: r.id.to_string(),
            site_id: r.site.to_string(),
            service_id: r.service.to_string(),
            starts_at: r.slot.start().to_rfc3339(),
            ends_at: r.slot.end().to_rfc3339(),
            description: r.description.as_ref().map(|d| d.as_str().to_owned()),
            status: r.status.as_str().to_owned(),
            worker_id: r.worker.filter(|_| staff).map(|w| w.to_string()),
            created_at: r.created_at.to_rfc3339(),
            checked_in_at: time(r.checked_in_at),
            completed_at: time(r.completed_at),
            cancelled_at: time(r.cancelled_at),
        }
    }
}

/// Whether the caller sees bookings as staff do (workers and admins).
pub(super) fn staff(signed_in: &SignedIn) -> bool {
    signed_in
        .user
        .role()
        .includes(wildid_domain::role::Role::Worker)
}

//! Bookings, people and times shared by the booking tests.

use super::{Actor, Booking};
use crate::Timestamp;
use crate::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use crate::role::Role;
use crate::sighting::Area;
use crate::visits::site::{ServiceType, Site};
use chrono::TimeZone;

pub(super) fn t(h: u32, m: u32) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2027, 6, 1, h, m, 0).unwrap()
}

pub(super) fn user(n: u8) -> UserId {
    UserId::from_random([n; 16])
}

pub(super) fn actor(n: u8, role: Role) -> Actor {
    Actor { id: user(n), role }
}

pub(super) fn site(active: bool) -> Site {
    Site::new(
        SiteId::from_random([3; 16]),
        "Marsh",
        "",
        Area::WORLD,
        active,
    )
    .unwrap()
}

pub(super) fn walk() -> ServiceType {
    ServiceType::new(ServiceTypeId::from_random([4; 16]), "Walk", 60, 10).unwrap()
}

/// Visitor 1's booking for 10:00-11:00, made at 8:00.
pub(super) fn booking() -> Booking {
    let id = BookingId::from_random([1; 16]);
    Booking::request(id, user(1), &site(true), &walk(), t(10, 0), "", t(8, 0)).unwrap()
}

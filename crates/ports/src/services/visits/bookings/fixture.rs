//! The sites, kinds of visit, visitors and use cases shared by the bookings tests.

use std::sync::{Arc, Mutex};

use wildid_domain::audit::AuditEntry;
use wildid_domain::ids::{ServiceTypeId, SiteId, UserId};
use wildid_domain::role::Role;
use wildid_domain::secret::{SecretBytes, SecretString};
use wildid_domain::sighting::Area;
use wildid_domain::visits::{Actor, ServiceType, Site};

use super::{BookingInput, BookingPorts, Bookings};
use crate::RepoError;
use crate::builtin::{FernetKeyRing, HmacDigest, OsRandom};
use crate::repo::{
    MockAuditLog, MockBookingRepository, MockServiceTypeRepository, MockSiteRepository,
    MockUserRepository,
};
use crate::services::audit::AuditTrail;
use crate::services::fixtures::{FixedClock, t0};

pub(super) fn site() -> Site {
    Site::new(SiteId::from_random([1; 16]), "Marsh", "", Area::WORLD, true).unwrap()
}

pub(super) fn walk() -> ServiceType {
    ServiceType::new(ServiceTypeId::from_random([2; 16]), "Walk", 60, 4).unwrap()
}

pub(super) fn input() -> BookingInput {
    BookingInput {
        site: site().id(),
        service: walk().id(),
        start: t0() + chrono::TimeDelta::hours(2),
        description: "<b>Two</b> of us".into(),
    }
}

pub(super) fn visitor(n: u8) -> Actor {
    Actor {
        id: UserId::from_random([n; 16]),
        role: Role::Visitor,
    }
}

/// The use case over `bookings`, with one site and one service; the audit actions written
/// are collected in the returned list.
pub(super) fn world(bookings: MockBookingRepository) -> (Bookings, Arc<Mutex<Vec<String>>>) {
    world_with(bookings, key_ring())
}

pub(super) fn key_ring() -> Arc<FernetKeyRing> {
    Arc::new(FernetKeyRing::new(&[SecretString::new(fernet::Fernet::generate_key())]).unwrap())
}

pub(super) fn world_with(
    bookings: MockBookingRepository,
    cipher: Arc<FernetKeyRing>,
) -> (Bookings, Arc<Mutex<Vec<String>>>) {
    let mut sites = MockSiteRepository::new();
    sites.expect_get().returning(|id| {
        if id == site().id() {
            Ok(site())
        } else {
            Err(RepoError::NotFound)
        }
    });
    let mut services = MockServiceTypeRepository::new();
    services.expect_get().returning(|_| Ok(walk()));
    let actions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&actions);
    let mut log = MockAuditLog::new();
    log.expect_append().returning(move |record| {
        seen.lock().unwrap().push(record.action.as_str().to_owned());
        Ok(AuditEntry::append_to(None, record))
    });
    let use_case = Bookings::new(BookingPorts {
        bookings: Arc::new(bookings),
        sites: Arc::new(sites),
        services: Arc::new(services),
        users: Arc::new(MockUserRepository::new()),
        audit: AuditTrail::new(Arc::new(log)),
        clock: Arc::new(FixedClock(t0())),
        random: Arc::new(OsRandom),
        cipher,
        digest: Arc::new(HmacDigest::new(SecretBytes::new(vec![4; 32]))),
    });
    (use_case, actions)
}

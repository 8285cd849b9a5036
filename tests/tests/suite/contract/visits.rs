use std::sync::Arc;

use chrono::{TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use wildid_domain::role::Role;
use wildid_domain::sighting::Area;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_domain::visits::{Actor, Booking, BookingStatus, ServiceType, Site, VisitMapping};
use wildid_ports::RepoError;
use wildid_ports::repo::{Booked, BookingRepository};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::at;

/// When the bookings are made.
fn now() -> Timestamp {
    at(0)
}

/// The visit's start: the next morning, on the hour.
fn nine() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

async fn person(t: &TestDb, n: u8) -> UserId {
    let id = UserId::from_random([n; 16]);
    let user = User::new(
        id,
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-ciphertext-{n}")),
        at(0),
    );
    t.db.users().insert(&user).await.unwrap();
    id
}

fn marsh(n: u8, name: &str, active: bool) -> Site {
    let area = Area::new(-33.9, 151.1, -33.8, 151.3).unwrap();
    Site::new(
        SiteId::from_random([n; 16]),
        name,
        "Boardwalk from the car park.\nBring binoculars.",
        area,
        active,
    )
    .unwrap()
}

fn walk(n: u8, name: &str, capacity: u32) -> ServiceType {
    ServiceType::new(ServiceTypeId::from_random([n; 16]), name, 90, capacity).unwrap()
}

/// A stored site and service with `capacity` places per slot.
async fn catalogue(t: &TestDb, capacity: u32) -> (Site, ServiceType) {
    let site = marsh(1, "Mangrove Marsh", true);
    let service = walk(2, "Dawn chorus walk", capacity);
    t.db.sites().insert(&site).await.unwrap();
    t.db.service_types().insert(&service).await.unwrap();
    (site, service)
}

fn request(n: u16, visitor: UserId, site: &Site, service: &ServiceType) -> Booking {
    let [hi, lo] = n.to_be_bytes();
    let id = BookingId::from_random([hi, lo, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    Booking::request(
        id,
        visitor,
        site,
        service,
        nine(),
        "Two of us, one in a wheelchair.",
        now(),
    )
    .unwrap()
}

/// A visit token as the use case stores it (the adapter keeps the text it is given).
fn sealed() -> EncryptedField {
    EncryptedField::new("gAAAAB-sealed-visit-token".into())
}

fn worker(id: UserId) -> Actor {
    Actor {
        id,
        role: Role::Worker,
    }
}

on_both_backends!(
    sites_and_services_round_trip_with_names_unique_without_case,
    |t: TestDb| async move {
        let sites = t.db.sites();
        let marsh_site = marsh(1, "Mangrove Marsh", true);
        let closed = marsh(2, "Cape Heath", false);
        sites.insert(&marsh_site).await.unwrap();
        sites.insert(&closed).await.unwrap();
        assert_eq!(sites.get(marsh_site.id()).await.unwrap(), marsh_site);
        assert_eq!(
            sites.list(false).await.unwrap(),
            vec![closed.clone(), marsh_site.clone()]
        );
        assert_eq!(sites.list(true).await.unwrap(), vec![marsh_site.clone()]);
        assert_eq!(
            sites.insert(&marsh(3, "mangrove MARSH", true)).await,
            Err(RepoError::Duplicate)
        );
        let reopened = marsh(2, "Cape Heath", true);
        sites.update(&reopened).await.unwrap();
        assert_eq!(sites.get(reopened.id()).await.unwrap(), reopened);
        assert_eq!(
            sites.update(&marsh(2, "Mangrove marsh", true)).await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(
            sites.update(&marsh(9, "Elsewhere", true)).await,
            Err(RepoError::NotFound)
        );
        assert_eq!(
            sites.get(SiteId::from_random([9; 16])).await,
            Err(RepoError::NotFound)
        );

        let services = t.db.service_types();
        let dawn = walk(1, "Dawn chorus walk", 12);
        services.insert(&dawn).await.unwrap();
        services.insert(&walk(2, "Bat survey", 6)).await.unwrap();
        assert_eq!(services.get(dawn.id()).await.unwrap(), dawn);
        let names: Vec<_> = services
            .list()
            .await
            .unwrap()
            .iter()
            .map(|s| s.name().as_str().to_owned())
            .collect();
        assert_eq!(names, ["Bat survey", "Dawn chorus walk"]);
        assert_eq!(
            services.insert(&walk(3, "BAT SURVEY", 6)).await,
            Err(RepoError::Duplicate)
        );
        let bigger = walk(1, "Dawn chorus walk", 20);
        services.update(&bigger).await.unwrap();
        assert_eq!(services.get(dawn.id()).await.unwrap().capacity(), 20);
        assert_eq!(
            services.update(&walk(9, "Nobody", 1)).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    a_booking_round_trips_and_is_listed_for_its_visitor_and_the_workers,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 10).await;
        let repo = t.db.bookings();
        let (me, ranger) = (person(&t, 1).await, person(&t, 2).await);
        let booking = request(1, me, &site, &service);
        assert_eq!(
            repo.book(&booking, 10, &sealed()).await.unwrap(),
            Booked::Stored
        );
        assert_eq!(repo.get(booking.id()).await.unwrap(), booking);
        assert_eq!(
            repo.for_visitor(me, 50).await.unwrap(),
            vec![booking.clone()]
        );
        assert_eq!(repo.open(now(), 50).await.unwrap(), vec![booking.clone()]);
        let after_the_end = nine() + chrono::TimeDelta::minutes(91);
        assert!(repo.open(after_the_end, 50).await.unwrap().is_empty());
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            1
        );

        assert_eq!(
            repo.sealed_token(booking.id()).await.unwrap(),
            Some(sealed())
        );
        let claim = booking.claim(worker(ranger), now()).unwrap();
        repo.apply(&claim).await.unwrap();
        assert_eq!(
            repo.sealed_token(booking.id()).await.unwrap(),
            Some(sealed()),
            "a claim keeps the token"
        );
        assert_eq!(repo.get(booking.id()).await.unwrap(), claim.to);
        assert!(repo.open(now(), 50).await.unwrap().is_empty());
        assert_eq!(
            repo.held_by(Some(ranger), 50).await.unwrap(),
            vec![claim.to.clone()]
        );
        assert_eq!(
            repo.held_by(None, 50).await.unwrap(),
            vec![claim.to.clone()],
            "what every worker holds"
        );
        assert!(
            repo.held_by(Some(UserId::from_random([77; 16])), 50)
                .await
                .unwrap()
                .is_empty(),
            "another worker holds nothing"
        );
        let checked_in = claim.to.check_in(worker(ranger), nine()).unwrap();
        repo.apply(&checked_in).await.unwrap();
        assert_eq!(
            repo.sealed_token(booking.id()).await.unwrap(),
            None,
            "the check-in spends the token"
        );
        let done = checked_in
            .to
            .complete(worker(ranger), nine() + chrono::TimeDelta::minutes(80))
            .unwrap();
        repo.apply(&done).await.unwrap();
        let stored = repo.get(booking.id()).await.unwrap();
        assert_eq!(stored, done.to);
        assert_eq!(stored.status(), BookingStatus::Completed);
        assert!(repo.held_by(Some(ranger), 50).await.unwrap().is_empty());
        assert_eq!(
            repo.get(BookingId::from_random([9; 16])).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    concurrent_requests_never_take_more_places_than_a_slot_has,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 3).await;
        let repo: Arc<dyn BookingRepository> = t.db.bookings();
        let mut visitors = Vec::new();
        for n in 1..=12 {
            visitors.push(person(&t, n).await);
        }
        let mut tasks = Vec::new();
        for (n, visitor) in visitors.iter().enumerate() {
            let repo = Arc::clone(&repo);
            let booking = request(n as u16, *visitor, &site, &service);
            tasks.push(tokio::spawn(async move {
                repo.book(&booking, 3, &sealed())
                    .await
                    .map(|b| (b, booking))
            }));
        }
        let mut stored = Vec::new();
        let mut full = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                (Booked::Stored, booking) => stored.push(booking),
                (Booked::Full, _) => full += 1,
                (Booked::AlreadyBooked, _) => panic!("each visitor booked once"),
            }
        }
        assert_eq!((stored.len(), full), (3, 9));
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            3
        );

        // A cancellation gives its place back, and the place can be taken again.
        let first = &stored[0];
        let cancel = first
            .cancel(
                Actor {
                    id: first.visitor(),
                    role: Role::Visitor,
                },
                now(),
            )
            .unwrap();
        repo.apply(&cancel).await.unwrap();
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            2
        );
        // (Newcomers: any of the twelve may be among the three who got a place.)
        let late = request(100, person(&t, 13).await, &site, &service);
        assert_eq!(
            repo.book(&late, 3, &sealed()).await.unwrap(),
            Booked::Stored
        );
        assert_eq!(
            repo.book(
                &request(101, person(&t, 14).await, &site, &service),
                3,
                &sealed()
            )
            .await
            .unwrap(),
            Booked::Full
        );
    }
);

on_both_backends!(
    a_visitor_holds_one_place_per_slot_until_they_cancel,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 10).await;
        let repo = t.db.bookings();
        let me = person(&t, 1).await;
        let first = request(1, me, &site, &service);
        assert_eq!(
            repo.book(&first, 10, &sealed()).await.unwrap(),
            Booked::Stored
        );
        assert_eq!(
            repo.book(&request(2, me, &site, &service), 10, &sealed())
                .await
                .unwrap(),
            Booked::AlreadyBooked
        );
        let me_actor = Actor {
            id: me,
            role: Role::Visitor,
        };
        repo.apply(&first.cancel(me_actor, now()).unwrap())
            .await
            .unwrap();
        assert_eq!(repo.sealed_token(first.id()).await.unwrap(), None);
        assert_eq!(
            repo.book(&request(3, me, &site, &service), 10, &sealed())
                .await
                .unwrap(),
            Booked::Stored
        );
        assert_eq!(repo.for_visitor(me, 50).await.unwrap().len(), 2);
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            1
        );
        // An unknown visitor, site or service stores nothing.
        let stranger = request(4, UserId::from_random([77; 16]), &site, &service);
        assert_eq!(
            repo.book(&stranger, 10, &sealed()).await,
            Err(RepoError::NotFound)
        );
        let nowhere = request(5, me, &marsh(8, "Nowhere", true), &service);
        assert_eq!(
            repo.book(&nowhere, 10, &sealed()).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    of_two_concurrent_claims_exactly_one_applies,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 10).await;
        let repo: Arc<dyn BookingRepository> = t.db.bookings();
        let me = person(&t, 1).await;
        let (a, b) = (person(&t, 2).await, person(&t, 3).await);
        let booking = request(1, me, &site, &service);
        repo.book(&booking, 10, &sealed()).await.unwrap();
        let claims = [
            booking.claim(worker(a), now()).unwrap(),
            booking.claim(worker(b), now()).unwrap(),
        ];
        let tasks: Vec<_> = claims
            .iter()
            .cloned()
            .map(|claim| {
                let repo = Arc::clone(&repo);
                tokio::spawn(async move { repo.apply(&claim).await })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(results.contains(&Err(RepoError::Conflict)));
        let winner = if results[0].is_ok() { a } else { b };
        assert_eq!(repo.get(booking.id()).await.unwrap().worker(), Some(winner));

        // A transition decided on a stale copy (the claim above was decided before the
        // other worker's) is refused too; an unknown booking is missing.
        assert_eq!(repo.apply(&claims[0]).await, Err(RepoError::Conflict));
        let ghost = request(9, me, &site, &service)
            .claim(worker(a), now())
            .unwrap();
        assert_eq!(repo.apply(&ghost).await, Err(RepoError::NotFound));
    }
);

on_both_backends!(
    a_deleted_visitor_s_bookings_give_their_places_back,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 2).await;
        let repo = t.db.bookings();
        let (me, you) = (person(&t, 1).await, person(&t, 2).await);
        repo.book(&request(1, me, &site, &service), 2, &sealed())
            .await
            .unwrap();
        let yours = request(2, you, &site, &service);
        repo.book(&yours, 2, &sealed()).await.unwrap();
        t.db.users().delete(me).await.unwrap();
        assert!(repo.for_visitor(me, 50).await.unwrap().is_empty());
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            1
        );
        assert_eq!(repo.get(yours.id()).await.unwrap(), yours);
    }
);

fn mapping_of(booking: &Booking, n: u8) -> VisitMapping {
    VisitMapping {
        token_digest: [n; 32],
        sealed_visitor: EncryptedField::new(format!("gAAAAB-sealed-visitor-{n}")),
        site: booking.record().site,
        visit_start: booking.slot().start(),
        visit_end: booking.slot().end(),
        created_at: nine(),
    }
}

on_both_backends!(
    a_check_in_stores_its_mapping_in_the_same_step_and_exposures_find_it_by_time,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 10).await;
        let repo = t.db.bookings();
        let mappings = t.db.visit_mappings();
        let (me, ranger) = (person(&t, 1).await, person(&t, 2).await);
        let booking = request(1, me, &site, &service);
        repo.book(&booking, 10, &sealed()).await.unwrap();
        let claimed = booking.claim(worker(ranger), now()).unwrap();
        repo.apply(&claimed).await.unwrap();
        let check_in = claimed.to.check_in(worker(ranger), nine()).unwrap();
        let mapping = mapping_of(&booking, 7);

        // A check-in decided on a stale booking stores nothing, the mapping included.
        let stale = booking.claim(worker(ranger), now()).unwrap();
        assert_eq!(
            repo.check_in(&stale, &mapping).await,
            Err(RepoError::Conflict)
        );
        let minute = chrono::TimeDelta::minutes(1);
        let day = chrono::TimeDelta::days(1);
        assert!(
            mappings
                .visits_at(site.id(), nine() - day, nine() + day)
                .await
                .unwrap()
                .is_empty()
        );

        repo.check_in(&check_in, &mapping).await.unwrap();
        assert_eq!(
            repo.get(booking.id()).await.unwrap().status(),
            BookingStatus::CheckedIn
        );
        assert_eq!(repo.sealed_token(booking.id()).await.unwrap(), None);
        // Windows that touch the visit (09:00-10:30) find it; windows beside it do not.
        let (start, end) = (booking.slot().start(), booking.slot().end());
        for (from, to, found) in [
            (start - day, end + day, true),
            (end, end + minute, true),
            (start - minute, start, true),
            (start + minute, start + minute, true),
            (end + minute, end + day, false),
            (start - day, start - minute, false),
        ] {
            let hits = mappings.visits_at(site.id(), from, to).await.unwrap();
            assert_eq!(
                hits,
                if found { vec![mapping.clone()] } else { vec![] },
                "{from}..{to}"
            );
        }
        // A mapping that cannot be stored takes its check-in with it.
        let you = person(&t, 3).await;
        let yours = request(2, you, &site, &service);
        repo.book(&yours, 10, &sealed()).await.unwrap();
        let claimed = yours.claim(worker(ranger), now()).unwrap();
        repo.apply(&claimed).await.unwrap();
        let check_in = claimed.to.check_in(worker(ranger), nine()).unwrap();
        assert_eq!(
            repo.check_in(&check_in, &mapping_of(&yours, 7)).await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(
            repo.get(yours.id()).await.unwrap().status(),
            BookingStatus::Claimed
        );
        assert_eq!(repo.sealed_token(yours.id()).await.unwrap(), Some(sealed()));

        let elsewhere = SiteId::from_random([8; 16]);
        assert!(
            mappings
                .visits_at(elsewhere, start - day, end + day)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

on_both_backends!(
    purges_delete_in_batches_exactly_what_is_older_than_the_cut_off,
    |t: TestDb| async move {
        let (site, service) = catalogue(&t, 50).await;
        let repo = t.db.bookings();
        let mappings = t.db.visit_mappings();
        let ranger = person(&t, 99).await;
        // Seven visits checked in: mappings written at nine() + n minutes.
        for n in 0..7u8 {
            let visitor = person(&t, n + 1).await;
            let booking = request(u16::from(n), visitor, &site, &service);
            repo.book(&booking, 50, &sealed()).await.unwrap();
            let claimed = booking.claim(worker(ranger), now()).unwrap();
            repo.apply(&claimed).await.unwrap();
            let check_in = claimed.to.check_in(worker(ranger), nine()).unwrap();
            let mut mapping = mapping_of(&booking, n);
            mapping.created_at = nine() + chrono::TimeDelta::minutes(i64::from(n));
            repo.check_in(&check_in, &mapping).await.unwrap();
        }
        let day = chrono::TimeDelta::days(1);
        // Cut-off after the fifth: five go, in batches of two; two stay.
        let cutoff = nine() + chrono::TimeDelta::minutes(5);
        // Counted first: what the purge would delete, exactly.
        assert_eq!(mappings.count_created_before(cutoff).await.unwrap(), 5);
        assert_eq!(mappings.purge_created_before(cutoff, 2).await.unwrap(), 5);
        assert_eq!(mappings.count_created_before(cutoff).await.unwrap(), 0);
        let left = mappings
            .visits_at(site.id(), nine() - day, nine() + day)
            .await
            .unwrap();
        assert_eq!(left.len(), 2);
        assert_eq!(mappings.purge_created_before(cutoff, 2).await.unwrap(), 0);

        // Bookings of visits that started before the cut-off go, with their places.
        let later = Booking::request(
            BookingId::from_random([77; 16]),
            ranger,
            &site,
            &service,
            nine() + day,
            "",
            now(),
        )
        .unwrap();
        repo.book(&later, 50, &sealed()).await.unwrap();
        let hour_later = nine() + chrono::TimeDelta::hours(1);
        assert_eq!(repo.count_started_before(hour_later).await.unwrap(), 7);
        assert_eq!(
            repo.purge_started_before(nine() + chrono::TimeDelta::hours(1), 3)
                .await
                .unwrap(),
            7
        );
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine())
                .await
                .unwrap(),
            0
        );
        assert_eq!(repo.get(later.id()).await.unwrap(), later);
        assert_eq!(repo.sealed_token(later.id()).await.unwrap(), Some(sealed()));
        assert_eq!(
            repo.places_taken(site.id(), service.id(), nine() + day)
                .await
                .unwrap(),
            1
        );
    }
);

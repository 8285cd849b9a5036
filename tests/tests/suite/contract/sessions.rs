use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionRecord, SessionToken};
use wildid_domain::trust::TrustState;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::RepoError;
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

fn at(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
        + TimeDelta::microseconds(secs * 1_000_000 + 250_001)
}

fn session(n: u8, user: Option<UserId>) -> Session {
    session_seen(n, user, at(0), at(10))
}

/// Session `n` of `user` created at `created_at` and last seen at `last_seen_at` (a signed-in
/// one authenticated at `at(0)`).
fn session_seen(
    n: u8,
    user: Option<UserId>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
) -> Session {
    Session::restore(SessionRecord {
        key: SessionToken::from_random([n; 32]).key(),
        user_id: user,
        fingerprint: Fingerprint::from_headers("UA", "en", "gzip"),
        csrf: CsrfToken::from_random([n.wrapping_add(100); 32]),
        created_at,
        last_seen_at,
        authenticated_at: user.map(|_| at(0)),
        trust: TrustState::default(),
        coarse_ip: Some("203.0.113.0/24".into()),
        device: Some("Firefox on Linux".into()),
    })
    .unwrap()
}

async fn user(t: &TestDb, n: u8) -> UserId {
    let u = User::new(
        UserId::from_random([n; 16]),
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new("x".into()),
        at(0),
    );
    t.db.users().insert(&u).await.unwrap();
    u.id()
}

on_both_backends!(
    sessions_round_trip_touch_and_delete,
    |t: TestDb| async move {
        let repo = t.db.sessions();
        let owner = user(&t, 1).await;
        let mut s = session(1, Some(owner));
        s.set_trust(TrustState {
            request_count: 4,
            window_started_at: Some(at(3)),
            rate_limited: true,
            is_trusted: false,
            captcha_passed_at: None,
        });
        repo.insert(&s).await.unwrap();
        assert_eq!(repo.insert(&s).await, Err(RepoError::Duplicate));
        assert_eq!(repo.get(&s.key()).await.unwrap(), Some(s.clone()));
        repo.touch(&s.key(), at(20)).await.unwrap();
        assert_eq!(
            repo.get(&s.key()).await.unwrap().unwrap().last_seen_at(),
            at(20)
        );
        repo.delete(&s.key()).await.unwrap();
        repo.delete(&s.key()).await.unwrap();
        assert_eq!(repo.get(&s.key()).await.unwrap(), None);
        assert_eq!(repo.touch(&s.key(), at(30)).await, Err(RepoError::NotFound));
    }
);

on_both_backends!(
    a_session_needs_an_existing_user_and_dies_with_it,
    |t: TestDb| async move {
        let repo = t.db.sessions();
        let ghost = session(2, Some(UserId::from_random([99; 16])));
        assert_eq!(repo.insert(&ghost).await, Err(RepoError::NotFound));
        let owner = user(&t, 3).await;
        let s = session(3, Some(owner));
        repo.insert(&s).await.unwrap();
        t.db.users().delete(owner).await.unwrap();
        assert_eq!(repo.get(&s.key()).await.unwrap(), None);
    }
);

on_both_backends!(replace_kills_the_old_key, |t: TestDb| async move {
    let repo = t.db.sessions();
    let anonymous = session(4, None);
    repo.insert(&anonymous).await.unwrap();
    let owner = user(&t, 4).await;
    let signed_in = session(5, Some(owner));
    repo.replace(&anonymous.key(), &signed_in).await.unwrap();
    assert_eq!(repo.get(&anonymous.key()).await.unwrap(), None);
    assert_eq!(
        repo.get(&signed_in.key()).await.unwrap(),
        Some(signed_in.clone())
    );
    // Replacing onto an existing key changes nothing.
    let third = session(6, None);
    repo.insert(&third).await.unwrap();
    assert_eq!(
        repo.replace(&third.key(), &signed_in).await,
        Err(RepoError::Duplicate)
    );
    assert!(repo.get(&third.key()).await.unwrap().is_some());
});

on_both_backends!(per_user_listing_and_revocation, |t: TestDb| async move {
    let repo = t.db.sessions();
    let owner = user(&t, 7).await;
    let other = user(&t, 8).await;
    let mut keep = session(10, Some(owner));
    keep.touch(at(50));
    let older = session(11, Some(owner));
    let foreign = session(12, Some(other));
    for s in [&keep, &older, &foreign] {
        repo.insert(s).await.unwrap();
    }
    let listed: Vec<_> = repo
        .list_for_user(owner)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key())
        .collect();
    assert_eq!(
        listed,
        vec![keep.key(), older.key()],
        "most recently active first"
    );
    assert_eq!(
        repo.delete_for_user(owner, Some(keep.key())).await.unwrap(),
        1
    );
    assert_eq!(repo.list_for_user(owner).await.unwrap().len(), 1);
    assert_eq!(repo.delete_for_user(owner, None).await.unwrap(), 1);
    assert!(repo.get(&foreign.key()).await.unwrap().is_some());
});

on_both_backends!(
    purge_removes_idle_and_overage_sessions_only,
    |t: TestDb| async move {
        let repo = t.db.sessions();
        let owner = user(&t, 9).await;
        let idle = session_seen(20, Some(owner), at(0), at(100));
        let old_anonymous = session_seen(21, None, at(0), at(1000));
        let fresh = session_seen(22, Some(owner), at(900), at(1000));
        for s in [&idle, &old_anonymous, &fresh] {
            repo.insert(s).await.unwrap();
        }
        let purged = repo.purge_expired(at(500), at(500), at(0)).await.unwrap();
        assert_eq!(purged, 2);
        assert!(repo.get(&fresh.key()).await.unwrap().is_some());
    }
);

on_both_backends!(
    trust_swaps_only_from_the_expected_state,
    |t: TestDb| async move {
        let repo = t.db.sessions();
        let s = session(30, None);
        repo.insert(&s).await.unwrap();
        let policy = wildid_domain::trust::RateLimitPolicy::default();
        let mut next = s.trust();
        next.record_identification(&policy, at(40));
        assert!(repo.swap_trust(&s.key(), &s.trust(), &next).await.unwrap());
        assert!(
            !repo.swap_trust(&s.key(), &s.trust(), &next).await.unwrap(),
            "stale expectation loses"
        );
        assert_eq!(repo.get(&s.key()).await.unwrap().unwrap().trust(), next);
        let missing = session(31, None);
        assert_eq!(
            repo.swap_trust(&missing.key(), &missing.trust(), &next)
                .await,
            Err(RepoError::NotFound)
        );

        // Concurrent increments through compare-and-swap never lose one.
        let repo = Arc::new(repo);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let repo = Arc::clone(&repo);
            let key = s.key();
            tasks.push(tokio::spawn(async move {
                loop {
                    let current = repo.get(&key).await.unwrap().unwrap().trust();
                    let mut next = current;
                    next.request_count += 1;
                    if repo.swap_trust(&key, &current, &next).await.unwrap() {
                        break;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            repo.get(&s.key())
                .await
                .unwrap()
                .unwrap()
                .trust()
                .request_count,
            21
        );
    }
);

on_both_backends!(
    rate_limits_count_atomically_per_window,
    |t: TestDb| async move {
        let store = t.db.rate_limits();
        let limit = RateLimit::new(5, TimeDelta::minutes(1)).unwrap();
        let key = [7u8; 32];
        let mut tasks = Vec::new();
        let store = Arc::new(store);
        for _ in 0..12 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store.hit(&key, &limit, at(0)).await.unwrap()
            }));
        }
        let mut allowed = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), RateDecision::Allowed { .. }) {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed, 5,
            "exactly the limit passes, however the hits race"
        );
        assert_eq!(
            store.hit(&key, &limit, at(30)).await.unwrap(),
            RateDecision::Limited {
                retry_after: TimeDelta::seconds(30)
            }
        );
        assert!(matches!(
            store.hit(&[8u8; 32], &limit, at(30)).await.unwrap(),
            RateDecision::Allowed { remaining: 4, .. }
        ));
        assert!(
            matches!(
                store.hit(&key, &limit, at(60)).await.unwrap(),
                RateDecision::Allowed { remaining: 4, .. }
            ),
            "a new window"
        );
        assert_eq!(store.purge_before(at(45)).await.unwrap(), 1);
    }
);

on_both_backends!(
    rate_limit_counters_can_be_read_without_counting,
    |t: TestDb| async move {
        let store = t.db.rate_limits();
        let limit = RateLimit::new(5, TimeDelta::minutes(1)).unwrap();
        let key = [9u8; 32];
        assert_eq!(store.peek(&key).await.unwrap(), None);
        for _ in 0..3 {
            store.hit(&key, &limit, at(10)).await.unwrap();
        }
        for _ in 0..2 {
            let counter = store.peek(&key).await.unwrap().unwrap();
            assert_eq!(counter.count, 3, "reading does not count");
            assert_eq!(counter.window_started_at, at(10));
        }
        let counter = store.peek(&key).await.unwrap();
        assert_eq!(limit.count_at(counter, at(69)), 3);
        assert_eq!(limit.count_at(counter, at(70)), 0, "the window is over");
        assert!(matches!(
            store.hit(&key, &limit, at(20)).await.unwrap(),
            RateDecision::Allowed { remaining: 1, .. }
        ));
    }
);

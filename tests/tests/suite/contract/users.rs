use chrono::{TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::lockout::LockoutState;
use wildid_domain::role::Role;
use wildid_domain::text::PlainText;
use wildid_domain::totp::{RecoveryCode, RecoveryCodeHash};
use wildid_domain::user::{
    DISPLAY_NAME_MAX_CHARS, EmailLookup, EncryptedField, PasswordHash, User,
};
use wildid_ports::RepoError;
use wildid_ports::repo::Page;
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

fn at(secs: i64) -> Timestamp {
    // Microsecond precision on purpose: it must survive the round trip on both backends.
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
        + chrono::TimeDelta::microseconds(secs * 1_000_000 + 123_456)
}

fn user(n: u8) -> User {
    User::new(
        UserId::from_random([n; 16]),
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-ciphertext-{n}")),
        at(i64::from(n)),
    )
}

on_both_backends!(
    insert_then_get_round_trips_every_field,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1).into_record();
        u.role = Role::Worker;
        u.email_verified_at = Some(at(5));
        u.password_hash = Some(PasswordHash::new(
            "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
        ));
        u.totp_secret = Some(EncryptedField::new("gAAAA-totp".into()));
        u.totp_last_step = Some(59_000_123);
        u.lockout = LockoutState {
            failed_attempts: 3,
            locked_until: Some(at(99)),
        };
        u.last_login_at = Some(at(7));
        u.display_name = Some(PlainText::new("Ann \"the\" Ranger ü", 60).unwrap());
        let u = User::restore(u).unwrap();
        repo.insert(&u).await.unwrap();
        assert_eq!(repo.get(u.id()).await.unwrap(), u);
        assert_eq!(
            repo.find_by_email(&u.email_lookup()).await.unwrap(),
            Some(u.clone())
        );
        assert_eq!(
            repo.find_by_email(&EmailLookup::from_bytes([9; 32]))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            repo.get(UserId::from_random([9; 16])).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    duplicates_are_refused_and_store_nothing,
    |t: TestDb| async move {
        let repo = t.db.users();
        let u = user(1);
        repo.insert(&u).await.unwrap();
        let mut same_id = user(2).into_record();
        same_id.id = u.id();
        let same_id = User::restore(same_id).unwrap();
        assert_eq!(repo.insert(&same_id).await, Err(RepoError::Duplicate));
        let mut same_email = user(3).into_record();
        same_email.email_lookup = u.email_lookup();
        let same_email = User::restore(same_email).unwrap();
        assert_eq!(repo.insert(&same_email).await, Err(RepoError::Duplicate));
        assert_eq!(repo.count().await.unwrap(), 1);
        assert_eq!(repo.get(u.id()).await.unwrap(), u);
    }
);

on_both_backends!(
    update_replaces_fields_including_clearing_them,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1).into_record();
        u.password_hash = Some(PasswordHash::new("$argon2id$old".into()));
        u.lockout.locked_until = Some(at(10));
        repo.insert(&User::restore(u.clone()).unwrap())
            .await
            .unwrap();
        u.role = Role::Admin;
        u.active = false;
        u.password_hash = None;
        u.lockout = LockoutState::default();
        let u = User::restore(u).unwrap();
        repo.update(&u).await.unwrap();
        assert_eq!(repo.get(u.id()).await.unwrap(), u);

        assert_eq!(repo.update(&user(7)).await, Err(RepoError::NotFound));
        let other = user(2);
        repo.insert(&other).await.unwrap();
        let mut clash = other.to_record();
        clash.email_lookup = u.email_lookup();
        let clash = User::restore(clash).unwrap();
        assert_eq!(repo.update(&clash).await, Err(RepoError::Duplicate));
        assert_eq!(repo.get(other.id()).await.unwrap(), other);
    }
);

on_both_backends!(list_pages_oldest_first_and_delete, |t: TestDb| async move {
    let repo = t.db.users();
    for n in [3, 1, 2] {
        repo.insert(&user(n)).await.unwrap();
    }
    let ids: Vec<UserId> = repo
        .list(Page::first(10))
        .await
        .unwrap()
        .iter()
        .map(|u| u.id())
        .collect();
    assert_eq!(ids, vec![user(1).id(), user(2).id(), user(3).id()]);
    let second: Vec<UserId> = repo
        .list(Page {
            offset: 1,
            limit: 1,
        })
        .await
        .unwrap()
        .iter()
        .map(|u| u.id())
        .collect();
    assert_eq!(second, vec![user(2).id()]);
    repo.delete(user(2).id()).await.unwrap();
    assert_eq!(repo.get(user(2).id()).await, Err(RepoError::NotFound));
    assert_eq!(repo.delete(user(2).id()).await, Err(RepoError::NotFound));
    assert_eq!(repo.count().await.unwrap(), 2);
});

on_both_backends!(health_ping_answers, |t: TestDb| async move {
    t.db.health().ping().await.unwrap();
});

on_both_backends!(
    display_names_are_set_and_cleared_alone,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1);
        u.set_lockout(LockoutState {
            failed_attempts: 2,
            ..u.lockout()
        });
        repo.insert(&u).await.unwrap();
        let longest = PlainText::new(&"é".repeat(60), DISPLAY_NAME_MAX_CHARS).unwrap();
        repo.set_display_name(u.id(), Some(longest.clone()))
            .await
            .unwrap();
        u.set_display_name(Some(longest)).unwrap();
        assert_eq!(repo.get(u.id()).await.unwrap(), u, "nothing else changed");
        repo.set_display_name(u.id(), None).await.unwrap();
        u.set_display_name(None).unwrap();
        assert_eq!(repo.get(u.id()).await.unwrap(), u);
        assert_eq!(
            repo.set_display_name(UserId::from_random([9; 16]), None)
                .await,
            Err(RepoError::NotFound)
        );
    }
);

/// Concurrent compare-and-swaps on one stored state: exactly one of `n` wins.
async fn one_of_many_wins<F, Fut>(n: usize, attempt: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(attempt())).collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    wins
}

on_both_backends!(
    lockout_counters_swap_only_from_the_expected_state,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1);
        u.set_display_name(Some(PlainText::new("Ann", 60).unwrap()))
            .unwrap();
        repo.insert(&u).await.unwrap();
        let one = LockoutState {
            failed_attempts: 1,
            locked_until: None,
        };
        assert!(
            repo.swap_lockout(u.id(), LockoutState::default(), one)
                .await
                .unwrap()
        );
        assert!(
            !repo
                .swap_lockout(u.id(), LockoutState::default(), one)
                .await
                .unwrap(),
            "a stale expectation replaces nothing"
        );
        let locked = LockoutState {
            failed_attempts: 5,
            locked_until: Some(at(1800)),
        };
        assert!(repo.swap_lockout(u.id(), one, locked).await.unwrap());
        u.set_lockout(locked);
        assert_eq!(
            repo.get(u.id()).await.unwrap(),
            u,
            "only the counters changed"
        );
        assert_eq!(
            repo.swap_lockout(UserId::from_random([9; 16]), one, locked)
                .await,
            Err(RepoError::NotFound)
        );

        // Eight failed attempts at once from the same state: one is stored, the others must
        // read again (the service retries), so none is lost.
        let repo = std::sync::Arc::clone(&repo);
        let next = LockoutState {
            failed_attempts: 6,
            locked_until: Some(at(1800)),
        };
        let wins = one_of_many_wins(8, || {
            let repo = std::sync::Arc::clone(&repo);
            let id = u.id();
            async move { repo.swap_lockout(id, locked, next).await.unwrap() }
        })
        .await;
        assert_eq!(wins, 1);
        assert_eq!(repo.get(u.id()).await.unwrap().lockout(), next);
    }
);

on_both_backends!(
    a_totp_step_is_accepted_once_even_when_raced,
    |t: TestDb| async move {
        let repo = t.db.users();
        let u = user(1);
        repo.insert(&u).await.unwrap();
        assert!(
            repo.swap_totp_step(u.id(), None, 100).await.unwrap(),
            "first use"
        );
        assert!(
            !repo.swap_totp_step(u.id(), None, 100).await.unwrap(),
            "replay"
        );
        assert!(!repo.swap_totp_step(u.id(), Some(99), 101).await.unwrap());
        assert_eq!(repo.get(u.id()).await.unwrap().totp_last_step(), Some(100));
        let repo = std::sync::Arc::clone(&repo);
        let wins = one_of_many_wins(8, || {
            let repo = std::sync::Arc::clone(&repo);
            let id = u.id();
            async move { repo.swap_totp_step(id, Some(100), 101).await.unwrap() }
        })
        .await;
        assert_eq!(wins, 1, "one code used twice at once: one wins");
        let mut expected = u.to_record();
        expected.totp_last_step = Some(101);
        assert_eq!(
            repo.get(u.id()).await.unwrap(),
            User::restore(expected).unwrap(),
            "nothing else changed"
        );
        assert_eq!(
            repo.swap_totp_step(UserId::from_random([9; 16]), None, 1)
                .await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    a_recorded_sign_in_clears_the_lock_and_may_store_a_new_hash,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1);
        u.set_password(PasswordHash::new(
            "$argon2id$v=19$m=19456,t=2,p=1$a$b".into(),
        ));
        u.set_lockout(LockoutState {
            failed_attempts: 4,
            locked_until: Some(at(60)),
        });
        repo.insert(&u).await.unwrap();
        repo.record_login(u.id(), at(10), None).await.unwrap();
        u.record_sign_in(LockoutState::default(), at(10));
        assert_eq!(
            repo.get(u.id()).await.unwrap(),
            u,
            "the hash is kept without a rehash"
        );
        let upgraded = PasswordHash::new("$argon2id$v=19$m=24576,t=2,p=1$c$d".into());
        repo.record_login(u.id(), at(20), Some(upgraded.clone()))
            .await
            .unwrap();
        u.set_password(upgraded);
        u.record_sign_in(LockoutState::default(), at(20));
        assert_eq!(repo.get(u.id()).await.unwrap(), u);
        assert_eq!(
            repo.record_login(UserId::from_random([9; 16]), at(30), None)
                .await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(role_and_active_are_set_alone, |t: TestDb| async move {
    let repo = t.db.users();
    let mut u = user(1).into_record();
    u.lockout.failed_attempts = 2;
    u.totp_last_step = Some(7);
    let mut u = User::restore(u).unwrap();
    repo.insert(&u).await.unwrap();
    repo.set_role(u.id(), Role::Admin).await.unwrap();
    u.set_role(Role::Admin);
    assert_eq!(repo.get(u.id()).await.unwrap(), u, "only the role changed");
    repo.set_active(u.id(), false).await.unwrap();
    u.deactivate();
    assert_eq!(repo.get(u.id()).await.unwrap(), u, "only the flag changed");
    repo.set_active(u.id(), true).await.unwrap();
    u.reactivate();
    assert_eq!(repo.get(u.id()).await.unwrap(), u);
    let nobody = UserId::from_random([9; 16]);
    assert_eq!(
        repo.set_role(nobody, Role::Admin).await,
        Err(RepoError::NotFound)
    );
    assert_eq!(
        repo.set_active(nobody, false).await,
        Err(RepoError::NotFound)
    );
});

fn code_hash(n: u8) -> RecoveryCodeHash {
    RecoveryCode::from_random([n; 10]).hash([n; 16])
}

on_both_backends!(
    recovery_codes_are_replaced_as_a_set_and_each_used_once,
    |t: TestDb| async move {
        let users = t.db.users();
        let codes = t.db.recovery_codes();
        let u = user(1);
        users.insert(&u).await.unwrap();
        let first: Vec<RecoveryCodeHash> = (0..10).map(code_hash).collect();
        codes.replace_all(u.id(), &first).await.unwrap();
        let stored = codes.unused(u.id()).await.unwrap();
        assert_eq!(stored.len(), 10);
        for (i, code) in stored.iter().enumerate() {
            assert_eq!(
                (usize::from(code.index), code.hash, code.used_at),
                (i, first[i], None)
            );
        }
        assert!(codes.use_code(u.id(), 3, at(5)).await.unwrap());
        assert!(
            !codes.use_code(u.id(), 3, at(6)).await.unwrap(),
            "used once"
        );
        assert!(
            !codes.use_code(u.id(), 10, at(6)).await.unwrap(),
            "no such code"
        );
        let left: Vec<u8> = codes
            .unused(u.id())
            .await
            .unwrap()
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(left, [0, 1, 2, 4, 5, 6, 7, 8, 9]);

        // Eight uses of one code at once: exactly one counts.
        let shared = std::sync::Arc::clone(&codes);
        let wins = one_of_many_wins(8, || {
            let codes = std::sync::Arc::clone(&shared);
            let id = u.id();
            async move { codes.use_code(id, 4, at(7)).await.unwrap() }
        })
        .await;
        assert_eq!(wins, 1);

        // Regenerating replaces the whole set, used codes included.
        let second: Vec<RecoveryCodeHash> = (20..30).map(code_hash).collect();
        codes.replace_all(u.id(), &second).await.unwrap();
        let stored = codes.unused(u.id()).await.unwrap();
        assert_eq!(stored.iter().map(|c| c.hash).collect::<Vec<_>>(), second);
        assert!(
            stored.iter().all(|c| !first.contains(&c.hash)),
            "no old code survives"
        );
        // Another user's codes are their own.
        let other = user(2);
        users.insert(&other).await.unwrap();
        assert!(codes.unused(other.id()).await.unwrap().is_empty());
        assert!(!codes.use_code(other.id(), 0, at(8)).await.unwrap());
        assert_eq!(
            codes
                .replace_all(UserId::from_random([9; 16]), &second)
                .await,
            Err(RepoError::NotFound)
        );
        codes.delete_all(u.id()).await.unwrap();
        assert!(codes.unused(u.id()).await.unwrap().is_empty());
    }
);

// Retention (ASVS 14.2.7): a visitor who registered with a password and never confirmed the
// address is deleted once past the period, with what belongs to the account; nobody else is.
on_both_backends!(
    only_unconfirmed_visitor_accounts_past_the_cut_off_are_purged,
    |t: TestDb| async move {
        use wildid_domain::token::{LoginToken, RawToken, TokenPolicy, TokenPurpose};
        let repo = t.db.users();
        let with = |n: u8, created: i64, change: &dyn Fn(&mut wildid_domain::user::UserRecord)| {
            let mut record = user(n).into_record();
            record.created_at = at(created);
            record.password_hash = Some(PasswordHash::new(
                "$argon2id$v=19$m=19456,t=2,p=1$a$b".into(),
            ));
            change(&mut record);
            User::restore(record).unwrap()
        };
        let stale = with(1, 1, &|_| {});
        let recent = with(2, 10, &|_| {});
        let confirmed = with(3, 1, &|r| r.email_verified_at = Some(at(2)));
        let by_link = with(4, 1, &|r| r.password_hash = None);
        let worker = with(5, 1, &|r| r.role = Role::Worker);
        for u in [&stale, &recent, &confirmed, &by_link, &worker] {
            repo.insert(u).await.unwrap();
        }
        let link = LoginToken::issue(
            RawToken::from_random([1; 32]).hash(),
            TokenPurpose::EmailVerification,
            stale.email_lookup(),
            &TokenPolicy::default(),
            at(1),
        );
        t.db.login_tokens().insert(&link).await.unwrap();

        assert_eq!(repo.purge_unverified(at(5)).await.unwrap(), 1);
        assert_eq!(repo.get(stale.id()).await, Err(RepoError::NotFound));
        assert_eq!(
            t.db.login_tokens().get(&link.hash).await.unwrap(),
            None,
            "its link went with it"
        );
        for kept in [&recent, &confirmed, &by_link, &worker] {
            assert_eq!(repo.get(kept.id()).await.unwrap(), *kept);
        }
        assert_eq!(repo.purge_unverified(at(5)).await.unwrap(), 0);
        assert_eq!(
            repo.purge_unverified(at(11)).await.unwrap(),
            1,
            "the recent one, later"
        );
    }
);

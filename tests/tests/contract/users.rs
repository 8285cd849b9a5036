use chrono::{TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::lockout::LockoutState;
use wildid_domain::role::Role;
use wildid_domain::text::PlainText;
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
        let mut u = user(1);
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
        repo.insert(&u).await.unwrap();
        assert_eq!(repo.get(u.id).await.unwrap(), u);
        assert_eq!(
            repo.find_by_email(&u.email_lookup).await.unwrap(),
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
        let mut same_id = user(2);
        same_id.id = u.id;
        assert_eq!(repo.insert(&same_id).await, Err(RepoError::Duplicate));
        let mut same_email = user(3);
        same_email.email_lookup = u.email_lookup;
        assert_eq!(repo.insert(&same_email).await, Err(RepoError::Duplicate));
        assert_eq!(repo.count().await.unwrap(), 1);
        assert_eq!(repo.get(u.id).await.unwrap(), u);
    }
);

on_both_backends!(
    update_replaces_fields_including_clearing_them,
    |t: TestDb| async move {
        let repo = t.db.users();
        let mut u = user(1);
        u.password_hash = Some(PasswordHash::new("$argon2id$old".into()));
        u.lockout.locked_until = Some(at(10));
        repo.insert(&u).await.unwrap();
        u.role = Role::Admin;
        u.active = false;
        u.password_hash = None;
        u.lockout = LockoutState::default();
        repo.update(&u).await.unwrap();
        assert_eq!(repo.get(u.id).await.unwrap(), u);

        assert_eq!(repo.update(&user(7)).await, Err(RepoError::NotFound));
        let other = user(2);
        repo.insert(&other).await.unwrap();
        let mut clash = other.clone();
        clash.email_lookup = u.email_lookup;
        assert_eq!(repo.update(&clash).await, Err(RepoError::Duplicate));
        assert_eq!(repo.get(other.id).await.unwrap(), other);
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
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, vec![user(1).id, user(2).id, user(3).id]);
    let second: Vec<UserId> = repo
        .list(Page {
            offset: 1,
            limit: 1,
        })
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(second, vec![user(2).id]);
    repo.delete(user(2).id).await.unwrap();
    assert_eq!(repo.get(user(2).id).await, Err(RepoError::NotFound));
    assert_eq!(repo.delete(user(2).id).await, Err(RepoError::NotFound));
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
        u.lockout.failed_attempts = 2;
        repo.insert(&u).await.unwrap();
        let longest = PlainText::new(&"é".repeat(60), DISPLAY_NAME_MAX_CHARS).unwrap();
        repo.set_display_name(u.id, Some(longest.clone()))
            .await
            .unwrap();
        u.display_name = Some(longest);
        assert_eq!(repo.get(u.id).await.unwrap(), u, "nothing else changed");
        repo.set_display_name(u.id, None).await.unwrap();
        u.display_name = None;
        assert_eq!(repo.get(u.id).await.unwrap(), u);
        assert_eq!(
            repo.set_display_name(UserId::from_random([9; 16]), None)
                .await,
            Err(RepoError::NotFound)
        );
    }
);

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::ids::{MailId, UserId};
use wildid_domain::token::{LoginToken, RawToken, TokenPolicy, TokenPurpose};
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::RepoError;
use wildid_ports::repo::QueuedMail;
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

fn at(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
        + TimeDelta::microseconds(secs * 1_000_000 + 7)
}

fn token(n: u8, purpose: TokenPurpose) -> LoginToken {
    LoginToken::issue(
        RawToken::from_random([n; 32]).hash(),
        purpose,
        EmailLookup::from_bytes([n; 32]),
        &TokenPolicy::default(),
        at(0),
    )
}

fn mail(n: u8, due: i64) -> QueuedMail {
    QueuedMail {
        id: MailId::from_random([n; 16]),
        payload: EncryptedField::new(format!("gAAAA-payload-{n}")),
        created_at: at(i64::from(n)),
        attempts: 0,
        next_attempt_at: at(due),
        sent_at: None,
        last_error: None,
    }
}

// The repository consumes tokens by a conditional UPDATE, not through
// `LoginToken::consume`; this model-based test keeps the two in agreement. For random
// lifetimes and random sequences of attempts (right or wrong digest, right or wrong purpose,
// at any time around the expiry), the repository answers `Some` exactly when the domain model
// says the token is consumed, with the same `used_at`, and the stored token ends as the
// model's.
on_both_backends!(
    consumption_agrees_with_the_domain_model,
    |t: TestDb| async move {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};

        let repo = t.db.login_tokens();
        let handle = tokio::runtime::Handle::current();
        let serial = std::sync::atomic::AtomicU32::new(0);
        // (lifetime in seconds, attempts as (seconds after issue, right digest, right purpose)).
        let cases = (
            1i64..1200,
            proptest::collection::vec((0i64..1500, any::<bool>(), any::<bool>()), 1..8),
        );
        let mut runner = TestRunner::new(Config {
            cases: 40,
            ..Config::default()
        });
        tokio::task::block_in_place(|| {
            runner.run(&cases, |(lifetime, attempts)| {
                let n = serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut seed = [7u8; 32];
                seed[..4].copy_from_slice(&n.to_be_bytes());
                let mut model = LoginToken::issue(
                    RawToken::from_random(seed).hash(),
                    TokenPurpose::MagicLink,
                    EmailLookup::from_bytes([3; 32]),
                    &TokenPolicy::new(TimeDelta::seconds(lifetime), TimeDelta::hours(24)).unwrap(),
                    at(0),
                );
                handle.block_on(async {
                    repo.insert(&model).await.unwrap();
                    let stranger = RawToken::from_random([0xEE; 32]).hash();
                    for (after, right_digest, right_purpose) in attempts {
                        let now = at(after);
                        let hash = if right_digest { model.hash } else { stranger };
                        let purpose = if right_purpose {
                            TokenPurpose::MagicLink
                        } else {
                            TokenPurpose::EmailVerification
                        };
                        let stored = repo.consume(&hash, purpose, now).await.unwrap();
                        let expected =
                            (right_digest && right_purpose && model.consume(now).is_ok())
                                .then(|| model.clone());
                        prop_assert_eq!(stored, expected, "at {}s of {}s", after, lifetime);
                    }
                    prop_assert_eq!(repo.get(&model.hash).await.unwrap(), Some(model.clone()));
                    Ok(())
                })
            })
        })
        .unwrap();
    }
);

on_both_backends!(
    a_token_is_consumed_exactly_once_even_under_concurrency,
    |t: TestDb| async move {
        let repo = Arc::new(t.db.login_tokens());
        let tok = token(1, TokenPurpose::MagicLink);
        repo.insert(&tok).await.unwrap();
        assert_eq!(repo.insert(&tok).await, Err(RepoError::Duplicate));
        assert_eq!(
            repo.consume(&tok.hash, TokenPurpose::EmailVerification, at(1))
                .await
                .unwrap(),
            None,
            "wrong purpose"
        );
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let repo = Arc::clone(&repo);
            let hash = tok.hash;
            tasks.push(tokio::spawn(async move {
                repo.consume(&hash, TokenPurpose::MagicLink, at(5))
                    .await
                    .unwrap()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            if let Some(consumed) = task.await.unwrap() {
                winners += 1;
                assert_eq!(consumed.used_at, Some(at(5)));
            }
        }
        assert_eq!(winners, 1);
        assert_eq!(
            repo.get(&tok.hash).await.unwrap().unwrap().used_at,
            Some(at(5)),
            "use time recorded"
        );
    }
);

on_both_backends!(
    expired_tokens_are_not_consumed_and_are_purged,
    |t: TestDb| async move {
        let repo = t.db.login_tokens();
        let tok = token(2, TokenPurpose::MagicLink);
        repo.insert(&tok).await.unwrap();
        assert_eq!(
            repo.consume(&tok.hash, TokenPurpose::MagicLink, tok.expires_at)
                .await
                .unwrap(),
            None
        );
        let fresh = token(3, TokenPurpose::EmailVerification);
        repo.insert(&fresh).await.unwrap();
        assert_eq!(
            repo.purge_spent(tok.expires_at + TimeDelta::seconds(1))
                .await
                .unwrap(),
            1
        );
        assert!(repo.get(&fresh.hash).await.unwrap().is_some());
    }
);

on_both_backends!(
    a_token_and_its_mail_are_written_together_or_not_at_all,
    |t: TestDb| async move {
        let tokens = t.db.login_tokens();
        let outbox = t.db.mail_outbox();
        tokens
            .insert_with_mail(&token(4, TokenPurpose::MagicLink), &[mail(4, 0)])
            .await
            .unwrap();
        assert_eq!(outbox.pending().await.unwrap(), 1);
        // The second mail's id clashes: neither the token nor the first mail is stored.
        let orphan = token(5, TokenPurpose::MagicLink);
        assert_eq!(
            tokens
                .insert_with_mail(&orphan, &[mail(5, 0), mail(4, 0)])
                .await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(tokens.get(&orphan.hash).await.unwrap(), None);
        assert_eq!(outbox.pending().await.unwrap(), 1);
        // Two mails with one token.
        tokens
            .insert_with_mail(
                &token(7, TokenPurpose::MagicLink),
                &[mail(7, 0), mail(8, 0)],
            )
            .await
            .unwrap();
        assert_eq!(outbox.pending().await.unwrap(), 3);
    }
);

on_both_backends!(
    the_oldest_unsent_message_tells_how_long_mail_has_waited,
    |t: TestDb| async move {
        let outbox = t.db.mail_outbox();
        assert_eq!(outbox.oldest_pending().await.unwrap(), None);
        for n in [3, 2, 9] {
            outbox.enqueue(&mail(n, 0)).await.unwrap();
        }
        assert_eq!(outbox.oldest_pending().await.unwrap(), Some(at(2)));
        outbox
            .mark_sent(MailId::from_random([2; 16]), at(20))
            .await
            .unwrap();
        assert_eq!(outbox.oldest_pending().await.unwrap(), Some(at(3)));
        for n in [3, 9] {
            outbox
                .mark_sent(MailId::from_random([n; 16]), at(21))
                .await
                .unwrap();
        }
        assert_eq!(outbox.oldest_pending().await.unwrap(), None);
    }
);

/// Token `n` of `purpose` for address `address`, issued at second `issued`.
fn token_of(n: u8, address: u8, purpose: TokenPurpose, issued: i64) -> LoginToken {
    LoginToken::issue(
        RawToken::from_random([n; 32]).hash(),
        purpose,
        EmailLookup::from_bytes([address; 32]),
        &TokenPolicy::default(),
        at(issued),
    )
}

// ASVS 6.6.2: a new link voids the earlier unused ones of its address and purpose, in the
// transaction that stores it; other purposes and other addresses keep theirs, and a write that
// fails voids nothing.
on_both_backends!(
    a_new_link_voids_the_earlier_unused_ones_of_its_address_and_purpose,
    |t: TestDb| async move {
        use TokenPurpose::{EmailVerification, MagicLink};
        let tokens = t.db.login_tokens();
        let first = token_of(30, 20, MagicLink, 0);
        let second = token_of(31, 20, MagicLink, 1);
        let verification = token_of(32, 20, EmailVerification, 1);
        let elsewhere = token_of(33, 21, MagicLink, 1);
        for earlier in [&first, &second, &verification, &elsewhere] {
            tokens.insert(earlier).await.unwrap();
        }
        let newest = token_of(34, 20, MagicLink, 5);
        assert_eq!(
            tokens
                .supersede_with_mail(&newest, &[mail(34, 0)])
                .await
                .unwrap(),
            2
        );
        for voided in [&first, &second] {
            let stored = tokens.get(&voided.hash).await.unwrap().unwrap();
            assert_eq!(
                stored.used_at,
                Some(at(5)),
                "voided when the new link was made"
            );
            assert_eq!(
                tokens
                    .consume(&voided.hash, MagicLink, at(6))
                    .await
                    .unwrap(),
                None
            );
        }
        assert!(
            tokens
                .consume(&newest.hash, MagicLink, at(6))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            tokens
                .consume(&verification.hash, EmailVerification, at(6))
                .await
                .unwrap()
                .is_some(),
            "another purpose keeps its link"
        );
        // A failed write (the mail id is taken) stores nothing and voids nothing.
        let failed = token_of(35, 21, MagicLink, 7);
        assert_eq!(
            tokens.supersede_with_mail(&failed, &[mail(34, 0)]).await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(tokens.get(&failed.hash).await.unwrap(), None);
        assert!(
            tokens
                .consume(&elsewhere.hash, MagicLink, at(8))
                .await
                .unwrap()
                .is_some(),
            "another address keeps its link"
        );
    }
);

on_both_backends!(
    registration_writes_user_token_and_mail_atomically,
    |t: TestDb| async move {
        let users = t.db.users();
        let user = User::new(
            UserId::from_random([6; 16]),
            EmailLookup::from_bytes([6; 32]),
            EncryptedField::new("e".into()),
            at(0),
        );
        users
            .insert_with_token(
                &user,
                &token(6, TokenPurpose::EmailVerification),
                &mail(6, 0),
            )
            .await
            .unwrap();
        assert_eq!(users.get(user.id()).await.unwrap(), user);
        let mut twin = user.to_record();
        twin.id = UserId::from_random([7; 16]);
        let twin = User::restore(twin).unwrap();
        let result = users
            .insert_with_token(
                &twin,
                &token(7, TokenPurpose::EmailVerification),
                &mail(7, 0),
            )
            .await;
        assert_eq!(result, Err(RepoError::Duplicate), "same email lookup");
        assert_eq!(
            t.db.login_tokens()
                .get(&token(7, TokenPurpose::EmailVerification).hash)
                .await
                .unwrap(),
            None
        );
        assert_eq!(t.db.mail_outbox().pending().await.unwrap(), 1);
    }
);

on_both_backends!(
    outbox_claims_are_exclusive_and_leases_expire,
    |t: TestDb| async move {
        let outbox = Arc::new(t.db.mail_outbox());
        for n in 0..30 {
            outbox.enqueue(&mail(n, 0)).await.unwrap();
        }
        outbox.enqueue(&mail(200, 1000)).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let outbox = Arc::clone(&outbox);
            // Each worker claims until nothing is due: a round may come back short when another
            // worker took the same rows, but together they claim every due message exactly once.
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = outbox.claim_due(at(10), at(310), 8).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch);
                }
            }));
        }
        let mut seen = HashSet::new();
        for task in tasks {
            for m in task.await.unwrap() {
                assert!(seen.insert(m.id), "a message was claimed twice");
                assert_eq!(m.next_attempt_at, at(310));
            }
        }
        assert_eq!(
            seen.len(),
            30,
            "every due message claimed once, the future one not at all"
        );
        assert!(
            outbox
                .claim_due(at(20), at(320), 100)
                .await
                .unwrap()
                .is_empty(),
            "leased"
        );
        let first = *seen.iter().next().unwrap();
        outbox.mark_sent(first, at(30)).await.unwrap();
        outbox
            .reschedule(
                MailId::from_random([1; 16]),
                1,
                at(40),
                "smtp: connection refused\r\n",
            )
            .await
            .unwrap();
        assert_eq!(outbox.pending().await.unwrap(), 30);
        // After the lease, unsent messages come back (a crashed worker loses nothing).
        let again = outbox.claim_due(at(311), at(611), 100).await.unwrap();
        assert_eq!(again.len(), 29, "the 30 claimed before, less the one sent");
        let retried = again.iter().find(|m| m.id == MailId::from_random([1; 16]));
        assert!(retried.is_none() || retried.unwrap().attempts == 1);
        assert_eq!(outbox.purge_sent_before(at(31)).await.unwrap(), 1);
        assert_eq!(
            outbox.mark_sent(MailId::from_random([99; 16]), at(1)).await,
            Err(RepoError::NotFound)
        );
    }
);

fn account(n: u8) -> User {
    User::new(
        UserId::from_random([n; 16]),
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-address-{n}")),
        at(0),
    )
}

fn change_link(n: u8, owner: &User, new_lookup: u8) -> LoginToken {
    LoginToken::email_change(
        RawToken::from_random([n; 32]).hash(),
        owner.id(),
        EmailLookup::from_bytes([new_lookup; 32]),
        EncryptedField::new(format!("gAAAA-new-address-{new_lookup}")),
        &TokenPolicy::default(),
        at(0),
    )
}

on_both_backends!(
    an_address_change_moves_the_account_once_and_only_its_own,
    |t: TestDb| async move {
        let (users, tokens, outbox) = (t.db.users(), t.db.login_tokens(), t.db.mail_outbox());
        let (owner, other) = (account(20), account(21));
        users.insert(&owner).await.unwrap();
        users.insert(&other).await.unwrap();
        let link = change_link(22, &owner, 23);
        tokens
            .insert_with_mail(&link, &[mail(22, 0)])
            .await
            .unwrap();
        assert_eq!(
            tokens.get(&link.hash).await.unwrap(),
            Some(link.clone()),
            "round trip"
        );

        // Another account, another purpose, an expired link: nothing changes.
        assert!(
            !users
                .change_email(other.id(), &link.hash, at(1), &mail(24, 0))
                .await
                .unwrap()
        );
        let sign_in = token(25, TokenPurpose::MagicLink);
        tokens.insert(&sign_in).await.unwrap();
        assert!(
            !users
                .change_email(owner.id(), &sign_in.hash, at(1), &mail(24, 0))
                .await
                .unwrap()
        );
        assert!(
            !users
                .change_email(owner.id(), &link.hash, link.expires_at, &mail(24, 0))
                .await
                .unwrap()
        );
        assert_eq!(outbox.pending().await.unwrap(), 1, "no notice queued");
        assert_eq!(users.get(owner.id()).await.unwrap(), owner);

        // Concurrent uses: one moves the account, with its notice.
        let users = Arc::new(users);
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let (users, hash, id) = (Arc::clone(&users), link.hash, owner.id());
            tasks.push(tokio::spawn(async move {
                users.change_email(id, &hash, at(5), &mail(30 + i, 0)).await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
        assert_eq!(outbox.pending().await.unwrap(), 2, "one notice");
        let moved = users.get(owner.id()).await.unwrap();
        assert_eq!(moved.email_lookup(), EmailLookup::from_bytes([23; 32]));
        assert_eq!(
            *moved.email_encrypted(),
            EncryptedField::new("gAAAA-new-address-23".into())
        );
        assert_eq!(moved.email_verified_at(), Some(at(5)));
        assert_eq!(
            tokens.get(&link.hash).await.unwrap().unwrap().used_at,
            Some(at(5))
        );
        assert_eq!(
            users
                .find_by_email(&EmailLookup::from_bytes([23; 32]))
                .await
                .unwrap()
                .map(|u| u.id()),
            Some(owner.id())
        );
    }
);

on_both_backends!(
    an_address_taken_meanwhile_changes_nothing_and_keeps_the_link,
    |t: TestDb| async move {
        let (users, tokens, outbox) = (t.db.users(), t.db.login_tokens(), t.db.mail_outbox());
        let owner = account(40);
        users.insert(&owner).await.unwrap();
        let link = change_link(41, &owner, 42);
        tokens.insert(&link).await.unwrap();
        // Someone registers the new address before the link is used.
        users.insert(&account(42)).await.unwrap();
        assert_eq!(
            users
                .change_email(owner.id(), &link.hash, at(1), &mail(43, 0))
                .await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(users.get(owner.id()).await.unwrap(), owner);
        assert_eq!(tokens.get(&link.hash).await.unwrap().unwrap().used_at, None);
        assert_eq!(outbox.pending().await.unwrap(), 0);
        // Deleting the account deletes its pending links.
        users.delete(owner.id()).await.unwrap();
        assert_eq!(tokens.get(&link.hash).await.unwrap(), None);
    }
);

on_both_backends!(
    the_database_refuses_an_address_change_link_without_its_account,
    |t: TestDb| async move {
        let tokens = t.db.login_tokens();
        let ghost = account(50);
        assert_eq!(
            tokens.insert(&change_link(51, &ghost, 52)).await,
            Err(RepoError::NotFound),
            "the account must exist"
        );
        let mut malformed = token(53, TokenPurpose::MagicLink);
        malformed.user_id = Some(ghost.id());
        assert!(
            tokens.insert(&malformed).await.is_err(),
            "only address-change links name an account"
        );
    }
);

// Re-keying the address index (an email pepper rotation): accounts and the links that carry an
// address are read in key order, page by page; an account moves from its old digest to the new
// one by compare-and-set, with the unused links sent to it, and never onto another account's.
on_both_backends!(
    address_digests_are_walked_and_moved_with_their_links_by_compare_and_set,
    |t: TestDb| async move {
        use TokenPurpose::{EmailVerification, MagicLink};
        let (users, tokens) = (t.db.users(), t.db.login_tokens());
        let person = |n: u8| {
            User::new(
                UserId::from_random([n; 16]),
                EmailLookup::from_bytes([n; 32]),
                EncryptedField::new(format!("gAAAA-address-{n}")),
                at(i64::from(n)),
            )
        };
        for n in [3, 1, 2] {
            users.insert(&person(n)).await.unwrap();
        }
        let first = users.addresses(None, 2).await.unwrap();
        let keys: Vec<UserId> = first.iter().map(|a| a.key).collect();
        assert_eq!(keys, vec![person(1).id(), person(2).id()]);
        assert_eq!(first[0].lookup, EmailLookup::from_bytes([1; 32]));
        assert_eq!(first[0].encrypted.as_str(), "gAAAA-address-1");
        let rest = users.addresses(Some(person(2).id()), 2).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].key, person(3).id());

        // Account 1's links: a verification link (no address carried), a sign-in link (with
        // its address), one already used; and someone else's link.
        let verify = token_of(10, 1, EmailVerification, 0);
        let sign_in =
            token_of(11, 1, MagicLink, 0).with_address(EncryptedField::new("gAAAA-a1".into()));
        let used = token_of(12, 1, MagicLink, 0);
        let other = token_of(13, 2, MagicLink, 0);
        for token in [&verify, &sign_in, &used, &other] {
            tokens.insert(token).await.unwrap();
        }
        tokens
            .consume(&used.hash, MagicLink, at(1))
            .await
            .unwrap()
            .unwrap();
        let carried = tokens.addresses(None, 10).await.unwrap();
        assert_eq!(carried.len(), 1, "only unused links that carry an address");
        assert_eq!(carried[0].key, sign_in.hash);
        assert_eq!(carried[0].encrypted.as_str(), "gAAAA-a1");

        let (old, new) = (
            EmailLookup::from_bytes([1; 32]),
            EmailLookup::from_bytes([41; 32]),
        );
        assert!(
            users
                .rekey_address(person(1).id(), &old, &new)
                .await
                .unwrap()
        );
        let moved = users.get(person(1).id()).await.unwrap();
        assert_eq!(moved.email_lookup(), new);
        assert_eq!(users.find_by_email(&new).await.unwrap(), Some(moved));
        assert_eq!(users.find_by_email(&old).await.unwrap(), None);
        for (token, expected) in [(&verify, new), (&sign_in, new), (&used, old)] {
            let stored = tokens.get(&token.hash).await.unwrap().unwrap();
            assert_eq!(stored.email_lookup, expected, "{:?}", token.purpose);
        }
        assert_eq!(
            tokens.get(&other.hash).await.unwrap().unwrap().email_lookup,
            EmailLookup::from_bytes([2; 32])
        );
        // Stale: the account no longer holds the old digest. Nothing changes.
        assert!(
            !users
                .rekey_address(person(1).id(), &old, &new)
                .await
                .unwrap()
        );
        assert!(
            !users
                .rekey_address(UserId::from_random([9; 16]), &old, &new)
                .await
                .unwrap()
        );
        // Onto another account's digest: refused, nothing changes (its links neither).
        let theirs = EmailLookup::from_bytes([3; 32]);
        let two = EmailLookup::from_bytes([2; 32]);
        assert_eq!(
            users.rekey_address(person(2).id(), &two, &theirs).await,
            Err(RepoError::Duplicate)
        );
        assert_eq!(users.get(person(2).id()).await.unwrap().email_lookup(), two);
        assert_eq!(
            tokens.get(&other.hash).await.unwrap().unwrap().email_lookup,
            two
        );

        // A link alone, by compare-and-set.
        let fresh = EmailLookup::from_bytes([51; 32]);
        assert!(
            !tokens
                .rekey_address(&sign_in.hash, &old, &fresh)
                .await
                .unwrap()
        );
        assert!(
            tokens
                .rekey_address(&sign_in.hash, &new, &fresh)
                .await
                .unwrap()
        );
        assert_eq!(
            tokens
                .get(&sign_in.hash)
                .await
                .unwrap()
                .unwrap()
                .email_lookup,
            fresh
        );
        assert!(
            !tokens
                .rekey_address(&used.hash, &old, &fresh)
                .await
                .unwrap(),
            "used links stay"
        );
    }
);

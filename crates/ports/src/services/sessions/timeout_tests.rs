//! The idle timeout and the absolute lifetime are enforced when a session comes back (ASVS
//! 7.1.1, 7.3.1, 7.3.2): a request on a session past either is served as if it had none, and
//! the stored session is deleted, so that it cannot come back later.

use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use wildid_domain::ids::UserId;
use wildid_domain::session::{CsrfToken, Session, SessionPolicy, SessionToken};
use wildid_domain::user::{EmailLookup, EncryptedField, User};

use super::randomness_tests::client;
use super::{Resumed, SessionService};
use crate::builtin::OsRandom;
use crate::repo::{MockAuditLog, MockSessionRepository, MockUserRepository};
use crate::services::audit::AuditTrail;
use crate::services::fixtures::{FixedClock, t0};

/// Resumes a session created at `t0` and last seen `seen` later, at `now` after `t0`; returns
/// what came back and whether the stored session was deleted.
async fn resume_at(seen: TimeDelta, now: TimeDelta) -> (Resumed, bool) {
    let token = SessionToken::from_random([7; 32]);
    let user = UserId::from_random([1; 16]);
    let mut session = Session::new_signed_in(
        token.key(),
        user,
        client().fingerprint,
        CsrfToken::from_random([8; 32]),
        t0(),
    );
    session.touch(t0() + seen);
    let mut sessions = MockSessionRepository::new();
    sessions
        .expect_get()
        .returning(move |_| Ok(Some(session.clone())));
    let deleted = Arc::new(Mutex::new(false));
    let seen_delete = Arc::clone(&deleted);
    sessions.expect_delete().returning(move |_| {
        *seen_delete.lock().unwrap() = true;
        Ok(())
    });
    sessions.expect_touch().returning(|_, _| Ok(()));
    let mut users = MockUserRepository::new();
    users.expect_get().returning(move |id| {
        Ok(User::new(
            id,
            EmailLookup::from_bytes([1; 32]),
            EncryptedField::new("x".into()),
            t0(),
        ))
    });
    let service = SessionService::new(
        Arc::new(sessions),
        Arc::new(users),
        AuditTrail::new(Arc::new(MockAuditLog::new())),
        Arc::new(FixedClock(t0() + now)),
        Arc::new(OsRandom),
        SessionPolicy::default(),
    );
    let resumed = service.resume(&token, &client()).await.unwrap();
    let deleted = *deleted.lock().unwrap();
    (resumed, deleted)
}

#[tokio::test]
async fn a_session_idle_for_its_timeout_ends_and_is_deleted() {
    let (resumed, deleted) = resume_at(TimeDelta::zero(), TimeDelta::minutes(29)).await;
    assert!(matches!(resumed, Resumed::SignedIn(..)), "29 idle minutes");
    assert!(!deleted);
    let (resumed, deleted) = resume_at(TimeDelta::zero(), TimeDelta::minutes(30)).await;
    assert!(matches!(resumed, Resumed::None), "30 idle minutes");
    assert!(deleted, "the stored session is gone");
}

#[tokio::test]
async fn a_session_at_its_absolute_lifetime_ends_however_active() {
    let week = TimeDelta::days(7);
    let (resumed, _) = resume_at(week - TimeDelta::minutes(2), week - TimeDelta::minutes(1)).await;
    assert!(matches!(resumed, Resumed::SignedIn(..)), "a minute before");
    let (resumed, deleted) = resume_at(week - TimeDelta::minutes(1), week).await;
    assert!(
        matches!(resumed, Resumed::None),
        "seen a minute ago, but a week old"
    );
    assert!(deleted);
}

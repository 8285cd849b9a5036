//! Fixtures shared by the use cases' unit tests.

use chrono::TimeZone;
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionToken};

use crate::clock::Clock;

/// A clock that always says the same time.
pub(crate) struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// The tests' "now".
pub(crate) fn t0() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
}

/// Anonymous session number `n`, fresh at [`t0`].
pub(crate) fn anonymous_session(n: u8) -> Session {
    Session::new_anonymous(
        SessionToken::from_random([n; 32]).key(),
        Fingerprint::from_headers("ua", "en", "gzip"),
        CsrfToken::from_random([n; 32]),
        t0(),
    )
}

/// Session number `n` as [`anonymous_session`], but with `user` signed in (and no
/// authentication time).
pub(crate) fn session_of(n: u8, user: UserId) -> Session {
    let mut record = anonymous_session(n).into_record();
    record.user_id = Some(user);
    Session::restore(record).unwrap()
}

/// Sessions whose trust states live in a list and change by real compare-and-swap; the list
/// is returned for the test to look at.
pub(crate) fn cas_sessions(
    sessions: Vec<Session>,
) -> (
    crate::repo::MockSessionRepository,
    std::sync::Arc<std::sync::Mutex<Vec<Session>>>,
) {
    use std::sync::{Arc, Mutex};
    let stored = Arc::new(Mutex::new(sessions));
    let mut repo = crate::repo::MockSessionRepository::new();
    let for_swap = Arc::clone(&stored);
    repo.expect_swap_trust()
        .returning(move |key, expected, new| {
            let mut all = for_swap.lock().unwrap();
            let s = all
                .iter_mut()
                .find(|s| s.key() == *key)
                .ok_or(crate::RepoError::NotFound)?;
            if s.trust() == *expected {
                s.set_trust(*new);
                Ok(true)
            } else {
                Ok(false)
            }
        });
    let for_get = Arc::clone(&stored);
    repo.expect_get().returning(move |key| {
        Ok(for_get
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.key() == *key)
            .cloned())
    });
    (repo, stored)
}

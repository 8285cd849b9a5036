//! Fixtures shared by the use cases' unit tests.

use chrono::TimeZone;
use wildid_domain::Timestamp;
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionToken};
use wildid_domain::trust::TrustState;

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
    Session {
        key: SessionToken::from_random([n; 32]).key(),
        user_id: None,
        fingerprint: Fingerprint::from_headers("ua", "en", "gzip"),
        csrf: CsrfToken::from_random([n; 32]),
        created_at: t0(),
        last_seen_at: t0(),
        authenticated_at: None,
        trust: TrustState::default(),
        coarse_ip: None,
        device: None,
    }
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
                .find(|s| s.key == *key)
                .ok_or(crate::RepoError::NotFound)?;
            if s.trust == *expected {
                s.trust = *new;
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
            .find(|s| s.key == *key)
            .cloned())
    });
    (repo, stored)
}

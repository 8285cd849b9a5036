//! What several contract files start from: instants and stored sessions.

use chrono::{TimeDelta, TimeZone, Utc};
use wildid_domain::Timestamp;
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionToken};
use wildid_tests::db::TestDb;

/// `secs` seconds after a fixed instant, with microseconds (storage must keep them).
pub fn at(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
        + TimeDelta::microseconds(secs * 1_000_000 + 250_001)
}

/// An anonymous session number `n`, stored.
pub async fn session(t: &TestDb, n: u8) -> Session {
    let s = Session::new_anonymous(
        SessionToken::from_random([n; 32]).key(),
        Fingerprint::from_headers("UA", "en", "gzip"),
        CsrfToken::from_random([n; 32]),
        at(0),
    );
    t.db.sessions().insert(&s).await.unwrap();
    s
}

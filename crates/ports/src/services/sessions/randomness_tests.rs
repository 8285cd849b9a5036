//! A session's secrets come whole from the random port: the cookie token and the anti-forgery
//! token are exactly the next 32 bytes each that [`SecureRandom`] gave, nothing mixed in and
//! nothing shorter, so their strength is the port's. In production that port is the operating
//! system's CSPRNG, the only implementation outside tests (`tests/tests/suite/randomness.rs`).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wildid_domain::session::{Fingerprint, SessionPolicy};

use super::{ClientInfo, SessionError, SessionService};
use crate::random::{RandomUnavailable, SecureRandom};
use crate::repo::{MockAuditLog, MockSessionRepository, MockUserRepository};
use crate::services::audit::AuditTrail;
use crate::services::fixtures::{FixedClock, t0};

/// Hands out 0, 1, 2... and keeps what it gave; or fails, like an exhausted source.
#[derive(Default)]
struct Recorded {
    given: Mutex<Vec<u8>>,
    broken: bool,
}

impl SecureRandom for Recorded {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable> {
        if self.broken {
            return Err(RandomUnavailable);
        }
        let mut given = self.given.lock().unwrap();
        for byte in buf.iter_mut() {
            *byte = (given.len() % 251) as u8;
            given.push(*byte);
        }
        Ok(())
    }
}

fn service(random: Arc<Recorded>, stores: bool) -> SessionService {
    let mut sessions = MockSessionRepository::new();
    if stores {
        sessions.expect_insert().times(1).returning(|_| Ok(()));
    }
    SessionService::new(
        Arc::new(sessions),
        Arc::new(MockUserRepository::new()),
        AuditTrail::new(Arc::new(MockAuditLog::new())),
        Arc::new(FixedClock(t0())),
        random,
        SessionPolicy::default(),
    )
}

/// A browser with fixed identifying headers.
pub(super) fn client() -> ClientInfo {
    ClientInfo {
        fingerprint: Fingerprint::from_headers("ua", "en", "gzip"),
        coarse_ip: None,
        device: None,
        request_id: None,
        network: None,
    }
}

#[tokio::test]
async fn a_new_session_is_made_of_exactly_the_bytes_the_random_port_gave() {
    let random = Arc::new(Recorded::default());
    let started = service(Arc::clone(&random), true)
        .start_anonymous(&client())
        .await
        .unwrap();
    let given = random.given.lock().unwrap().clone();
    assert_eq!(given.len(), 64, "256 bits for each of the two tokens");
    assert_eq!(
        started.token.encode().expose().as_str(),
        URL_SAFE_NO_PAD.encode(&given[..32]),
        "the cookie is the first 32 bytes"
    );
    assert_eq!(
        started.session.csrf().as_bytes().as_slice(),
        &given[32..],
        "the anti-forgery token is the next 32"
    );
}

#[tokio::test]
async fn without_randomness_no_session_starts_and_nothing_is_stored() {
    let random = Arc::new(Recorded {
        broken: true,
        ..Recorded::default()
    });
    let refused = service(random, false).start_anonymous(&client()).await;
    assert!(matches!(refused, Err(SessionError::Random)));
}

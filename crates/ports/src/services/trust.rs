//! The adaptive limit on identifications (seed §6): counted per session **and** per client
//! network, over a window, against a threshold. At the threshold the session is marked
//! rate-limited and must pass a CAPTCHA (`services::captcha`); a new cookie does not help,
//! since the network has its own count. A trusted session (one that passed) is no longer
//! limited by its own count, but a hard per-network ceiling holds for everyone.
//!
//! The session's count changes by compare-and-swap on its stored trust state, and the network
//! counts are atomic upserts, so concurrent requests cannot both slip under a limit; every
//! server process sharing the database sees the same counts.

use std::sync::Arc;

use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::session::Session;
use wildid_domain::trust::{RateLimitPolicy, TrustDecision, TrustState};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::KeyedDigest;
use crate::repo::{RateLimitStore, SessionRepository};
use crate::services::sessions::{TRUST_CAS_ROUNDS, stored_trust, update_trust};

/// Why an identification may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// A CAPTCHA must be passed first (API: 429 `captcha_required`).
    #[error("captcha required")]
    CaptchaRequired {
        /// Seconds until the window ends by itself.
        retry_after: i64,
    },
    /// The network's hard ceiling is reached; no CAPTCHA lifts it (API: 429).
    #[error("too many identifications from this network")]
    CeilingReached {
        /// Seconds until the window ends.
        retry_after: i64,
    },
    /// Storage failed.
    #[error("trust state unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for AdmitError {
    fn from(e: RepoError) -> Self {
        AdmitError::Unavailable(e.to_string())
    }
}

/// The gate in front of identifications.
#[derive(Clone)]
pub struct TrustGate {
    sessions: Arc<dyn SessionRepository>,
    counters: Arc<dyn RateLimitStore>,
    digest: Arc<dyn KeyedDigest>,
    clock: Arc<dyn Clock>,
    policy: RateLimitPolicy,
}

impl TrustGate {
    /// The gate with `policy` (threshold, window, per-network ceiling).
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        counters: Arc<dyn RateLimitStore>,
        digest: Arc<dyn KeyedDigest>,
        clock: Arc<dyn Clock>,
        policy: RateLimitPolicy,
    ) -> Self {
        Self {
            sessions,
            counters,
            digest,
            clock,
            policy,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RateLimitPolicy {
        &self.policy
    }

    /// Admits one identification by `session` from `network` (`limits::network_of`), counting
    /// it; returns the session's new trust state.
    ///
    /// # Errors
    /// [`AdmitError::CeilingReached`] beyond the network's ceiling (trusted or not);
    /// [`AdmitError::CaptchaRequired`] when the session, or an untrusted session of its
    /// network, reached the threshold (the session is then marked rate-limited);
    /// [`AdmitError::Unavailable`] when storage fails.
    pub async fn admit(
        &self,
        session: &Session,
        network: Option<&str>,
    ) -> Result<TrustState, AdmitError> {
        let now = self.clock.now();
        if let Some(network) = network {
            let ceiling = self.network_limit(self.policy.ip_ceiling())?;
            let key = self.digest.digest("trust-ceiling", network.as_bytes());
            if let RateDecision::Limited { retry_after } =
                self.counters.hit(&key, &ceiling, now).await?
            {
                return Err(AdmitError::CeilingReached {
                    retry_after: retry_after.num_seconds(),
                });
            }
        }
        // The session's own count (seed `can_proceed`, then `record_request`).
        let mut current = session.trust;
        let mut admitted = None;
        for _ in 0..TRUST_CAS_ROUNDS {
            let mut next = current;
            if let TrustDecision::CaptchaRequired { retry_after } =
                next.can_proceed(&self.policy, now)
            {
                if next != current {
                    // The window moved on meanwhile; store that, then refuse.
                    self.sessions
                        .swap_trust(&session.key, &current, &next)
                        .await?;
                }
                return Err(AdmitError::CaptchaRequired {
                    retry_after: retry_after.num_seconds(),
                });
            }
            next.record_identification(&self.policy, now);
            if self
                .sessions
                .swap_trust(&session.key, &current, &next)
                .await?
            {
                admitted = Some(next);
                break;
            }
            current = stored_trust(self.sessions.as_ref(), &session.key).await?;
        }
        let Some(trust) = admitted else {
            return Err(AdmitError::Unavailable(
                "the session's trust state kept changing".into(),
            ));
        };
        if trust.is_trusted {
            return Ok(trust);
        }
        // The network's count of untrusted identifications: a new cookie starts from it.
        if let Some(network) = network {
            let limit = self.network_limit(self.policy.threshold())?;
            let key = self.digest.digest("trust-network", network.as_bytes());
            if let RateDecision::Limited { retry_after } =
                self.counters.hit(&key, &limit, now).await?
            {
                // The session must pass a CAPTCHA, as its network already must.
                update_trust(self.sessions.as_ref(), &session.key, trust, |t| {
                    if !t.is_trusted {
                        t.rate_limited = true;
                    }
                })
                .await?;
                return Err(AdmitError::CaptchaRequired {
                    retry_after: retry_after.num_seconds(),
                });
            }
        }
        Ok(trust)
    }

    /// At most `max` per the policy's window (both positive: `RateLimitPolicy` guarantees it).
    fn network_limit(&self, max: u32) -> Result<RateLimit, AdmitError> {
        RateLimit::new(max, self.policy.window())
            .map_err(|e| AdmitError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use wildid_domain::secret::SecretBytes;

    use super::*;
    use crate::builtin::{HmacDigest, MemoryRateLimits};
    use crate::repo::MockSessionRepository;
    use crate::services::fixtures::{FixedClock, anonymous_session as session, cas_sessions, t0};

    fn sessions() -> (MockSessionRepository, Arc<Mutex<Vec<Session>>>) {
        cas_sessions(vec![session(1), session(2)])
    }

    fn gate(repo: MockSessionRepository, threshold: u32, ceiling: u32) -> TrustGate {
        TrustGate::new(
            Arc::new(repo),
            Arc::new(MemoryRateLimits::default()),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![4; 64]))),
            Arc::new(FixedClock(t0())),
            RateLimitPolicy::new(threshold, chrono::TimeDelta::seconds(3600), ceiling).unwrap(),
        )
    }

    fn stored(all: &Mutex<Vec<Session>>, n: usize) -> Session {
        all.lock().unwrap()[n].clone()
    }

    #[tokio::test]
    async fn the_threshold_requires_a_captcha_and_a_new_cookie_does_not_help() {
        let (repo, all) = sessions();
        let gate = gate(repo, 3, 30);
        let net = Some("203.0.113.9");
        for count in 1..=3 {
            let trust = gate.admit(&stored(&all, 0), net).await.unwrap();
            assert_eq!(trust.request_count, count);
        }
        assert!(
            stored(&all, 0).trust.rate_limited,
            "marked at the threshold"
        );
        assert_eq!(
            gate.admit(&stored(&all, 0), net).await,
            Err(AdmitError::CaptchaRequired { retry_after: 3600 })
        );
        // The same network with a fresh session: its network has had its three.
        assert!(matches!(
            gate.admit(&stored(&all, 1), net).await,
            Err(AdmitError::CaptchaRequired { .. })
        ));
        assert!(
            stored(&all, 1).trust.rate_limited,
            "the new session must pass too"
        );
        // Another network is not affected.
        let mut other = stored(&all, 1);
        other.trust = TrustState::default();
        all.lock().unwrap()[1].trust = TrustState::default();
        assert!(gate.admit(&other, Some("198.51.100.1")).await.is_ok());
    }

    #[tokio::test]
    async fn a_trusted_session_is_held_only_by_the_network_ceiling() {
        let (repo, all) = sessions();
        let gate = gate(repo, 2, 5);
        let mut trusted = stored(&all, 0).trust;
        trusted.pass_captcha(t0());
        all.lock().unwrap()[0].trust = trusted;
        for _ in 0..5 {
            assert!(
                gate.admit(&stored(&all, 0), Some("203.0.113.9"))
                    .await
                    .is_ok()
            );
        }
        assert_eq!(
            gate.admit(&stored(&all, 0), Some("203.0.113.9")).await,
            Err(AdmitError::CeilingReached { retry_after: 3600 })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_cannot_both_slip_under_the_threshold() {
        let (repo, all) = sessions();
        let gate = Arc::new(gate(repo, 4, 100));
        // Every request starts from the same (soon stale) state, all at once.
        let snapshot = stored(&all, 0);
        let tries: Vec<_> = (0..12)
            .map(|_| {
                let gate = Arc::clone(&gate);
                let s = snapshot.clone();
                tokio::spawn(async move { gate.admit(&s, None).await.is_ok() })
            })
            .collect();
        let mut admitted = 0;
        for t in tries {
            admitted += usize::from(t.await.unwrap());
        }
        assert_eq!(admitted, 4, "exactly the threshold got through");
        assert_eq!(stored(&all, 0).trust.request_count, 4);
    }
}

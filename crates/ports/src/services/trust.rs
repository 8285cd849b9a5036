//! The adaptive limit on identifications: counted per session **and** per client
//! network, over a window, against a threshold. At the threshold the session is marked
//! rate-limited and must pass a CAPTCHA (`services::captcha`); a new cookie does not help,
//! since the network has its own count. A trusted session (one that passed) is no longer
//! limited by its own count, but a hard per-network ceiling holds for everyone.
//!
//! The network's count of untrusted identifications has its own threshold
//! (`RateLimitPolicy::network_threshold`, by default 40 sessions' allowances), so the people
//! of a shared network (a field station, a school) each use their own allowance before
//! anyone else's uploads can send them to the check.
//!
//! The session's count changes by compare-and-swap on its stored trust state, and the network
//! counts are atomic upserts, so concurrent requests cannot both slip under a limit; every
//! server process sharing the database sees the same counts.

use std::sync::Arc;

use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::session::Session;
use wildid_domain::trust::{RateLimitPolicy, Standing, TrustDecision};

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
    /// it; returns where the session stands afterwards (its new trust state, and what is left,
    /// from the counts this admission read, so no second read is needed). A refused identification is, as far as
    /// the counts allow, not counted: a held session touches no counter, and an untrusted
    /// session held by its network's count does not spend the network's ceiling.
    ///
    /// # Errors
    /// [`AdmitError::CaptchaRequired`] when the session reached the threshold, or the
    /// untrusted sessions of its network together reached the network threshold (the session
    /// is then marked rate-limited); [`AdmitError::CeilingReached`] beyond the network's
    /// ceiling (trusted or not); [`AdmitError::Unavailable`] when storage fails.
    pub async fn admit(
        &self,
        session: &Session,
        network: Option<&str>,
    ) -> Result<Standing, AdmitError> {
        let now = self.clock.now();
        // The session's own state first: a held session is refused without counting.
        let mut probe = session.trust();
        if let TrustDecision::CaptchaRequired { retry_after } = probe.can_proceed(&self.policy, now)
        {
            return Err(AdmitError::CaptchaRequired {
                retry_after: retry_after.num_seconds(),
            });
        }
        // What this admission learns of the network's counts (0 when not counted here).
        let (mut untrusted, mut all) = (0, 0);
        if let Some(network) = network {
            // The network's count of untrusted identifications: a new cookie starts from it.
            if !probe.is_trusted {
                let limit = self.network_limit(self.policy.network_threshold())?;
                let key = self.network_key(network);
                let decision = self.counters.hit(&key, &limit, now).await?;
                if let RateDecision::Allowed { remaining, .. } = decision {
                    untrusted = limit.max() - remaining;
                }
                if let RateDecision::Limited { retry_after } = decision {
                    // The session must pass a CAPTCHA, as its network already must.
                    update_trust(
                        self.sessions.as_ref(),
                        &session.key(),
                        session.trust(),
                        |t| {
                            t.hold(&self.policy, now);
                        },
                    )
                    .await?;
                    return Err(AdmitError::CaptchaRequired {
                        retry_after: retry_after.num_seconds(),
                    });
                }
            }
            let ceiling = self.network_limit(self.policy.ip_ceiling())?;
            match self
                .counters
                .hit(&self.ceiling_key(network), &ceiling, now)
                .await?
            {
                RateDecision::Allowed { remaining, .. } => all = ceiling.max() - remaining,
                RateDecision::Limited { retry_after } => {
                    return Err(AdmitError::CeilingReached {
                        retry_after: retry_after.num_seconds(),
                    });
                }
            }
        }
        // The session's own count (may it proceed, then count it), by
        // compare-and-swap: of concurrent requests, no more than the threshold pass.
        let mut current = session.trust();
        for _ in 0..TRUST_CAS_ROUNDS {
            let mut next = current;
            if let TrustDecision::CaptchaRequired { retry_after } =
                next.can_proceed(&self.policy, now)
            {
                if next != current {
                    // The window moved on meanwhile; store that, then refuse.
                    self.sessions
                        .swap_trust(&session.key(), &current, &next)
                        .await?;
                }
                return Err(AdmitError::CaptchaRequired {
                    retry_after: retry_after.num_seconds(),
                });
            }
            next.record_identification(&self.policy, now);
            if self
                .sessions
                .swap_trust(&session.key(), &current, &next)
                .await?
            {
                return Ok(self.policy.standing(&next, untrusted, all, now));
            }
            current = stored_trust(self.sessions.as_ref(), &session.key()).await?;
        }
        Err(AdmitError::Unavailable(
            "the session's trust state kept changing".into(),
        ))
    }

    /// Where `session` from `network` stands now, without counting anything: what
    /// `/api/security/status` and the identify page show, and what [`TrustGate::admit`] will
    /// do with the next identification (the network's counts included, an expired window
    /// reset first).
    ///
    /// # Errors
    /// [`AdmitError::Unavailable`] when storage fails.
    pub async fn standing(
        &self,
        session: &Session,
        network: Option<&str>,
    ) -> Result<Standing, AdmitError> {
        let now = self.clock.now();
        let (untrusted, all) = match network {
            None => (0, 0),
            Some(network) => {
                let untrusted = self.counters.peek(&self.network_key(network)).await?;
                let all = self.counters.peek(&self.ceiling_key(network)).await?;
                let untrusted_limit = self.network_limit(self.policy.network_threshold())?;
                let ceiling = self.network_limit(self.policy.ip_ceiling())?;
                (
                    untrusted_limit.count_at(untrusted, now),
                    ceiling.count_at(all, now),
                )
            }
        };
        Ok(self.policy.standing(&session.trust(), untrusted, all, now))
    }

    fn network_key(&self, network: &str) -> [u8; 32] {
        self.digest.digest("trust-network", network.as_bytes())
    }

    fn ceiling_key(&self, network: &str) -> [u8; 32] {
        self.digest.digest("trust-ceiling", network.as_bytes())
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
    use wildid_domain::trust::TrustState;

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
            RateLimitPolicy::new(
                threshold,
                chrono::TimeDelta::seconds(3600),
                threshold,
                ceiling,
            )
            .unwrap(),
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
            let standing = gate.admit(&stored(&all, 0), net).await.unwrap();
            assert_eq!(standing.trust.request_count, count);
        }
        assert!(
            stored(&all, 0).trust().rate_limited,
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
            stored(&all, 1).trust().rate_limited,
            "the new session must pass too"
        );
        // Another network is not affected.
        let mut other = stored(&all, 1);
        other.set_trust(TrustState::default());
        all.lock().unwrap()[1].set_trust(TrustState::default());
        assert!(gate.admit(&other, Some("198.51.100.1")).await.is_ok());
    }

    #[tokio::test]
    async fn a_trusted_session_is_held_only_by_the_network_ceiling() {
        let (repo, all) = sessions();
        let gate = gate(repo, 2, 5);
        let mut trusted = stored(&all, 0).trust();
        trusted.pass_captcha(t0());
        all.lock().unwrap()[0].set_trust(trusted);
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

    #[tokio::test]
    async fn people_sharing_a_network_each_get_their_allowance_and_the_status_agrees() {
        // Four people behind one address, three identifications each; the network's count
        // of untrusted identifications is sized for them (12).
        let (repo, all) = cas_sessions((1..=5).map(session).collect());
        let gate = TrustGate::new(
            Arc::new(repo),
            Arc::new(MemoryRateLimits::default()),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![4; 64]))),
            Arc::new(FixedClock(t0())),
            RateLimitPolicy::new(3, chrono::TimeDelta::seconds(3600), 12, 30).unwrap(),
        );
        let net = Some("203.0.113.9");
        for person in 0..4 {
            for used in 0..3 {
                let standing = gate.standing(&stored(&all, person), net).await.unwrap();
                assert!(!standing.held, "person {person} is not held by the others");
                assert_eq!(
                    standing.left,
                    (3 - used).min(12 - (person as u32 * 3 + used))
                );
                let after = gate.admit(&stored(&all, person), net).await.unwrap();
                assert_eq!(
                    after,
                    gate.standing(&stored(&all, person), net).await.unwrap(),
                    "what admit says agrees with a fresh read"
                );
            }
            let spent = gate.standing(&stored(&all, person), net).await.unwrap();
            assert_eq!((spent.left, spent.held), (0, true));
            assert!(matches!(
                gate.admit(&stored(&all, person), net).await,
                Err(AdmitError::CaptchaRequired { .. })
            ));
        }
        // A fifth cookie on the same network finds its allowance spent, and the status says
        // so before it tries.
        let fifth = gate.standing(&stored(&all, 4), net).await.unwrap();
        assert_eq!((fifth.left, fifth.held), (0, true));
        assert!(matches!(
            gate.admit(&stored(&all, 4), net).await,
            Err(AdmitError::CaptchaRequired { .. })
        ));
        // Held requests spent none of the ceiling: a trusted person has 30 - 12 left.
        let mut trusted = stored(&all, 0).trust();
        trusted.pass_captcha(t0());
        all.lock().unwrap()[0].set_trust(trusted);
        let t = gate.standing(&stored(&all, 0), net).await.unwrap();
        assert_eq!((t.left, t.held), (18, false));
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
        assert_eq!(stored(&all, 0).trust().request_count, 4);
    }
}

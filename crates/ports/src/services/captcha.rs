//! CAPTCHA use cases: issue a challenge to a session, check an answer, and make the
//! session trusted when it passes.
//!
//! Challenges live in the database ([`CaptchaRepository`]), so any server process verifies
//! what another issued. Only a digest of the answer is stored; a challenge belongs to the
//! session it was issued to (another session's id is "unknown"), lives [`CaptchaPolicy::ttl`],
//! and ends at its third wrong answer. A right answer deletes it first, so a replayed solution
//! finds nothing, then makes the session trusted ([`TrustState::pass_captcha`]). Issue,
//! pass and fail are audited with the session's fingerprint.

use std::sync::Arc;

use base64::Engine as _;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::captcha::{
    AnswerHash, ArithmeticQuestion, CaptchaChallenge, CaptchaKind, CaptchaOutcome, CaptchaPolicy,
};
use wildid_domain::ids::CaptchaId;
use wildid_domain::pow::{PowChallenge, PowKey, PowSolution};
use wildid_domain::session::Session;
use wildid_domain::trust::{RateLimitPolicy, TrustState};

use crate::RepoError;
use crate::clock::Clock;
use crate::random::{SecureRandom, random_array};
use crate::repo::{CaptchaRepository, SessionRepository};
use crate::services::audit::AuditTrail;
use crate::services::sessions::{ClientInfo, update_trust};

/// How often a compare-and-swap of a challenge's attempts is retried against concurrent answers.
const CAS_ROUNDS: usize = 8;

/// What the CAPTCHA use cases need.
#[derive(Clone)]
pub struct CaptchaPorts {
    /// Challenge storage.
    pub captchas: Arc<dyn CaptchaRepository>,
    /// Sessions, whose trust state a pass changes.
    pub sessions: Arc<dyn SessionRepository>,
    /// Security events.
    pub audit: AuditTrail,
    /// When a challenge was issued and when it expires.
    pub clock: Arc<dyn Clock>,
    /// Challenge ids, numbers and salts.
    pub random: Arc<dyn SecureRandom>,
}

/// Which CAPTCHA, and how hard.
#[derive(Clone)]
pub struct CaptchaSettings {
    /// The kind issued.
    pub kind: CaptchaKind,
    /// Lifetime and attempts.
    pub policy: CaptchaPolicy,
    /// Signs proof-of-work challenges.
    pub pow_key: PowKey,
    /// Proof of work: the secret number is drawn from `0..=pow_max_number` (the browser needs
    /// about half as many SHA-256 evaluations).
    pub pow_max_number: u64,
    /// The adaptive limit whose window a session marked by a challenge is held for.
    pub limit: RateLimitPolicy,
}

/// What the client must solve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Puzzle {
    /// The arithmetic question for a person.
    Question(String),
    /// The ALTCHA challenge for the browser's script.
    ProofOfWork(PowChallenge),
}

/// A challenge just issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCaptcha {
    /// What the answer must name.
    pub id: CaptchaId,
    /// Its kind.
    pub kind: CaptchaKind,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The puzzle.
    pub puzzle: Puzzle,
}

/// Why no challenge was issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueCaptchaError {
    /// CAPTCHAs are turned off (`WILDID_CAPTCHA_KIND=off`).
    #[error("captchas are disabled")]
    Disabled,
    /// Storage or randomness failed.
    #[error("captcha unavailable: {0}")]
    Unavailable(String),
}

/// Why an answer did not pass. The first four are the API's agreed error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyCaptchaError {
    /// Wrong; the challenge may be answered again.
    #[error("incorrect answer")]
    IncorrectAnswer {
        /// Attempts left.
        attempts_left: u32,
    },
    /// Wrong for the last time: the challenge is gone.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Too late: the challenge is gone.
    #[error("expired")]
    Expired,
    /// No such challenge for this session (never issued, another session's, or already used).
    #[error("unknown captcha")]
    UnknownCaptcha,
    /// CAPTCHAs are turned off.
    #[error("captchas are disabled")]
    Disabled,
    /// Storage failed.
    #[error("captcha unavailable: {0}")]
    Unavailable(String),
}

impl VerifyCaptchaError {
    /// The stable code of the API (`incorrect_answer`, `too_many_attempts`, `expired`,
    /// `unknown_captcha`, `captcha_disabled`, `unavailable`).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyCaptchaError::IncorrectAnswer { .. } => "incorrect_answer",
            VerifyCaptchaError::TooManyAttempts => "too_many_attempts",
            VerifyCaptchaError::Expired => "expired",
            VerifyCaptchaError::UnknownCaptcha => "unknown_captcha",
            VerifyCaptchaError::Disabled => "captcha_disabled",
            VerifyCaptchaError::Unavailable(_) => "unavailable",
        }
    }
}

fn unavailable<E: std::fmt::Display>(e: E) -> VerifyCaptchaError {
    VerifyCaptchaError::Unavailable(e.to_string())
}

/// The CAPTCHA use cases.
#[derive(Clone)]
pub struct Captchas {
    ports: CaptchaPorts,
    settings: Option<CaptchaSettings>,
}

impl Captchas {
    /// The use cases; `settings` `None` means CAPTCHAs are disabled.
    pub fn new(ports: CaptchaPorts, settings: Option<CaptchaSettings>) -> Self {
        Self { ports, settings }
    }

    /// The kind in use, `None` when disabled.
    pub fn kind(&self) -> Option<CaptchaKind> {
        self.settings.as_ref().map(|s| s.kind)
    }

    /// Issues a challenge to `session`. As in the seed, a session that is not trusted is
    /// marked rate-limited until it passes.
    ///
    /// # Errors
    /// [`IssueCaptchaError`].
    pub async fn issue(
        &self,
        session: &Session,
        client: &ClientInfo,
    ) -> Result<IssuedCaptcha, IssueCaptchaError> {
        let settings = self.settings.as_ref().ok_or(IssueCaptchaError::Disabled)?;
        let no_randomness = |_| IssueCaptchaError::Unavailable("no secure randomness".into());
        let now = self.ports.clock.now();
        let id = CaptchaId::from_random(
            random_array(self.ports.random.as_ref()).map_err(no_randomness)?,
        );
        let expires_at = now + settings.policy.ttl();
        let (answer, puzzle) = match settings.kind {
            CaptchaKind::Arithmetic => {
                let q = ArithmeticQuestion::from_random(
                    random_array(self.ports.random.as_ref()).map_err(no_randomness)?,
                );
                (q.answer.to_string(), Puzzle::Question(q.question))
            }
            CaptchaKind::ProofOfWork => {
                let number = u64::from_le_bytes(
                    random_array(self.ports.random.as_ref()).map_err(no_randomness)?,
                );
                let salt = random_array(self.ports.random.as_ref()).map_err(no_randomness)?;
                let (challenge, answer) = PowChallenge::create(
                    &settings.pow_key,
                    salt,
                    number,
                    settings.pow_max_number,
                    expires_at,
                );
                (answer.to_string(), Puzzle::ProofOfWork(challenge))
            }
        };
        let challenge = CaptchaChallenge::issue(
            id,
            settings.kind,
            AnswerHash::compute(&id, &answer),
            Some(session.key()),
            &settings.policy,
            now,
        );
        self.ports
            .captchas
            .insert(&challenge)
            .await
            .map_err(|e| IssueCaptchaError::Unavailable(e.to_string()))?;
        update_trust(
            self.ports.sessions.as_ref(),
            &session.key(),
            session.trust(),
            |trust| trust.hold(&settings.limit, now),
        )
        .await
        .map_err(|e| IssueCaptchaError::Unavailable(e.to_string()))?;
        self.audit(Action::CaptchaIssued, settings.kind, "", session, client)
            .await;
        Ok(IssuedCaptcha {
            id,
            kind: settings.kind,
            expires_in: settings.policy.ttl().num_seconds(),
            puzzle,
        })
    }

    /// Checks `answer` to challenge `id` for `session`; on success the session is trusted and
    /// its new trust state returned. For proof of work, `answer` is the ALTCHA payload (base64
    /// of the solution's JSON).
    ///
    /// # Errors
    /// [`VerifyCaptchaError`]; a malformed answer counts as a wrong one.
    pub async fn verify(
        &self,
        session: &Session,
        id: &str,
        answer: &str,
        client: &ClientInfo,
    ) -> Result<TrustState, VerifyCaptchaError> {
        let settings = self.settings.as_ref().ok_or(VerifyCaptchaError::Disabled)?;
        let id = CaptchaId::parse(id.trim()).map_err(|_| VerifyCaptchaError::UnknownCaptcha)?;
        let captchas = &self.ports.captchas;
        for _ in 0..CAS_ROUNDS {
            let now = self.ports.clock.now();
            let Some(mut challenge) = captchas.get(id).await.map_err(unavailable)? else {
                return Err(VerifyCaptchaError::UnknownCaptcha);
            };
            if challenge.session_key != Some(session.key()) || challenge.kind != settings.kind {
                return Err(VerifyCaptchaError::UnknownCaptcha);
            }
            let correct = self.is_correct(settings, &challenge, answer, now);
            let before = challenge.attempts;
            let outcome = challenge.answer_checked(correct, &settings.policy, now);
            let kind = settings.kind;
            match outcome {
                CaptchaOutcome::Passed => {
                    if !captchas.take(id).await.map_err(unavailable)? {
                        // Answered by a concurrent request: this solution is spent.
                        return Err(VerifyCaptchaError::UnknownCaptcha);
                    }
                    let trust = update_trust(
                        self.ports.sessions.as_ref(),
                        &session.key(),
                        session.trust(),
                        |trust| trust.pass_captcha(now),
                    )
                    .await
                    .map_err(unavailable)?;
                    self.audit(Action::CaptchaPassed, kind, "", session, client)
                        .await;
                    return Ok(trust);
                }
                CaptchaOutcome::Incorrect { attempts_left } => {
                    if !captchas
                        .swap_attempts(id, before, challenge.attempts)
                        .await
                        .map_err(unavailable)?
                    {
                        continue;
                    }
                    self.audit(
                        Action::CaptchaFailed,
                        kind,
                        "incorrect_answer",
                        session,
                        client,
                    )
                    .await;
                    return Err(VerifyCaptchaError::IncorrectAnswer { attempts_left });
                }
                CaptchaOutcome::TooManyAttempts => {
                    captchas.take(id).await.map_err(unavailable)?;
                    self.audit(
                        Action::CaptchaFailed,
                        kind,
                        "too_many_attempts",
                        session,
                        client,
                    )
                    .await;
                    return Err(VerifyCaptchaError::TooManyAttempts);
                }
                CaptchaOutcome::Expired => {
                    captchas.take(id).await.map_err(unavailable)?;
                    self.audit(Action::CaptchaFailed, kind, "expired", session, client)
                        .await;
                    return Err(VerifyCaptchaError::Expired);
                }
            }
        }
        Err(VerifyCaptchaError::Unavailable(
            "captcha attempts kept changing".into(),
        ))
    }

    /// Deletes expired challenges (the periodic job); returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn purge_expired(&self) -> Result<u64, RepoError> {
        self.ports
            .captchas
            .purge_expired(self.ports.clock.now())
            .await
    }

    fn is_correct(
        &self,
        settings: &CaptchaSettings,
        challenge: &CaptchaChallenge,
        answer: &str,
        now: wildid_domain::Timestamp,
    ) -> bool {
        let id = challenge.id;
        match challenge.kind {
            CaptchaKind::Arithmetic => challenge
                .answer_hash
                .ct_eq(&AnswerHash::compute(&id, answer)),
            CaptchaKind::ProofOfWork => decode_solution(answer).is_some_and(|solution| {
                solution.verify(&settings.pow_key, now).is_ok()
                    && challenge
                        .answer_hash
                        .ct_eq(&AnswerHash::compute(&id, &solution.number.to_string()))
            }),
        }
    }

    async fn audit(
        &self,
        action: Action,
        kind: CaptchaKind,
        reason: &str,
        session: &Session,
        client: &ClientInfo,
    ) {
        let mut details = AuditDetails::new()
            .with("kind", kind.as_str())
            .with("fingerprint", session.fingerprint().to_hex());
        if !reason.is_empty() {
            details = details.with("reason", reason);
        }
        let actor = session.user_id().map_or(Actor::Anonymous, Actor::User);
        let record = AuditRecord::new(self.ports.clock.now(), actor, action)
            .details(details)
            .origin(client.origin());
        self.ports.audit.record_or_log(record).await;
    }
}

/// The ALTCHA payload: base64 (standard or URL-safe alphabet) of the solution's JSON.
fn decode_solution(answer: &str) -> Option<PowSolution> {
    #[derive(serde::Deserialize)]
    struct Wire {
        algorithm: String,
        challenge: String,
        number: u64,
        salt: String,
        signature: String,
    }
    let answer = answer.trim();
    if answer.len() > 4096 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(answer))
        .ok()?;
    let wire: Wire = serde_json::from_slice(&bytes).ok()?;
    Some(PowSolution {
        algorithm: wire.algorithm,
        challenge: wire.challenge,
        number: wire.number,
        salt: wire.salt,
        signature: wire.signature,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use wildid_domain::audit::AuditEntry;

    use super::*;
    use crate::builtin::OsRandom;
    use crate::services::fixtures::{FixedClock, anonymous_session, t0};

    fn session() -> Session {
        anonymous_session(4)
    }

    use crate::repo::{MockAuditLog, MockCaptchaRepository, MockSessionRepository};

    fn client() -> ClientInfo {
        ClientInfo {
            fingerprint: session().fingerprint(),
            coarse_ip: None,
            device: None,
            request_id: None,
            network: None,
        }
    }

    /// A stored arithmetic challenge whose answer is 12.
    fn stored(expires_in: i64) -> CaptchaChallenge {
        let id = CaptchaId::from_random([9; 16]);
        let mut c = CaptchaChallenge::issue(
            id,
            CaptchaKind::Arithmetic,
            AnswerHash::compute(&id, "12"),
            Some(session().key()),
            &CaptchaPolicy::default(),
            t0(),
        );
        c.expires_at = t0() + chrono::TimeDelta::seconds(expires_in);
        c
    }

    fn captchas(
        repo: MockCaptchaRepository,
        sessions: MockSessionRepository,
        audited: Arc<Mutex<Vec<AuditRecord>>>,
    ) -> Captchas {
        let mut log = MockAuditLog::new();
        log.expect_append().returning(move |record| {
            audited.lock().unwrap().push(record.clone());
            Ok(AuditEntry::append_to(None, record))
        });
        Captchas::new(
            CaptchaPorts {
                captchas: Arc::new(repo),
                sessions: Arc::new(sessions),
                audit: AuditTrail::new(Arc::new(log)),
                clock: Arc::new(FixedClock(t0())),
                random: Arc::new(OsRandom),
            },
            Some(CaptchaSettings {
                kind: CaptchaKind::Arithmetic,
                policy: CaptchaPolicy::default(),
                pow_key: PowKey::from_bytes([1; 64]),
                pow_max_number: 1000,
                limit: RateLimitPolicy::default(),
            }),
        )
    }

    #[tokio::test]
    async fn an_expired_challenge_is_removed_and_reported() {
        let mut repo = MockCaptchaRepository::new();
        repo.expect_get().returning(|_| Ok(Some(stored(0))));
        repo.expect_take().times(1).returning(|_| Ok(true));
        let audited = Arc::default();
        let service = captchas(repo, MockSessionRepository::new(), Arc::clone(&audited));
        let id = stored(0).id.to_string();
        assert_eq!(
            service.verify(&session(), &id, "12", &client()).await,
            Err(VerifyCaptchaError::Expired)
        );
        let audited = audited.lock().unwrap();
        assert_eq!(audited[0].action.as_str(), "captcha.failed");
        let details: Vec<_> = audited[0].details.iter().collect();
        assert!(details.contains(&("reason", "expired")));
        assert!(details.contains(&("fingerprint", session().fingerprint().to_hex().as_str())));
    }

    #[tokio::test]
    async fn a_solution_spent_by_a_concurrent_request_grants_nothing() {
        let mut repo = MockCaptchaRepository::new();
        repo.expect_get().returning(|_| Ok(Some(stored(60))));
        repo.expect_take().returning(|_| Ok(false));
        let mut sessions = MockSessionRepository::new();
        sessions.expect_swap_trust().never();
        let service = captchas(repo, sessions, Arc::default());
        let id = stored(60).id.to_string();
        assert_eq!(
            service.verify(&session(), &id, "12", &client()).await,
            Err(VerifyCaptchaError::UnknownCaptcha)
        );
    }

    #[tokio::test]
    async fn passing_retries_the_trust_update_on_a_concurrent_change() {
        let mut repo = MockCaptchaRepository::new();
        repo.expect_get().returning(|_| Ok(Some(stored(60))));
        repo.expect_take().times(1).returning(|_| Ok(true));
        let mut sessions = MockSessionRepository::new();
        // Meanwhile another request counted an identification: the first swap misses.
        let counted = TrustState {
            request_count: 3,
            window_started_at: Some(t0()),
            ..TrustState::default()
        };
        let mut first = true;
        sessions
            .expect_swap_trust()
            .times(2)
            .returning(move |_, expected, new| {
                assert!(new.is_trusted && new.request_count == 0);
                let hit = !first && *expected == counted;
                first = false;
                Ok(hit)
            });
        sessions
            .expect_get()
            .times(1)
            .returning(move |_| Ok(Some(session().with_trust(counted))));
        let service = captchas(repo, sessions, Arc::default());
        let id = stored(60).id.to_string();
        let trust = service
            .verify(&session(), &id, " 12 ", &client())
            .await
            .unwrap();
        assert!(trust.is_trusted && !trust.rate_limited);
        assert_eq!(trust.captcha_passed_at, Some(t0()));
    }

    #[tokio::test]
    async fn a_wrong_answer_counts_by_compare_and_swap() {
        let mut repo = MockCaptchaRepository::new();
        let mut attempts = 0;
        repo.expect_get().returning(move |_| {
            let mut c = stored(60);
            c.attempts = attempts;
            attempts = 1; // a concurrent wrong answer lands between the two reads
            Ok(Some(c))
        });
        let mut swaps = 0;
        repo.expect_swap_attempts()
            .times(2)
            .returning(move |_, expected, new| {
                swaps += 1;
                assert_eq!(new, expected + 1);
                Ok(swaps == 2 && expected == 1)
            });
        let service = captchas(repo, MockSessionRepository::new(), Arc::default());
        let id = stored(60).id.to_string();
        assert_eq!(
            service.verify(&session(), &id, "13", &client()).await,
            Err(VerifyCaptchaError::IncorrectAnswer { attempts_left: 1 })
        );
    }
}

//! CAPTCHA challenges: stored with a hashed answer, a time to live and an attempt
//! counter; three wrong answers end a challenge.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::CaptchaId;
use crate::session::SessionKey;
use crate::{Duration, InvalidPolicy, Timestamp};

/// The kind of challenge. Both sit behind one port; configuration picks one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptchaKind {
    /// ALTCHA-compatible proof of work solved by a small script in the browser (default).
    ProofOfWork,
    /// The seed's arithmetic question.
    Arithmetic,
}

impl CaptchaKind {
    /// Stable name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CaptchaKind::ProofOfWork => "proof_of_work",
            CaptchaKind::Arithmetic => "arithmetic",
        }
    }

    /// Inverse of [`CaptchaKind::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "proof_of_work" => Some(CaptchaKind::ProofOfWork),
            "arithmetic" => Some(CaptchaKind::Arithmetic),
            _ => None,
        }
    }
}

/// Digest of the expected answer, salted with the challenge id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerHash([u8; 32]);

impl AnswerHash {
    /// Digest of `answer` (trimmed) for challenge `id`.
    pub fn compute(id: &CaptchaId, answer: &str) -> Self {
        let mut h = Sha256::new();
        h.update(id.as_uuid().as_bytes());
        h.update(answer.trim().as_bytes());
        Self(h.finalize().into())
    }

    /// Rebuilds a stored digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &AnswerHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Lifetime and attempts of challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptchaPolicy {
    ttl: Duration,
    max_attempts: u32,
}

impl Default for CaptchaPolicy {
    /// Seed values: 5 minutes, 3 attempts.
    fn default() -> Self {
        Self {
            ttl: Duration::minutes(5),
            max_attempts: 3,
        }
    }
}

impl CaptchaPolicy {
    /// A policy with the given lifetime and attempts.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when either is zero.
    pub fn new(ttl: Duration, max_attempts: u32) -> Result<Self, InvalidPolicy> {
        if ttl <= Duration::zero() || max_attempts == 0 {
            return Err(InvalidPolicy(
                "captcha lifetime and attempts must be positive",
            ));
        }
        Ok(Self { ttl, max_attempts })
    }

    /// Time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Wrong answers a challenge takes before it is void.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

/// A stored challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptchaChallenge {
    /// Identifier given to the client.
    pub id: CaptchaId,
    /// Which kind of check it is (the answer is read accordingly).
    pub kind: CaptchaKind,
    /// Digest of the expected answer.
    pub answer_hash: AnswerHash,
    /// The session it was issued to, if any.
    pub session_key: Option<SessionKey>,
    /// Issue time.
    pub created_at: Timestamp,
    /// First instant it is no longer accepted.
    pub expires_at: Timestamp,
    /// Wrong answers so far.
    pub attempts: u32,
}

/// The outcome of answering a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaOutcome {
    /// Correct: the challenge is spent and must be deleted.
    Passed,
    /// Wrong; more attempts remain.
    Incorrect {
        /// Attempts left.
        attempts_left: u32,
    },
    /// Wrong, and that was the last attempt: the challenge must be deleted.
    TooManyAttempts,
    /// Too late: the challenge must be deleted.
    Expired,
}

impl CaptchaChallenge {
    /// A new challenge issued at `now`.
    pub fn issue(
        id: CaptchaId,
        kind: CaptchaKind,
        answer_hash: AnswerHash,
        session_key: Option<SessionKey>,
        policy: &CaptchaPolicy,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            kind,
            answer_hash,
            session_key,
            created_at: now,
            expires_at: now + policy.ttl,
            attempts: 0,
        }
    }

    /// Applies an answer whose digest is `presented` at `now`, updating the attempt counter.
    pub fn answer(
        &mut self,
        presented: &AnswerHash,
        policy: &CaptchaPolicy,
        now: Timestamp,
    ) -> CaptchaOutcome {
        self.answer_checked(self.answer_hash.ct_eq(presented), policy, now)
    }

    /// Like [`CaptchaChallenge::answer`] when correctness was decided elsewhere (proof of work).
    pub fn answer_checked(
        &mut self,
        correct: bool,
        policy: &CaptchaPolicy,
        now: Timestamp,
    ) -> CaptchaOutcome {
        if now >= self.expires_at {
            return CaptchaOutcome::Expired;
        }
        if correct {
            return CaptchaOutcome::Passed;
        }
        self.attempts = self.attempts.saturating_add(1);
        if self.attempts >= policy.max_attempts {
            CaptchaOutcome::TooManyAttempts
        } else {
            CaptchaOutcome::Incorrect {
                attempts_left: policy.max_attempts - self.attempts,
            }
        }
    }
}

/// The seed's arithmetic question with one-digit operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArithmeticQuestion {
    /// Text shown to the user, e.g. `What is 7 + 3?`.
    pub question: String,
    /// Expected answer.
    pub answer: i32,
}

impl ArithmeticQuestion {
    /// Builds a question from three random bytes (operands 1-9 and the operator).
    pub fn from_random(bytes: [u8; 3]) -> Self {
        let a = i32::from(bytes[0] % 9) + 1;
        let b = i32::from(bytes[1] % 9) + 1;
        let (symbol, answer) = match bytes[2] % 3 {
            0 => ("+", a + b),
            1 => ("-", a.max(b) - a.min(b)),
            _ => ("×", a * b),
        };
        let (left, right) = if symbol == "-" {
            (a.max(b), a.min(b))
        } else {
            (a, b)
        };
        Self {
            question: format!("What is {left} {symbol} {right}?"),
            answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    #[test]
    fn three_strikes_and_expiry() {
        let policy = CaptchaPolicy::default();
        let id = CaptchaId::from_random([1; 16]);
        let mut c = CaptchaChallenge::issue(
            id,
            CaptchaKind::Arithmetic,
            AnswerHash::compute(&id, "12"),
            None,
            &policy,
            t0(),
        );
        let wrong = AnswerHash::compute(&id, "13");
        assert_eq!(
            c.answer(&wrong, &policy, t0()),
            CaptchaOutcome::Incorrect { attempts_left: 2 }
        );
        assert_eq!(
            c.answer(&wrong, &policy, t0()),
            CaptchaOutcome::Incorrect { attempts_left: 1 }
        );
        assert_eq!(
            c.answer(&AnswerHash::compute(&id, " 12 "), &policy, t0()),
            CaptchaOutcome::Passed
        );
        assert_eq!(
            c.answer(&wrong, &policy, t0()),
            CaptchaOutcome::TooManyAttempts
        );
        let late = t0() + Duration::minutes(5);
        assert_eq!(
            c.answer(&AnswerHash::compute(&id, "12"), &policy, late),
            CaptchaOutcome::Expired
        );
    }

    #[test]
    fn questions_are_consistent() {
        for a in 0..=255u8 {
            for op in 0..3u8 {
                let q = ArithmeticQuestion::from_random([a, a.wrapping_mul(7), op]);
                assert!(q.answer >= 0 && q.answer <= 81, "{q:?}");
                assert!(q.question.starts_with("What is "));
            }
        }
    }
}

//! The [`CaptchaRepository`] port: challenges kept in the database, so any server process can
//! check an answer, each answered at most once.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::captcha::CaptchaChallenge;
use wildid_domain::ids::CaptchaId;

use crate::RepoError;

/// Storage of CAPTCHA challenges (in the database, so any server process can verify them).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait CaptchaRepository: Send + Sync {
    /// Stores a new challenge.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists.
    async fn insert(&self, challenge: &CaptchaChallenge) -> Result<(), RepoError>;

    /// The challenge, if it exists (expired ones included until purged).
    ///
    /// # Errors
    /// Only storage failures.
    async fn get(&self, id: CaptchaId) -> Result<Option<CaptchaChallenge>, RepoError>;

    /// Sets the attempt counter to `new` only if it still is `expected`; returns whether it did.
    ///
    /// # Errors
    /// Only storage failures (a missing challenge returns `Ok(false)`).
    async fn swap_attempts(
        &self,
        id: CaptchaId,
        expected: u32,
        new: u32,
    ) -> Result<bool, RepoError>;

    /// Deletes the challenge; returns whether it existed. Of concurrent calls for one id, at
    /// most one returns `true`, which is what makes a solution single-use.
    ///
    /// # Errors
    /// Only storage failures.
    async fn take(&self, id: CaptchaId) -> Result<bool, RepoError>;

    /// Deletes challenges whose expiry is at or before `now` (they can no longer be passed);
    /// returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

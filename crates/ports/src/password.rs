//! Password hashing and strength estimation.

use async_trait::async_trait;
use wildid_domain::secret::SecretString;
use wildid_domain::user::PasswordHash;

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password is right. `needs_rehash`: the stored hash uses weaker or other parameters
    /// than configured now and should be replaced.
    Match {
        /// Replace the stored hash with a fresh one.
        needs_rehash: bool,
    },
    /// The password is wrong (or there is no account).
    Mismatch,
}

/// Hashing failed (no randomness, or the platform refused the memory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// A slow, salted password hash (argon2id in the built-in).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes `password` with a fresh random salt, in PHC string format. Implementations MUST
    /// run the work off the async worker threads and bound how many hashes run at once.
    ///
    /// # Errors
    /// [`HashError`].
    async fn hash(&self, password: &SecretString) -> Result<PasswordHash, HashError>;

    /// Verifies `password` against `stored`. With `None` (no such account) it MUST spend the
    /// same work on a dummy hash and answer `Mismatch`, so timing does not reveal whether an
    /// account exists. A stored hash that does not parse is a `Mismatch`.
    ///
    /// # Errors
    /// [`HashError`].
    async fn verify(
        &self,
        password: &SecretString,
        stored: Option<PasswordHash>,
    ) -> Result<PasswordCheck, HashError>;
}

/// Estimates how hard a password is to guess.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait StrengthEstimator: Send + Sync {
    /// A score from 0 (trivial) to 4 (very strong), penalising `related` words (parts of the
    /// user's address, the site's name).
    fn score(&self, password: &SecretString, related: &[String]) -> u8;
}

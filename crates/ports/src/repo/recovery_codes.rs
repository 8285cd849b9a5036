//! The [`RecoveryCodeRepository`] port: second-factor recovery codes, stored as salted digests and
//! spent at most once.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::totp::RecoveryCodeHash;

use crate::RepoError;

/// A stored recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecoveryCode {
    /// Position in the set (0-9).
    pub index: u8,
    /// Salted digest.
    pub hash: RecoveryCodeHash,
    /// When it was used, if it was.
    pub used_at: Option<Timestamp>,
}

/// Storage of second-factor recovery codes.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RecoveryCodeRepository: Send + Sync {
    /// Replaces all of `user`'s codes with `codes`, in one transaction (regenerating
    /// invalidates every old code at once).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn replace_all(&self, user: UserId, codes: &[RecoveryCodeHash]) -> Result<(), RepoError>;

    /// `user`'s unused codes.
    ///
    /// # Errors
    /// Only storage failures.
    async fn unused(&self, user: UserId) -> Result<Vec<StoredRecoveryCode>, RepoError>;

    /// Marks code `index` of `user` used at `at` if it is still unused; returns whether it was
    /// (of concurrent uses of one code, exactly one gets `true`).
    ///
    /// # Errors
    /// Only storage failures.
    async fn use_code(&self, user: UserId, index: u8, at: Timestamp) -> Result<bool, RepoError>;

    /// Deletes all of `user`'s codes (second factor disabled).
    ///
    /// # Errors
    /// Only storage failures.
    async fn delete_all(&self, user: UserId) -> Result<(), RepoError>;
}

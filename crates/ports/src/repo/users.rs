use async_trait::async_trait;
use wildid_domain::ids::UserId;
use wildid_domain::user::{EmailLookup, User};

use super::Page;
use crate::RepoError;

/// Storage of user accounts.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new account.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id or the email lookup is already taken; nothing is
    /// stored then.
    async fn insert(&self, user: &User) -> Result<(), RepoError>;

    /// The account with this id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn get(&self, id: UserId) -> Result<User, RepoError>;

    /// The account registered under this email lookup, if any (`Ok(None)` when absent).
    ///
    /// # Errors
    /// Only storage failures.
    async fn find_by_email(&self, lookup: &EmailLookup) -> Result<Option<User>, RepoError>;

    /// Replaces every field of the stored account with `user`'s (matched by id).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id; [`RepoError::Duplicate`] when the
    /// new email lookup belongs to another account.
    async fn update(&self, user: &User) -> Result<(), RepoError>;

    /// Accounts, oldest first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list(&self, page: Page) -> Result<Vec<User>, RepoError>;

    /// Number of accounts.
    ///
    /// # Errors
    /// Only storage failures.
    async fn count(&self) -> Result<u64, RepoError>;

    /// Deletes the account and everything that belongs to it (sessions, identifications,
    /// bookings, notifications) in one transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn delete(&self, id: UserId) -> Result<(), RepoError>;
}

//! The [`LoginTokenRepository`] port: single-use sign-in and verification tokens, stored as
//! digests only and consumed at most once.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::token::{LoginToken, TokenHash, TokenPurpose};
use wildid_domain::user::EmailLookup;

use crate::RepoError;
use crate::repo::QueuedMail;
use crate::repo::users::StoredAddress;

/// Storage of single-use sign-in tokens (only their digests).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LoginTokenRepository: Send + Sync {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the digest exists.
    async fn insert(&self, token: &LoginToken) -> Result<(), RepoError>;

    /// Stores a token and the messages that go with it (the one carrying the link, and any
    /// notice) in one transaction: all or nothing.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the digest or a message id exists;
    /// [`RepoError::NotFound`] when the token names an account that does not exist. Nothing
    /// is stored then.
    async fn insert_with_mail(
        &self,
        token: &LoginToken,
        mails: &[QueuedMail],
    ) -> Result<(), RepoError>;

    /// Stores `token` and `mails` as [`insert_with_mail`](Self::insert_with_mail) does and, in
    /// the same transaction, voids every earlier unused token of the same purpose and address
    /// (marks it used at `token.created_at`): of the links sent to one address for one
    /// purpose, only the newest works. Two requests at the very same moment may both leave
    /// their link usable; none older survives. Returns how many tokens were voided.
    ///
    /// # Errors
    /// As [`insert_with_mail`](Self::insert_with_mail); nothing is stored or voided then.
    async fn supersede_with_mail(
        &self,
        token: &LoginToken,
        mails: &[QueuedMail],
    ) -> Result<u64, RepoError>;

    /// Atomically consumes the token with this digest and purpose if it is unused and
    /// `now < expires_at`, setting `used_at = now`, and returns it. Returns `Ok(None)` when it
    /// is unknown, of another purpose, used or expired. Of any number of concurrent calls for
    /// one token, at most one gets `Some`.
    ///
    /// # Errors
    /// Only storage failures.
    async fn consume(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<LoginToken>, RepoError>;

    /// The token with this digest, in whatever state, if it exists.
    ///
    /// # Errors
    /// Only storage failures.
    async fn get(&self, hash: &TokenHash) -> Result<Option<LoginToken>, RepoError>;

    /// Up to `limit` unused links that carry the address they were sent to (sign-in and
    /// address-change links), in digest order, after `after`: what re-keying the address
    /// index walks.
    ///
    /// # Errors
    /// Only storage failures.
    async fn addresses(
        &self,
        after: Option<TokenHash>,
        limit: u32,
    ) -> Result<Vec<StoredAddress<TokenHash>>, RepoError>;

    /// Sets the lookup digest of the unused link `hash` from `old` to `new` if it still holds
    /// `old`; `Ok(false)`, changing nothing, otherwise.
    ///
    /// # Errors
    /// Only storage failures.
    async fn rekey_address(
        &self,
        hash: &TokenHash,
        old: &EmailLookup,
        new: &EmailLookup,
    ) -> Result<bool, RepoError>;

    /// Deletes tokens that expired or were used before `before`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_spent(&self, before: Timestamp) -> Result<u64, RepoError>;
}

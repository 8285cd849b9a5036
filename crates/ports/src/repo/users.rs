//! The [`UserRepository`] port: accounts, found by id or by the keyed digest of their address,
//! never by the address itself.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::lockout::LockoutState;
use wildid_domain::role::Role;
use wildid_domain::text::PlainText;
#[cfg(doc)]
use wildid_domain::token::TokenPurpose;
use wildid_domain::token::{LoginToken, TokenHash};
use wildid_domain::user::{EmailLookup, EncryptedField, PasswordHash, User};

use super::{Page, QueuedMail};
use crate::RepoError;

/// An address as stored beside the row that holds it (an account, or a link that carries the
/// address it was sent to): what re-keying the address index reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAddress<K> {
    /// The row's key.
    pub key: K,
    /// The lookup digest stored with it.
    pub lookup: EmailLookup,
    /// The address, encrypted with the key ring.
    pub encrypted: EncryptedField,
}

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

    /// Stores a new account, its email-verification token and the message that carries it in
    /// one transaction: all or nothing.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id or email lookup (or the token, or the message id) is
    /// taken; nothing is stored then.
    async fn insert_with_token(
        &self,
        user: &User,
        token: &LoginToken,
        mail: &QueuedMail,
    ) -> Result<(), RepoError>;

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

    /// Replaces the lockout counters only if they still equal `expected` (compare-and-swap),
    /// so concurrent failed attempts are all counted. Returns whether it replaced them.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn swap_lockout(
        &self,
        id: UserId,
        expected: LockoutState,
        new: LockoutState,
    ) -> Result<bool, RepoError>;

    /// Sets the last accepted TOTP step to `new` only if it still is `expected`; returns
    /// whether it did. Two concurrent uses of one code: one wins, the other is a replay.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn swap_totp_step(
        &self,
        id: UserId,
        expected: Option<i64>,
        new: i64,
    ) -> Result<bool, RepoError>;

    /// Records a successful sign-in at `at`: clears the lockout counters, sets the last sign-in
    /// time and, when given, stores an upgraded password hash.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        rehash: Option<PasswordHash>,
    ) -> Result<(), RepoError>;

    /// Sets the role only.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn set_role(&self, id: UserId, role: Role) -> Result<(), RepoError>;

    /// Sets or clears the display name only (the value is cleaned text already).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn set_display_name(&self, id: UserId, name: Option<PlainText>) -> Result<(), RepoError>;

    /// Activates or deactivates the account only.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no account has this id.
    async fn set_active(&self, id: UserId, active: bool) -> Result<(), RepoError>;

    /// Moves account `id` to the address an address-change token carries, in one transaction:
    /// the token with digest `token` (purpose [`TokenPurpose::EmailChange`], issued for `id`,
    /// unused, `now < expires_at`) is consumed, the account's `email_lookup` and
    /// `email_encrypted` become the token's, `email_verified_at` becomes `now`, and `notice` is
    /// queued. Returns `Ok(false)` and changes nothing when no such token exists (unknown,
    /// another purpose, another account's, used or expired). Of concurrent calls with one
    /// token, at most one returns `Ok(true)`.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when another account holds the new address: nothing changes
    /// and the token stays usable. [`RepoError::NotFound`] when the account is gone.
    async fn change_email(
        &self,
        id: UserId,
        token: &TokenHash,
        now: Timestamp,
        notice: &QueuedMail,
    ) -> Result<bool, RepoError>;

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

    /// Up to `limit` accounts' stored addresses, in id order, after account `after` (from the
    /// first when `None`): what re-keying the address index walks.
    ///
    /// # Errors
    /// Only storage failures.
    async fn addresses(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<StoredAddress<UserId>>, RepoError>;

    /// Moves account `id` from lookup digest `old` to `new` if it still holds `old`, and in the
    /// same transaction every unused link whose digest is `old` (the links sent to the account
    /// under the older pepper, which must keep finding it). Returns `Ok(false)`, changing
    /// nothing, when the account is gone or no longer holds `old`.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when another account holds `new`: nothing changes then.
    async fn rekey_address(
        &self,
        id: UserId,
        old: &EmailLookup,
        new: &EmailLookup,
    ) -> Result<bool, RepoError>;

    /// Deletes every visitor account registered with a password before `before` whose address
    /// was never confirmed (it could not sign in), with everything that belongs to it, in one
    /// statement; returns how many. Accounts with another role, without a password (made by
    /// a sign-in link or the shell) or confirmed are never touched.
    ///
    /// # Errors
    /// Only storage failures; nothing is deleted then.
    async fn purge_unverified(&self, before: Timestamp) -> Result<u64, RepoError>;

    /// Deletes the account and everything that belongs to it (sessions, identifications,
    /// bookings, notifications) in one transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is none.
    async fn delete(&self, id: UserId) -> Result<(), RepoError>;
}

//! The [`SessionRepository`] port: server-side sessions, shared by every server process, with
//! their trust state updated by compare-and-swap.

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::session::{Session, SessionKey};
use wildid_domain::trust::TrustState;

use crate::RepoError;

/// Storage of server-side sessions (shared by every server process).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the key exists.
    async fn insert(&self, session: &Session) -> Result<(), RepoError>;

    /// The session stored under `key`, if any.
    ///
    /// # Errors
    /// Only storage failures.
    async fn get(&self, key: &SessionKey) -> Result<Option<Session>, RepoError>;

    /// Records activity: sets `last_seen_at`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the session no longer exists.
    async fn touch(&self, key: &SessionKey, last_seen_at: Timestamp) -> Result<(), RepoError>;

    /// Atomically deletes the session stored under `old` (if it still exists) and stores `new`:
    /// how the id is replaced at sign-in and at every privilege change, so the old cookie dies.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when `new.key` exists; then nothing changed.
    async fn replace(&self, old: &SessionKey, new: &Session) -> Result<(), RepoError>;

    /// Replaces the trust state only if it still equals `expected` (compare-and-swap), so two
    /// concurrent requests cannot both slip under a limit. Returns whether it was replaced.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the session no longer exists.
    async fn swap_trust(
        &self,
        key: &SessionKey,
        expected: &TrustState,
        new: &TrustState,
    ) -> Result<bool, RepoError>;

    /// Deletes one session. Deleting a missing session is not an error.
    ///
    /// # Errors
    /// Only storage failures.
    async fn delete(&self, key: &SessionKey) -> Result<(), RepoError>;

    /// Deletes every session of `user` except `keep`; returns how many were deleted.
    ///
    /// # Errors
    /// Only storage failures.
    async fn delete_for_user(
        &self,
        user: UserId,
        keep: Option<SessionKey>,
    ) -> Result<u64, RepoError>;

    /// The sessions of `user`, most recently active first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list_for_user(&self, user: UserId) -> Result<Vec<Session>, RepoError>;

    /// Deletes sessions idle since before `idle_before`, anonymous sessions created before
    /// `anonymous_before` and signed-in sessions created before `signed_in_before`; returns how
    /// many were deleted.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_expired(
        &self,
        idle_before: Timestamp,
        anonymous_before: Timestamp,
        signed_in_before: Timestamp,
    ) -> Result<u64, RepoError>;
}

//! Photos kept while their session passes the human check (issue 17 §4, scripts off).

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::session::SessionKey;

use crate::RepoError;
use crate::identify::CheckedImage;

/// At most one checked photo per session, kept for a few minutes so that a person the
/// adaptive limit holds at upload time gets the answer for that photo right after passing
/// the check, without choosing it again. Only the checked, re-encoded photo is kept (never
/// the upload's bytes). A photo belongs to its session: it goes with the session (deleted,
/// or replaced on sign-in), and no other session can take it.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait HeldPhotoRepository: Send + Sync {
    /// Keeps `photo` for the session `key` until `expires_at`, replacing any photo kept for
    /// it before.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when no session has `key`; otherwise only storage failures.
    async fn keep(
        &self,
        key: &SessionKey,
        photo: &CheckedImage,
        expires_at: Timestamp,
    ) -> Result<(), RepoError>;

    /// Removes the photo kept for `key` and returns it, unless it expired at or before `now`
    /// (then it is removed and `None` returned). Of concurrent takes, at most one gets it.
    ///
    /// # Errors
    /// Only storage failures; [`RepoError::Corrupt`] when the stored photo cannot be read.
    async fn take(
        &self,
        key: &SessionKey,
        now: Timestamp,
    ) -> Result<Option<CheckedImage>, RepoError>;

    /// Deletes every photo that expired at or before `now`; returns how many.
    ///
    /// # Errors
    /// Only storage failures.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

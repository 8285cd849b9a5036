//! The [`IdentificationRepository`] port: identifications kept for their owner, and the
//! feedback on them.

use async_trait::async_trait;
use wildid_domain::identification::{Feedback, Identification};
use wildid_domain::ids::{IdentificationId, UserId};

use super::Page;
use crate::RepoError;

/// Storage of identifications and their feedback.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait IdentificationRepository: Send + Sync {
    /// Stores a new identification.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists.
    async fn insert(&self, identification: &Identification) -> Result<(), RepoError>;

    /// The identification with this id **owned by `owner`**: another user's identification is
    /// reported as [`RepoError::NotFound`], exactly like a missing one (no IDOR, no oracle).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] as described.
    async fn get_owned(
        &self,
        id: IdentificationId,
        owner: UserId,
    ) -> Result<Identification, RepoError>;

    /// `owner`'s identifications, newest first.
    ///
    /// # Errors
    /// Only storage failures.
    async fn list_for_user(
        &self,
        owner: UserId,
        page: Page,
    ) -> Result<Vec<Identification>, RepoError>;

    /// Stores or replaces the feedback on an identification of `feedback.user_id`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when that user owns no such identification.
    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), RepoError>;

    /// The feedback on an identification of `owner`, if any.
    ///
    /// # Errors
    /// Only storage failures.
    async fn feedback(
        &self,
        id: IdentificationId,
        owner: UserId,
    ) -> Result<Option<Feedback>, RepoError>;
}

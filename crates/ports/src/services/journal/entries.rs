//! One entry of an owner's journal: read, its picture, deleted, given feedback, or shared on
//! the public map. Only the owner reaches it; changes are audited without their content.

use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord, Origin};
use wildid_domain::identification::{Feedback, Identification};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::Visibility;

use super::{Journal, JournalError};
use crate::repo::{PhotoSize, StoredPicture};

/// What a person said about an answer, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackInput {
    /// Whether the answer was right.
    pub correct: bool,
    /// The species it is.
    pub corrected_species: Option<String>,
    /// A note.
    pub notes: Option<String>,
}

impl Journal {
    /// The entry `id` of `owner`.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] when `owner` has no such entry.
    pub async fn entry(
        &self,
        owner: UserId,
        id: IdentificationId,
    ) -> Result<Identification, JournalError> {
        Ok(self.repo.get(id, owner).await?)
    }

    /// A picture of the entry `id` of `owner`.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] when `owner` has no such entry.
    pub async fn picture(
        &self,
        owner: UserId,
        id: IdentificationId,
        size: PhotoSize,
    ) -> Result<StoredPicture, JournalError> {
        Ok(self.repo.picture(id, owner, size).await?)
    }

    /// Deletes the entry `id` of `owner` with its photo and feedback; audited.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] when `owner` has no such entry.
    pub async fn delete(
        &self,
        owner: UserId,
        id: IdentificationId,
        origin: Option<Origin>,
    ) -> Result<(), JournalError> {
        self.repo.delete(id, owner).await?;
        self.record(
            owner,
            id,
            Action::IdentificationDeleted,
            AuditDetails::new(),
            origin,
        )
        .await;
        Ok(())
    }

    /// Sets (or replaces) `owner`'s feedback on the entry `id`, given now, its texts cleaned;
    /// audited with whether the answer was right, never with the texts. Returns the entry
    /// with its feedback.
    ///
    /// # Errors
    /// [`JournalError::Feedback`] when a text is too long; [`JournalError::NotFound`] when
    /// `owner` has no such entry.
    pub async fn give_feedback(
        &self,
        owner: UserId,
        id: IdentificationId,
        said: &FeedbackInput,
        origin: Option<Origin>,
    ) -> Result<Identification, JournalError> {
        let feedback = Feedback::new(
            said.correct,
            said.corrected_species.as_deref(),
            said.notes.as_deref(),
            self.clock.now(),
        )?;
        self.repo.put_feedback(id, owner, &feedback).await?;
        let verdict = if feedback.correct { "correct" } else { "wrong" };
        self.record(
            owner,
            id,
            Action::FeedbackGiven,
            AuditDetails::new().with("verdict", verdict),
            origin,
        )
        .await;
        Ok(self.repo.get(id, owner).await?)
    }

    /// Sets who may see where the entry `id` of `owner` was seen; audited.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] when `owner` has no such entry.
    pub async fn set_visibility(
        &self,
        owner: UserId,
        id: IdentificationId,
        visibility: Visibility,
        origin: Option<Origin>,
    ) -> Result<(), JournalError> {
        self.repo.set_visibility(id, owner, visibility).await?;
        self.record(
            owner,
            id,
            Action::VisibilityChanged,
            AuditDetails::new().with("visibility", visibility.as_str()),
            origin,
        )
        .await;
        Ok(())
    }

    async fn record(
        &self,
        owner: UserId,
        id: IdentificationId,
        action: Action,
        details: AuditDetails,
        origin: Option<Origin>,
    ) {
        let record = AuditRecord::new(self.clock.now(), Actor::User(owner), action)
            .target(id.to_string())
            .details(details)
            .origin(origin);
        self.audit.record_or_log(record).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::RepoError;
    use crate::repo::MockIdentificationRepository;
    use crate::services::journal::JournalSettings;
    use crate::services::journal::fixture::{journal, owner};

    #[tokio::test]
    async fn someone_elses_entry_is_not_found() {
        let mut repo = MockIdentificationRepository::new();
        repo.expect_get().returning(|_, _| Err(RepoError::NotFound));
        repo.expect_delete()
            .returning(|_, _| Err(RepoError::NotFound));
        let j = journal(repo, JournalSettings::default());
        let id = IdentificationId::from_random([1; 16]);
        assert_eq!(j.entry(owner(2), id).await, Err(JournalError::NotFound));
        assert_eq!(
            j.delete(owner(2), id, None).await,
            Err(JournalError::NotFound)
        );
    }
}

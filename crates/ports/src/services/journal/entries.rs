//! One entry of an owner's journal: read, its picture, deleted, given feedback, or shared on
//! the public map. Only the owner reaches it; changes are audited without their content. A
//! signed-in person who names someone else's entry is answered as for a missing one, and the
//! refusal is audited (`access.refused`, ASVS 16.3.2) with who asked and the entry's id.

use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord, Origin};
use wildid_domain::identification::{Feedback, Identification};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::Visibility;

use super::{Journal, JournalError};
use crate::RepoError;
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
        origin: Option<Origin>,
    ) -> Result<Identification, JournalError> {
        let found = self.repo.get(id, owner).await;
        self.owned(owner, id, found, origin).await
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
        origin: Option<Origin>,
    ) -> Result<StoredPicture, JournalError> {
        let found = self.repo.picture(id, owner, size).await;
        self.owned(owner, id, found, origin).await
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
        let deleted = self.repo.delete(id, owner).await;
        self.owned(owner, id, deleted, origin.clone()).await?;
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
        let given = self.repo.put_feedback(id, owner, &feedback).await;
        self.owned(owner, id, given, origin.clone()).await?;
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
        let set = self.repo.set_visibility(id, owner, visibility).await;
        self.owned(owner, id, set, origin.clone()).await?;
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

    /// `result`, of something `owner` asked of the entry `id`; when it was "not found" and the
    /// entry is someone else's, the refusal is audited first. The answer is "not found" either
    /// way, so no answer tells whether the entry exists.
    async fn owned<T>(
        &self,
        owner: UserId,
        id: IdentificationId,
        result: Result<T, RepoError>,
        origin: Option<Origin>,
    ) -> Result<T, JournalError> {
        if matches!(result, Err(RepoError::NotFound))
            && let Ok(Some(holder)) = self.repo.owner_of(id).await
            && holder != owner
        {
            self.record(
                owner,
                id,
                Action::AccessRefused,
                AuditDetails::new().with("reason", "not_owner"),
                origin,
            )
            .await;
        }
        Ok(result?)
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
    use crate::services::journal::fixture::{audited_journal, owner};

    #[tokio::test]
    async fn someone_elses_entry_is_not_found_and_the_refusal_is_audited() {
        let theirs = IdentificationId::from_random([1; 16]);
        let missing = IdentificationId::from_random([7; 16]);
        let mut repo = MockIdentificationRepository::new();
        repo.expect_get().returning(|_, _| Err(RepoError::NotFound));
        repo.expect_picture()
            .returning(|_, _, _| Err(RepoError::NotFound));
        repo.expect_delete()
            .returning(|_, _| Err(RepoError::NotFound));
        repo.expect_set_visibility()
            .returning(|_, _, _| Err(RepoError::NotFound));
        repo.expect_owner_of()
            .returning(move |id| Ok((id == theirs).then(|| owner(1))));
        let (j, audited) = audited_journal(repo, JournalSettings::default());
        assert_eq!(
            j.entry(owner(2), theirs, None).await,
            Err(JournalError::NotFound)
        );
        assert!(matches!(
            j.picture(owner(2), theirs, PhotoSize::Full, None).await,
            Err(JournalError::NotFound)
        ));
        assert_eq!(
            j.delete(owner(2), theirs, None).await,
            Err(JournalError::NotFound)
        );
        assert_eq!(
            j.set_visibility(owner(2), theirs, Visibility::Open, None)
                .await,
            Err(JournalError::NotFound)
        );
        // A missing entry: the same answer, and nothing to record.
        assert_eq!(
            j.entry(owner(2), missing, None).await,
            Err(JournalError::NotFound)
        );
        let audited = audited.lock().unwrap();
        assert_eq!(audited.len(), 4, "{audited:?}");
        for (action, actor, target) in audited.iter() {
            assert_eq!(action, "access.refused");
            assert_eq!(actor, &Actor::User(owner(2)).to_storage());
            assert_eq!(target, &theirs.to_string());
        }
    }

    #[tokio::test]
    async fn the_owner_s_own_missing_answer_is_not_a_refusal() {
        // The owner's entry gone between two requests (deleted elsewhere): not someone else's.
        let id = IdentificationId::from_random([3; 16]);
        let mut repo = MockIdentificationRepository::new();
        repo.expect_get().returning(|_, _| Err(RepoError::NotFound));
        repo.expect_owner_of().returning(|_| Ok(Some(owner(2))));
        let (j, audited) = audited_journal(repo, JournalSettings::default());
        assert_eq!(
            j.entry(owner(2), id, None).await,
            Err(JournalError::NotFound)
        );
        assert!(audited.lock().unwrap().is_empty());
    }
}

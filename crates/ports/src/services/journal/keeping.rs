//! Keeping identifications: whether a photo fits its owner's allowance (checked before any
//! provider is asked, and again as the entry is stored), the entry kept with an obscured point
//! chosen once, and how much of the allowance is used.

use wildid_domain::identification::{Identification, PhotoFacts, SpeciesResult};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Sighting, Visibility, obscure};

use super::{Journal, JournalError};
use crate::identify::CheckedImage;
use crate::random::random_array;
use crate::repo::{JournalPhoto, Kept};

/// What the identification use case hands over to be kept.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// The owner.
    pub owner: UserId,
    /// The checked photo.
    pub image: &'a CheckedImage,
    /// The answer.
    pub result: &'a SpeciesResult,
    /// The provider that answered.
    pub provider: &'a str,
    /// Where and when, as the person said.
    pub sighting: Sighting,
}

impl Journal {
    /// Whether `owner` has room for `image`: checked before any provider is asked, so that a
    /// full journal costs no identification.
    ///
    /// # Errors
    /// [`JournalError::PhotoTooLarge`], [`JournalError::Full`], or a storage failure.
    pub async fn check_room(
        &self,
        owner: UserId,
        image: &CheckedImage,
    ) -> Result<(), JournalError> {
        let bytes = self.entry_bytes(image)?;
        let used = self.repo.stored_bytes(owner).await?;
        if used.saturating_add(bytes) > self.settings.allowance_bytes {
            return Err(JournalError::Full {
                used,
                allowance: self.settings.allowance_bytes,
            });
        }
        Ok(())
    }

    /// Keeps an identification in its owner's journal; returns its id. The allowance is
    /// checked again as it is stored (two uploads at once cannot both pass it).
    ///
    /// # Errors
    /// As [`Journal::check_room`]; a storage failure.
    pub async fn keep(&self, entry: NewEntry<'_>) -> Result<IdentificationId, JournalError> {
        let bytes = self.entry_bytes(entry.image)?;
        let no_randomness = |_| JournalError::Unavailable("no randomness".into());
        let id = IdentificationId::from_random(
            random_array(self.random.as_ref()).map_err(no_randomness)?,
        );
        let obscured_position = match entry.sighting.position {
            Some(position) => Some(obscure(
                position,
                random_array(self.random.as_ref()).map_err(no_randomness)?,
            )),
            None => None,
        };
        let identification = Identification {
            id,
            owner: entry.owner,
            created_at: self.clock.now(),
            provider: entry.provider.to_owned(),
            upload_sha256: entry.image.upload_sha256,
            photo: PhotoFacts {
                width: entry.image.width,
                height: entry.image.height,
                stored_bytes: bytes,
            },
            result: entry.result.clone(),
            sighting: entry.sighting,
            visibility: Visibility::default(),
            obscured_position,
            feedback: None,
        };
        let photo = JournalPhoto {
            bytes: entry.image.bytes.clone(),
            media_type: entry.image.format.media_type().to_owned(),
            thumbnail: entry.image.thumbnail_or_copy().to_vec(),
        };
        match self
            .repo
            .insert(&identification, &photo, self.settings.allowance_bytes)
            .await?
        {
            Kept::Stored => Ok(id),
            Kept::OverAllowance { used } => Err(JournalError::Full {
                used,
                allowance: self.settings.allowance_bytes,
            }),
        }
    }

    /// Bytes `owner`'s photos take now, and the allowance.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn usage(&self, owner: UserId) -> Result<(u64, u64), JournalError> {
        Ok((
            self.repo.stored_bytes(owner).await?,
            self.settings.allowance_bytes,
        ))
    }

    /// Bytes each person's photos may take.
    #[must_use]
    pub fn allowance_bytes(&self) -> u64 {
        self.settings.allowance_bytes
    }

    /// Where `owner`'s journal stands (its bytes and version, read in one go): a page made
    /// of what was read after it may be served again while a fresh stamp is the same.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn stamp(&self, owner: UserId) -> Result<crate::repo::JournalStamp, JournalError> {
        Ok(self.repo.stamp(owner).await?)
    }

    /// What an entry for `image` takes (its photo and thumbnail), if an entry may take it.
    fn entry_bytes(&self, image: &CheckedImage) -> Result<u64, JournalError> {
        let bytes = (image.bytes.len() + image.thumbnail_or_copy().len()) as u64;
        if bytes > self.settings.photo_max_bytes {
            return Err(JournalError::PhotoTooLarge {
                bytes,
                max: self.settings.photo_max_bytes,
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::repo::MockIdentificationRepository;
    use crate::services::fixtures::t0;
    use crate::services::journal::JournalSettings;
    use crate::services::journal::fixture::{image, journal, owner};

    #[tokio::test]
    async fn a_photo_beyond_the_cap_or_the_allowance_is_refused_before_anything_is_asked() {
        let settings = JournalSettings {
            photo_max_bytes: 1_000,
            allowance_bytes: 5_000,
            ..JournalSettings::default()
        };
        let mut repo = MockIdentificationRepository::new();
        repo.expect_stored_bytes().returning(|_| Ok(4_500));
        let j = journal(repo, settings);
        assert_eq!(
            j.check_room(owner(1), &image(2_000)).await,
            Err(JournalError::PhotoTooLarge {
                bytes: 2_100,
                max: 1_000
            })
        );
        assert_eq!(
            j.check_room(owner(1), &image(500)).await,
            Err(JournalError::Full {
                used: 4_500,
                allowance: 5_000
            })
        );
        assert_eq!(j.check_room(owner(1), &image(300)).await, Ok(()));
    }

    #[tokio::test]
    async fn a_kept_entry_is_private_with_an_obscured_point_in_its_cell() {
        let mut repo = MockIdentificationRepository::new();
        repo.expect_insert()
            .withf(|i, photo, allowance| {
                let (Some(p), Some(o)) = (i.sighting.position, i.obscured_position) else {
                    return false;
                };
                i.visibility == Visibility::Private
                    && p.cell().contains(o)
                    && p != o
                    && photo.bytes.len() == 500
                    && i.photo.stored_bytes == 600
                    && *allowance == JournalSettings::default().allowance_bytes
            })
            .returning(|_, _, _| Ok(Kept::Stored));
        let j = journal(repo, JournalSettings::default());
        let sighting = Sighting::new(Some(51.5), Some(-0.12), None, None, t0()).unwrap();
        let result = SpeciesResult::unreadable();
        let img = image(500);
        j.keep(NewEntry {
            owner: owner(1),
            image: &img,
            result: &result,
            provider: "local-model",
            sighting,
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn an_insert_over_the_allowance_is_reported_as_full() {
        let mut repo = MockIdentificationRepository::new();
        repo.expect_insert()
            .returning(|_, _, _| Ok(Kept::OverAllowance { used: 9 }));
        let j = journal(repo, JournalSettings::default());
        let (img, result) = (image(10), SpeciesResult::unreadable());
        let kept = j
            .keep(NewEntry {
                owner: owner(1),
                image: &img,
                result: &result,
                provider: "p",
                sighting: Sighting::default(),
            })
            .await;
        assert!(matches!(kept, Err(JournalError::Full { used: 9, .. })));
    }
}

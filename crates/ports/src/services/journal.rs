//! The field journal: each signed-in person's identifications, kept with their photo, where
//! and when the animal was seen, and what the person said about the answer (seed §9, §12).
//!
//! - Only the owner reads, lists, changes or deletes an entry: every call names the owner,
//!   and someone else's entry is [`JournalError::NotFound`], exactly like a missing one.
//! - Photos count against an allowance per person ([`JournalSettings`]); an identification
//!   whose photo would not fit is refused before any provider is asked
//!   ([`Journal::check_room`]).
//! - Pages are cut by position, not by offset ([`JournalPosition`]): the cursor handed to
//!   clients is the position sealed with a keyed digest bound to the owner, so a cursor that
//!   was changed, or comes from someone else, is refused ([`JournalError::InvalidCursor`]).
//! - Feedback, deletions and visibility changes are audited without their content.

use std::sync::Arc;

use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::identification::{Feedback, Identification, PhotoFacts, SpeciesResult};
use wildid_domain::ids::{IdentificationId, RequestId, UserId};
use wildid_domain::sighting::{Area, ConservationStatus, Sighting, Visibility, obscure};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::KeyedDigest;
use crate::identify::CheckedImage;
use crate::random::{SecureRandom, random_array};
use crate::repo::{
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, Kept, OwnSighting,
    PhotoSize, SharedSighting, StoredPicture,
};
use crate::services::audit::AuditTrail;

/// The most entries one page holds.
pub const MAX_PAGE: u32 = 100;
/// The most sightings one map request returns.
pub const MAX_SIGHTINGS: u32 = 2_000;
/// Entries per page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 24;

/// What the journal allows, from the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalSettings {
    /// The most bytes one entry's photo and thumbnail may take.
    pub photo_max_bytes: u64,
    /// The most bytes one person's photos may take together.
    pub allowance_bytes: u64,
    /// Sightings of species with this conservation status or a worse one are obscured on the
    /// public map whatever their owner chose.
    pub obscure_from: ConservationStatus,
}

impl Default for JournalSettings {
    fn default() -> Self {
        Self {
            photo_max_bytes: 4 * 1024 * 1024,
            allowance_bytes: 512 * 1024 * 1024,
            obscure_from: ConservationStatus::NearThreatened,
        }
    }
}

/// Why a journal request was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The person has no such entry (or it is someone else's).
    #[error("no such identification")]
    NotFound,
    /// The photo alone takes more than an entry may.
    #[error("the photo takes {bytes} bytes; an entry may keep at most {max}")]
    PhotoTooLarge {
        /// What it takes.
        bytes: u64,
        /// The most an entry may take.
        max: u64,
    },
    /// The person's photos already take (nearly) all of their allowance.
    #[error("the journal is full: {used} of {allowance} bytes are taken")]
    Full {
        /// Bytes taken now.
        used: u64,
        /// The allowance.
        allowance: u64,
    },
    /// The page cursor was not one this server gave to this person.
    #[error("the page cursor is not valid")]
    InvalidCursor,
    /// The feedback's text was refused.
    #[error(transparent)]
    Feedback(#[from] wildid_domain::identification::FeedbackError),
    /// A dependency failed.
    #[error("journal unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for JournalError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => JournalError::NotFound,
            other => JournalError::Unavailable(other.to_string()),
        }
    }
}

/// One page of a journal, with the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPage {
    /// Newest first.
    pub entries: Vec<Identification>,
    /// The opaque cursor that continues after this page; `None` on the last page.
    pub next_cursor: Option<String>,
}

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

/// The journal use case.
#[derive(Clone)]
pub struct Journal {
    repo: Arc<dyn IdentificationRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    digest: Arc<dyn KeyedDigest>,
    settings: JournalSettings,
}

/// The purpose under which cursors are sealed ([`KeyedDigest::digest`]).
const CURSOR_PURPOSE: &str = "journal-cursor";
/// Bytes of a cursor: instant (8), id (16), seal (16).
const CURSOR_BYTES: usize = 40;

impl Journal {
    /// The use case over its ports.
    pub fn new(
        repo: Arc<dyn IdentificationRepository>,
        audit: AuditTrail,
        clock: Arc<dyn Clock>,
        random: Arc<dyn SecureRandom>,
        digest: Arc<dyn KeyedDigest>,
        settings: JournalSettings,
    ) -> Self {
        Self {
            repo,
            audit,
            clock,
            random,
            digest,
            settings,
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> JournalSettings {
        self.settings
    }

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
            thumbnail: entry.image.thumbnail.clone(),
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

    /// A page of `owner`'s journal: at most `limit` entries (capped at [`MAX_PAGE`]) matching
    /// `filter`, after the position sealed in `cursor` (from the newest when `None`).
    ///
    /// # Errors
    /// [`JournalError::InvalidCursor`] for a cursor this server did not give `owner`; a
    /// storage failure.
    pub async fn page(
        &self,
        owner: UserId,
        filter: &JournalFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<JournalPage, JournalError> {
        let after = cursor.map(|c| self.open_cursor(owner, c)).transpose()?;
        let slice = self
            .repo
            .list(owner, filter, after, limit.clamp(1, MAX_PAGE))
            .await?;
        Ok(JournalPage {
            next_cursor: slice.next.map(|p| self.seal_cursor(owner, p)),
            entries: slice.entries,
        })
    }

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
        request: Option<RequestId>,
    ) -> Result<(), JournalError> {
        self.repo.delete(id, owner).await?;
        self.record(
            owner,
            id,
            Action::IdentificationDeleted,
            AuditDetails::new(),
            request,
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
        request: Option<RequestId>,
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
            request,
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
        request: Option<RequestId>,
    ) -> Result<(), JournalError> {
        self.repo.set_visibility(id, owner, visibility).await?;
        self.record(
            owner,
            id,
            Action::VisibilityChanged,
            AuditDetails::new().with("visibility", visibility.as_str()),
            request,
        )
        .await;
        Ok(())
    }

    /// At most `limit` (1 to [`MAX_SIGHTINGS`]) shared sightings whose public point lies in
    /// `area`, newest first: obscured where their owner or their species' status asks for
    /// it ([`JournalSettings::obscure_from`]), never at a true point that must be hidden.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn shared_in(
        &self,
        area: Area,
        limit: u32,
    ) -> Result<Vec<SharedSighting>, JournalError> {
        Ok(self
            .repo
            .shared_in(
                area,
                self.settings.obscure_from,
                limit.clamp(1, MAX_SIGHTINGS),
            )
            .await?)
    }

    /// At most [`MAX_SIGHTINGS`] of `owner`'s sightings with a position, newest first, at
    /// their true points (for their own map only).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn sightings_of(&self, owner: UserId) -> Result<Vec<OwnSighting>, JournalError> {
        Ok(self.repo.sightings_of(owner, MAX_SIGHTINGS).await?)
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

    /// What an entry for `image` takes (its photo and thumbnail), if an entry may take it.
    fn entry_bytes(&self, image: &CheckedImage) -> Result<u64, JournalError> {
        let bytes = (image.bytes.len() + image.thumbnail.len()) as u64;
        if bytes > self.settings.photo_max_bytes {
            return Err(JournalError::PhotoTooLarge {
                bytes,
                max: self.settings.photo_max_bytes,
            });
        }
        Ok(bytes)
    }

    async fn record(
        &self,
        owner: UserId,
        id: IdentificationId,
        action: Action,
        details: AuditDetails,
        request: Option<RequestId>,
    ) {
        let mut record = AuditRecord::new(self.clock.now(), Actor::User(owner), action);
        record.target = Some(id.to_string());
        record.details = details;
        record.request_id = request;
        self.audit.record_or_log(record).await;
    }

    /// `position`, sealed for `owner`: base64url of its instant, its id and a keyed digest of
    /// both and of the owner.
    fn seal_cursor(&self, owner: UserId, position: JournalPosition) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_BYTES);
        bytes.extend_from_slice(&position.created_at.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(position.id.as_uuid().as_bytes());
        let seal = self.seal(owner, &bytes);
        bytes.extend_from_slice(&seal);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn open_cursor(&self, owner: UserId, cursor: &str) -> Result<JournalPosition, JournalError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| JournalError::InvalidCursor)?;
        if bytes.len() != CURSOR_BYTES {
            return Err(JournalError::InvalidCursor);
        }
        let (payload, seal) = bytes.split_at(CURSOR_BYTES - 16);
        if !bool::from(self.seal(owner, payload).ct_eq(seal)) {
            return Err(JournalError::InvalidCursor);
        }
        let (micros, id) = payload.split_at(8);
        let micros =
            i64::from_be_bytes(micros.try_into().map_err(|_| JournalError::InvalidCursor)?);
        let id: [u8; 16] = id.try_into().map_err(|_| JournalError::InvalidCursor)?;
        let created_at =
            chrono::DateTime::from_timestamp_micros(micros).ok_or(JournalError::InvalidCursor)?;
        Ok(JournalPosition {
            created_at,
            id: IdentificationId::from_uuid_bytes(id),
        })
    }

    fn seal(&self, owner: UserId, payload: &[u8]) -> [u8; 16] {
        let mut input = owner.as_uuid().as_bytes().to_vec();
        input.extend_from_slice(payload);
        let digest = self.digest.digest(CURSOR_PURPOSE, &input);
        let mut seal = [0; 16];
        seal.copy_from_slice(&digest[..16]);
        seal
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::builtin::{HmacDigest, OsRandom};
    use crate::repo::{JournalSlice, MockAuditLog, MockIdentificationRepository};
    use crate::services::fixtures::{FixedClock, t0};
    use wildid_domain::audit::AuditEntry;
    use wildid_domain::identification::SpeciesResult;
    use wildid_domain::secret::SecretBytes;

    fn journal(repo: MockIdentificationRepository, settings: JournalSettings) -> Journal {
        let mut log = MockAuditLog::new();
        log.expect_append()
            .returning(|record| Ok(AuditEntry::append_to(None, record)));
        Journal::new(
            Arc::new(repo),
            AuditTrail::new(Arc::new(log)),
            Arc::new(FixedClock(t0())),
            Arc::new(OsRandom),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![9; 32]))),
            settings,
        )
    }

    fn image(bytes: usize) -> CheckedImage {
        CheckedImage {
            source_format: crate::identify::ImageFormat::Jpeg,
            format: crate::identify::ImageFormat::Jpeg,
            bytes: vec![1; bytes],
            width: 10,
            height: 10,
            thumbnail: vec![2; 100],
            upload_sha256: [3; 32],
        }
    }

    fn owner(n: u8) -> UserId {
        UserId::from_random([n; 16])
    }

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

    #[tokio::test]
    async fn cursors_are_sealed_for_their_owner_and_refused_when_changed() {
        let position = JournalPosition {
            created_at: t0(),
            id: IdentificationId::from_random([5; 16]),
        };
        let mut repo = MockIdentificationRepository::new();
        repo.expect_list()
            .withf(move |_, _, after, limit| *after == Some(position) && *limit == MAX_PAGE)
            .returning(|_, _, _, _| {
                Ok(JournalSlice {
                    entries: vec![],
                    next: None,
                })
            });
        let j = journal(repo, JournalSettings::default());
        let cursor = j.seal_cursor(owner(1), position);
        let page = j
            .page(owner(1), &JournalFilter::default(), Some(&cursor), 1_000)
            .await
            .unwrap();
        assert_eq!(page.next_cursor, None);
        // Someone else's cursor, a changed one, and nonsense are all refused.
        let refused = |c: String| {
            let j = j.clone();
            async move {
                j.page(owner(1), &JournalFilter::default(), Some(&c), 10)
                    .await
            }
        };
        assert_eq!(
            refused(j.seal_cursor(owner(2), position)).await,
            Err(JournalError::InvalidCursor)
        );
        let mut changed = cursor.clone().into_bytes();
        changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            refused(String::from_utf8(changed).unwrap()).await,
            Err(JournalError::InvalidCursor)
        );
        assert_eq!(
            refused("%%%".into()).await,
            Err(JournalError::InvalidCursor)
        );
        assert_eq!(
            refused(String::new()).await,
            Err(JournalError::InvalidCursor)
        );
    }

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

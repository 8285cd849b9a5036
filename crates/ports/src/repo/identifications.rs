//! The [`IdentificationRepository`] port: each person's field journal (identifications, their
//! photos and the feedback on them).

use async_trait::async_trait;
use wildid_domain::Timestamp;
use wildid_domain::identification::{Feedback, Identification};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Area, ConservationStatus, Position, Visibility};
use wildid_domain::text::PlainText;

use crate::RepoError;

/// The photo of a kept identification, as stored: never the upload's bytes, only the checked,
/// re-encoded picture (no metadata) and its thumbnail.
#[derive(Clone, PartialEq, Eq)]
pub struct JournalPhoto {
    /// The photo (JPEG, PNG...: [`JournalPhoto::media_type`]).
    pub bytes: Vec<u8>,
    /// Its media type (`image/jpeg`).
    pub media_type: String,
    /// The thumbnail (JPEG).
    pub thumbnail: Vec<u8>,
}

impl std::fmt::Debug for JournalPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalPhoto")
            .field("bytes", &self.bytes.len())
            .field("media_type", &self.media_type)
            .field("thumbnail", &self.thumbnail.len())
            .finish()
    }
}

/// Which picture of a kept identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoSize {
    /// The photo.
    Full,
    /// The thumbnail (JPEG).
    Thumbnail,
}

/// A picture read back: its bytes and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPicture {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Their media type.
    pub media_type: String,
}

/// What [`IdentificationRepository::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Stored: the entry and its photo are in the owner's journal, within the allowance.
    Stored,
    /// Not stored: the owner's photos would then take more than the allowance given
    /// (`used` bytes are stored today).
    OverAllowance {
        /// Bytes the owner's photos take now.
        used: u64,
    },
}

/// Where a page of a journal starts: after the entry made at `created_at` with id `id` (the
/// listing order is newest first, then by id, so the position is exact however many entries
/// share an instant, and entries added meanwhile do not shift later pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalPosition {
    /// When the last entry of the previous page was made.
    pub created_at: Timestamp,
    /// Its id.
    pub id: IdentificationId,
}

/// Which entries of a journal to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    /// Only this animal type (compared without regard to case), e.g. `bird`.
    pub animal_type: Option<String>,
    /// Only entries their owner marked wrong.
    pub marked_wrong: bool,
}

/// One page of a journal, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSlice {
    /// The entries.
    pub entries: Vec<Identification>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<JournalPosition>,
}

/// A sighting as everyone may see it on the public map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSighting {
    /// Where it is shown: the true point, or the obscured one.
    pub position: Position,
    /// Whether `position` is the obscured point.
    pub obscured: bool,
    /// The answer's common name.
    pub common_name: PlainText,
    /// The answer's scientific name.
    pub species: PlainText,
    /// When the animal was seen, if the owner said; else when it was identified.
    pub seen: Timestamp,
}

/// One of a person's own sightings, for their own map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnSighting {
    /// The journal entry.
    pub id: IdentificationId,
    /// The true point.
    pub position: Position,
    /// The answer's common name.
    pub common_name: PlainText,
    /// When the animal was seen, if the owner said; else when it was identified.
    pub seen: Timestamp,
    /// Who may see where.
    pub visibility: Visibility,
}

/// Storage of each person's field journal.
///
/// Every read, change and delete names the owner, and an identification of someone else is
/// answered exactly like a missing one ([`RepoError::NotFound`]): no caller can reach another
/// person's entry by guessing its id, and no answer tells whether it exists. Entries, photos
/// and feedback go with their owner's account (`UserRepository::delete`).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait IdentificationRepository: Send + Sync {
    /// Stores `identification` with its `photo`, in one step (both or neither), unless the
    /// owner's stored photos would then take more than `allowance` bytes
    /// ([`Kept::OverAllowance`]; checked and counted atomically, so concurrent inserts cannot
    /// pass it together). `identification.photo.stored_bytes` is what the entry counts.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the id exists; [`RepoError::NotFound`] when the owner
    /// does not exist.
    async fn insert(
        &self,
        identification: &Identification,
        photo: &JournalPhoto,
        allowance: u64,
    ) -> Result<Kept, RepoError>;

    /// The entry `id` of `owner`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `owner` has no such entry.
    async fn get(&self, id: IdentificationId, owner: UserId) -> Result<Identification, RepoError>;

    /// Who owns the entry `id`, whoever asks (`Ok(None)` when there is none). Only for
    /// recording a refused access to someone else's entry: no answer depends on it.
    ///
    /// # Errors
    /// Only storage failures.
    async fn owner_of(&self, id: IdentificationId) -> Result<Option<UserId>, RepoError>;

    /// A page of at most `limit` (1 to 100) of `owner`'s entries matching `filter`, newest
    /// first, starting after `after` (from the start when `None`).
    ///
    /// # Errors
    /// Only storage failures.
    async fn list(
        &self,
        owner: UserId,
        filter: &JournalFilter,
        after: Option<JournalPosition>,
        limit: u32,
    ) -> Result<JournalSlice, RepoError>;

    /// A picture of the entry `id` of `owner`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `owner` has no such entry.
    async fn picture(
        &self,
        id: IdentificationId,
        owner: UserId,
        size: PhotoSize,
    ) -> Result<StoredPicture, RepoError>;

    /// Deletes the entry `id` of `owner`, with its photo and feedback; its bytes no longer
    /// count against the owner's allowance.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `owner` has no such entry.
    async fn delete(&self, id: IdentificationId, owner: UserId) -> Result<(), RepoError>;

    /// Sets (or replaces) the feedback on the entry `id` of `owner`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `owner` has no such entry.
    async fn put_feedback(
        &self,
        id: IdentificationId,
        owner: UserId,
        feedback: &Feedback,
    ) -> Result<(), RepoError>;

    /// Sets who may see where the entry `id` of `owner` was seen.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when `owner` has no such entry.
    async fn set_visibility(
        &self,
        id: IdentificationId,
        owner: UserId,
        visibility: Visibility,
    ) -> Result<(), RepoError>;

    /// At most `limit` shared sightings (not private, with a position) whose public point
    /// lies in `area`, newest first. The public point is the obscured one when the owner chose
    /// [`Visibility::Obscured`], or chose [`Visibility::Open`] for a species whose conservation
    /// status is `obscure_from` or worse ([`wildid_domain::sighting::Placement::for_public`]);
    /// otherwise the true one. No true point of an obscured sighting is ever returned.
    ///
    /// # Errors
    /// Only storage failures.
    async fn shared_in(
        &self,
        area: Area,
        obscure_from: ConservationStatus,
        limit: u32,
    ) -> Result<Vec<SharedSighting>, RepoError>;

    /// At most `limit` of `owner`'s sightings with a position, newest first, at their true
    /// points.
    ///
    /// # Errors
    /// Only storage failures.
    async fn sightings_of(&self, owner: UserId, limit: u32) -> Result<Vec<OwnSighting>, RepoError>;

    /// Bytes `owner`'s stored photos take (0 for an unknown owner).
    ///
    /// # Errors
    /// Only storage failures.
    async fn stored_bytes(&self, owner: UserId) -> Result<u64, RepoError>;

    /// Where `owner`'s journal stands: the bytes its photos take and its version
    /// ([`JournalStamp::default`] for a journal never written).
    ///
    /// # Errors
    /// Only storage failures.
    async fn stamp(&self, owner: UserId) -> Result<JournalStamp, RepoError>;
}

/// Where a person's journal stands, read in one go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct JournalStamp {
    /// Bytes the owner's stored photos take.
    pub bytes: u64,
    /// Moves on, in the same transaction, with every change to the owner's entries, their
    /// sightings and their feedback (kept, changed, deleted, purged; by any code path), and
    /// never comes back to a value it had while the owner exists; 0 before the first entry.
    /// What was read of the journal after reading a version is at least as new as that
    /// version, so it may be reused for as long as a fresh read gives the same version.
    pub version: u64,
}

//! `IdentificationRepository` on diesel: the field journal.
//!
//! One row per entry in `identifications`, its sighting in `sightings` (what the maps read),
//! its pictures in `identification_photos` (so that a listing never reads a photo), and the
//! bytes each person's photos take in `journal_usage`. Keeping an entry takes its bytes from the
//! owner's allowance with one conditional update, in the same transaction as the inserts of its
//! rows, so concurrent inserts cannot pass the allowance together and no entry exists without
//! its photo. Every statement names the owner: another person's entry matches no row and is
//! reported as missing.
//!
//! The repository's methods are implemented in the modules below, one for each thing it does:
//!
//! - `rows` and `details`: how an entry is stored (its rows, and the JSON of its answer and
//!   feedback) and read back;
//! - `entries`: keeping an entry within the allowance, reading, listing and deleting entries,
//!   the bytes used;
//! - `photos`: an entry's photo or thumbnail;
//! - `edits`: what the owner changes on a kept entry (feedback, who may see the sighting);
//! - `sightings`: the sightings the maps show.

mod details;
mod edits;
mod entries;
mod photos;
mod rows;
mod sightings;

use std::sync::Arc;

use async_trait::async_trait;
use wildid_domain::identification::{Feedback, Identification};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Area, ConservationStatus, Visibility};
use wildid_ports::RepoError;
use wildid_ports::repo::{
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, JournalSlice,
    JournalStamp, Kept, OwnSighting, PhotoSize, SharedSighting, StoredPicture,
};

use crate::Database;

pub(crate) struct SqlIdentifications {
    pub(crate) db: Arc<Database>,
}

#[async_trait]
impl IdentificationRepository for SqlIdentifications {
    async fn insert(
        &self,
        identification: &Identification,
        photo: &JournalPhoto,
        allowance: u64,
    ) -> Result<Kept, RepoError> {
        entries::insert(&self.db, identification, photo, allowance).await
    }

    async fn get(&self, id: IdentificationId, owner: UserId) -> Result<Identification, RepoError> {
        entries::get(&self.db, id, owner).await
    }

    async fn owner_of(&self, id: IdentificationId) -> Result<Option<UserId>, RepoError> {
        entries::owner_of(&self.db, id).await
    }

    async fn list(
        &self,
        owner: UserId,
        filter: &JournalFilter,
        after: Option<JournalPosition>,
        limit: u32,
    ) -> Result<JournalSlice, RepoError> {
        entries::list(&self.db, owner, filter, after, limit).await
    }

    async fn picture(
        &self,
        id: IdentificationId,
        owner: UserId,
        size: PhotoSize,
    ) -> Result<StoredPicture, RepoError> {
        photos::picture(&self.db, id, owner, size).await
    }

    async fn delete(&self, id: IdentificationId, owner: UserId) -> Result<(), RepoError> {
        entries::delete(&self.db, id, owner).await
    }

    async fn put_feedback(
        &self,
        id: IdentificationId,
        owner: UserId,
        feedback: &Feedback,
    ) -> Result<(), RepoError> {
        edits::put_feedback(&self.db, id, owner, feedback).await
    }

    async fn set_visibility(
        &self,
        id: IdentificationId,
        owner: UserId,
        visibility: Visibility,
    ) -> Result<(), RepoError> {
        edits::set_visibility(&self.db, id, owner, visibility).await
    }

    async fn shared_in(
        &self,
        area: Area,
        obscure_from: ConservationStatus,
        limit: u32,
    ) -> Result<Vec<SharedSighting>, RepoError> {
        sightings::shared_in(&self.db, area, obscure_from, limit).await
    }

    async fn sightings_of(&self, owner: UserId, limit: u32) -> Result<Vec<OwnSighting>, RepoError> {
        sightings::sightings_of(&self.db, owner, limit).await
    }

    async fn stored_bytes(&self, owner: UserId) -> Result<u64, RepoError> {
        entries::stored_bytes(&self.db, owner).await
    }

    async fn stamp(&self, owner: UserId) -> Result<JournalStamp, RepoError> {
        entries::stamp(&self.db, owner).await
    }
}

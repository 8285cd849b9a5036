//! The field journal: each signed-in person's identifications, kept with their photo, where
//! and when the animal was seen, and what the person said about the answer.
//!
//! - Only the owner reads, lists, changes or deletes an entry: every call names the owner,
//!   and someone else's entry is [`JournalError::NotFound`], exactly like a missing one.
//! - Photos count against an allowance per person ([`JournalSettings`]); an identification
//!   whose photo would not fit is refused before any provider is asked
//!   ([`Journal::check_room`]).
//! - Pages are cut by position, not by offset
//!   ([`JournalPosition`](crate::repo::JournalPosition)): the cursor handed to clients is the
//!   position sealed with a keyed digest bound to the owner, so a cursor that was changed, or
//!   comes from someone else, is refused ([`JournalError::InvalidCursor`]).
//! - Feedback, deletions and visibility changes are audited without their content.
//!
//! Its files, by what they hold:
//!
//! - `settings`: what the journal allows ([`JournalSettings`]);
//! - `keeping`: room in the allowance and the entry kept ([`NewEntry`]);
//! - `pages`: pages of a journal and their sealed cursors ([`JournalPage`]);
//! - `entries`: one entry read, deleted, given feedback or shared ([`FeedbackInput`]);
//! - `sightings`: sightings for the public map and the owner's own;
//! - `error`: why a request was refused ([`JournalError`]).

mod entries;
mod error;
#[cfg(test)]
mod fixture;
mod keeping;
mod pages;
mod settings;
mod sightings;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::KeyedDigest;
use crate::random::SecureRandom;
use crate::repo::IdentificationRepository;
use crate::services::audit::AuditTrail;

pub use entries::FeedbackInput;
pub use error::JournalError;
pub use keeping::NewEntry;
pub use pages::{DEFAULT_PAGE, JournalPage, MAX_PAGE};
pub use settings::JournalSettings;
pub use sightings::MAX_SIGHTINGS;

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
}

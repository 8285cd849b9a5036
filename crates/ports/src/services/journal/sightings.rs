//! Sightings for maps: the shared ones others may see (obscured where their owner or their
//! species' status asks for it) and an owner's own at their true points.

use wildid_domain::ids::UserId;
use wildid_domain::sighting::Area;

use super::{Journal, JournalError};
use crate::repo::{OwnSighting, SharedSighting};

/// The most sightings one map request returns.
pub const MAX_SIGHTINGS: u32 = 2_000;

impl Journal {
    /// At most `limit` (1 to [`MAX_SIGHTINGS`]) shared sightings whose public point lies in
    /// `area`, newest first: obscured where their owner or their species' status asks for
    /// it ([`JournalSettings::obscure_from`](super::JournalSettings::obscure_from)), never at a
    /// true point that must be hidden.
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
}

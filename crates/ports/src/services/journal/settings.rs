//! What the journal allows, from the server's configuration ([`JournalSettings`]).

use wildid_domain::sighting::ConservationStatus;

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

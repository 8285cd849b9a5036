//! What an identification gives ([`Identified`]) or why it failed ([`IdentifyFailure`]),
//! with the API answer each failure becomes.

use wildid_domain::identification::SpeciesResult;
use wildid_domain::ids::IdentificationId;
use wildid_domain::sighting::SightingError;
use wildid_domain::trust::Standing;

use crate::identify::{IdentifyError, ImageError, ImageFormat};
use crate::services::journal::JournalError;
use crate::services::trust::AdmitError;

/// Why a photo was not identified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyFailure {
    /// No provider is configured on this server (API: 503 `identification_unavailable`).
    #[error("no identification provider is configured")]
    NotConfigured,
    /// The upload is not an acceptable photo (API: 422 `invalid_image`); nothing was counted.
    #[error("invalid image: {0}")]
    InvalidImage(ImageError),
    /// The malware scan found something in the upload (API: 422 `malware_found`); it was
    /// audited, nothing was counted and no provider saw it. The signature's name is for the
    /// audit log only.
    #[error("the malware scan found {0}")]
    Infected(String),
    /// The malware scanner gave no verdict (API: 503 `scan_unavailable`): the upload is
    /// refused rather than let through unscanned.
    #[error("malware scan unavailable: {0}")]
    ScanUnavailable(String),
    /// The adaptive limit holds the session or its network (API: 429 `captcha_required` or
    /// `too_many_requests`), or its storage failed.
    #[error(transparent)]
    Held(AdmitError),
    /// No provider of the chain answered at all (refused, failed, unreachable or too slow; API:
    /// 502 `identification_failed`). A provider that answered unreadably is not a failure:
    /// its result is [`SpeciesResult::unreadable`]. The cause is for the server log only.
    #[error("the provider gave no answer: {0}")]
    ProviderFailed(IdentifyError),
    /// The photo does not fit the person's journal (API: 422 `photo_too_large` or 409
    /// `journal_full`), checked before anything was counted; or the answer could not be kept.
    #[error(transparent)]
    Journal(JournalError),
    /// Where and when the animal was seen was refused (API: 422 `invalid_sighting`), before
    /// anything else: nothing was scanned, decoded or counted.
    #[error("invalid sighting: {0}")]
    InvalidSighting(SightingError),
    /// Storage or the image checker failed.
    #[error("identification unavailable: {0}")]
    Unavailable(String),
}

/// What was identified, and how the photo was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    /// The provider's answer, cleaned.
    pub result: SpeciesResult,
    /// The name of the provider that answered.
    pub provider: String,
    /// Format of the upload, found by decoding it.
    pub source_format: ImageFormat,
    /// Width of the image the provider saw.
    pub width: u32,
    /// Height of the image the provider saw.
    pub height: u32,
    /// SHA-256 of the upload as received.
    pub upload_sha256: [u8; 32],
    /// The checked photo, small (JPEG; see
    /// [`CheckedImage::thumbnail`](crate::identify::CheckedImage::thumbnail)), to show with
    /// the answer: always made for a page; for an anonymous answer through the API only when
    /// the first provider of the chain reads it.
    pub thumbnail: Option<Vec<u8>>,
    /// Where the session stands after this identification was counted (its trust state, and
    /// what is left).
    pub standing: Standing,
    /// The journal entry it was kept as (signed-in sessions, when journals are kept).
    pub kept: Option<IdentificationId>,
}

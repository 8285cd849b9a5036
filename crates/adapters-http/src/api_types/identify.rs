//! An identification: what the provider said, and the photo as it saw it.

use serde::Serialize;
use utoipa::ToSchema;

use super::SecurityStatus;

/// What the provider said about the photo (every text cleaned of markup and bounded).
#[derive(Serialize, ToSchema)]
pub(crate) struct SpeciesView {
    /// Whether the photo shows an animal.
    pub is_animal: bool,
    /// Scientific name, or `Unknown`.
    pub species: String,
    /// Common name, or `Unknown`.
    pub common_name: String,
    /// Broad group: bird, mammal, reptile...
    pub animal_type: Option<String>,
    /// IUCN Red List category as the provider stated it.
    pub conservation_status: Option<String>,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    /// What is visible.
    pub description: Option<String>,
    /// Uncertainties; says so when the provider's answer was not in the expected format.
    pub notes: Option<String>,
    /// The answers the provider ranked highest, most likely first (the offline model gives
    /// its top five); empty when the provider gives one answer only.
    pub alternatives: Vec<AlternativeView>,
}

/// One ranked answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlternativeView {
    /// Common name (or what the thing is, when it is no animal).
    pub common_name: String,
    /// Scientific name, when known.
    pub species: Option<String>,
    /// How likely the provider found it, from 0 to 1 (four decimals at most).
    pub probability: f32,
}

impl From<&wildid_domain::identification::SpeciesResult> for SpeciesView {
    fn from(r: &wildid_domain::identification::SpeciesResult) -> Self {
        let text =
            |t: &Option<wildid_domain::text::PlainText>| t.as_ref().map(|t| t.as_str().to_owned());
        Self {
            is_animal: r.is_animal,
            species: r.species.as_str().to_owned(),
            common_name: r.common_name.as_str().to_owned(),
            animal_type: text(&r.animal_type),
            conservation_status: text(&r.conservation_status),
            confidence: r.confidence.as_str().to_owned(),
            description: text(&r.description),
            notes: text(&r.notes),
            alternatives: r
                .alternatives
                .iter()
                .map(|a| AlternativeView {
                    common_name: a.common_name.as_str().to_owned(),
                    species: text(&a.species),
                    probability: a.probability.fraction(),
                })
                .collect(),
        }
    }
}

/// The photo as the provider saw it.
#[derive(Serialize, ToSchema)]
pub(crate) struct PhotoView {
    /// Format of the upload, found by decoding it: `image/png`, `image/jpeg`...
    pub uploaded_as: String,
    /// Width sent to the provider (photos are scaled down to at most 2048 pixels on the long
    /// side and 768 on the short side).
    pub width: u32,
    /// Height sent to the provider.
    pub height: u32,
    /// SHA-256 (hex) of the upload as received.
    pub sha256: String,
}

/// `POST /api/identify`.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentificationBody {
    /// The journal entry it was kept as (`GET /api/identifications/{id}`); `null` when the
    /// session is not signed in (anonymous identifications are not kept).
    pub id: Option<String>,
    /// The answer.
    pub identification: SpeciesView,
    /// The provider's configured name.
    pub provider: String,
    /// The photo.
    pub photo: PhotoView,
    /// The session against the adaptive limit, after this identification was counted.
    pub status: SecurityStatus,
}

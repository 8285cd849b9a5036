//! The field journal's bodies: an entry with its result, photo links, sighting and feedback.

use serde::Serialize;
use utoipa::ToSchema;
use wildid_domain::identification::Identification;

use super::SpeciesView;

/// Where and when the animal was seen, as its owner said.
#[derive(Serialize, ToSchema)]
pub(crate) struct SightingView {
    /// Decimal degrees, or `null`.
    pub latitude: Option<f64>,
    /// Decimal degrees, or `null`.
    pub longitude: Option<f64>,
    /// RFC 3339, or `null`.
    pub observed_at: Option<String>,
    /// The owner's note.
    pub notes: Option<String>,
    /// Who may see where: `open`, `obscured` or `private`.
    pub visibility: String,
    /// Where others see it when it is obscured (a point chosen once inside the 0.2 degree
    /// cell that holds it); `null` without a position.
    pub obscured_latitude: Option<f64>,
    /// See `obscured_latitude`.
    pub obscured_longitude: Option<f64>,
}

/// What the owner said about the answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct FeedbackView {
    /// Whether the answer was right.
    pub correct: bool,
    /// The species the owner believes it is.
    pub corrected_species: Option<String>,
    /// A note.
    pub notes: Option<String>,
    /// RFC 3339.
    pub given_at: String,
}

/// One entry of a journal.
#[derive(Serialize, ToSchema)]
pub(crate) struct EntryView {
    /// Its id.
    pub id: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The provider that answered.
    pub provider: String,
    /// The answer.
    pub identification: SpeciesView,
    /// The kept photo's size in pixels, and where to fetch it and its thumbnail.
    pub photo: EntryPhotoView,
    /// Where and when, and who may see where.
    pub sighting: SightingView,
    /// The owner's feedback, if any.
    pub feedback: Option<FeedbackView>,
}

/// A kept photo.
#[derive(Serialize, ToSchema)]
pub(crate) struct EntryPhotoView {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The photo (for its owner only).
    pub url: String,
    /// The thumbnail (JPEG, for its owner only).
    pub thumbnail_url: String,
}

impl From<&Identification> for EntryView {
    fn from(i: &Identification) -> Self {
        let text =
            |t: &Option<wildid_domain::text::PlainText>| t.as_ref().map(|t| t.as_str().to_owned());
        let id = i.id.to_string();
        Self {
            photo: EntryPhotoView {
                width: i.photo.width,
                height: i.photo.height,
                url: format!("/api/identifications/{id}/photo"),
                thumbnail_url: format!("/api/identifications/{id}/thumbnail"),
            },
            id,
            created_at: i.created_at.to_rfc3339(),
            provider: i.provider.clone(),
            identification: SpeciesView::from(&i.result),
            sighting: SightingView {
                latitude: i.sighting.position.map(|p| p.latitude()),
                longitude: i.sighting.position.map(|p| p.longitude()),
                observed_at: i.sighting.observed_at.map(|t| t.to_rfc3339()),
                notes: text(&i.sighting.notes),
                visibility: i.visibility.as_str().to_owned(),
                obscured_latitude: i.obscured_position.map(|p| p.latitude()),
                obscured_longitude: i.obscured_position.map(|p| p.longitude()),
            },
            feedback: i.feedback.as_ref().map(|f| FeedbackView {
                correct: f.correct,
                corrected_species: text(&f.corrected_species),
                notes: text(&f.notes),
                given_at: f.given_at.to_rfc3339(),
            }),
        }
    }
}

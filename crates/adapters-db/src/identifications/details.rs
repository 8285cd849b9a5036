//! The JSON columns of an entry: `identifications.details` (the answer, the photo's size, the
//! upload's digest) and `identifications.feedback` (what the owner said about the answer).

use wildid_domain::identification::Feedback;
use wildid_ports::RepoError;

use super::rows::{opt_text, owned};
use crate::error::corrupt;

/// The `details` column (JSON): the answer, the photo's size, the upload's digest.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Details {
    pub(super) is_animal: bool,
    pub(super) species: String,
    pub(super) common_name: String,
    pub(super) animal_type: Option<String>,
    pub(super) conservation_status: Option<String>,
    pub(super) confidence: String,
    pub(super) description: Option<String>,
    pub(super) notes: Option<String>,
    pub(super) alternatives: Vec<StoredAlternative>,
    pub(super) width: u32,
    pub(super) height: u32,
    /// Hex.
    pub(super) upload_sha256: String,
}

/// An alternative answer, in [`Details`].
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct StoredAlternative {
    pub(super) common_name: String,
    pub(super) species: Option<String>,
    /// Basis points.
    pub(super) probability: u16,
}

/// The `feedback` column (JSON); whether the answer was right has its own column
/// (`feedback_correct`), which the "marked wrong" filter reads.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredFeedback {
    corrected_species: Option<String>,
    notes: Option<String>,
    /// Microseconds since the epoch.
    given_at: i64,
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| RepoError::Other(e.to_string()))
}

/// The `feedback` column of `f` (its `correct` goes in `feedback_correct`).
pub(super) fn stored_feedback(f: &Feedback) -> Result<String, RepoError> {
    json(&StoredFeedback {
        corrected_species: owned(&f.corrected_species),
        notes: owned(&f.notes),
        given_at: f.given_at.timestamp_micros(),
    })
}

/// The feedback the two feedback columns store.
pub(super) fn feedback(
    correct: Option<bool>,
    stored: Option<String>,
) -> Result<Option<Feedback>, RepoError> {
    let column = "identifications.feedback";
    match (correct, stored) {
        (Some(correct), Some(stored)) => {
            let f: StoredFeedback = serde_json::from_str(&stored).map_err(|_| corrupt(column))?;
            Ok(Some(Feedback {
                correct,
                corrected_species: opt_text(f.corrected_species, column)?,
                notes: opt_text(f.notes, column)?,
                given_at: chrono::DateTime::from_timestamp_micros(f.given_at)
                    .ok_or_else(|| corrupt(column))?,
            }))
        }
        (None, None) => Ok(None),
        _ => Err(corrupt(column)),
    }
}

//! Species identifications and the feedback users give on them.

use crate::Timestamp;
use crate::ids::{IdentificationId, UserId};
use crate::text::PlainText;

/// How sure the provider said it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confidence {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Confidence {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Lenient parse of a provider's word; anything unknown is `Low`.
    pub fn from_provider(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "high" => Confidence::High,
            "medium" | "moderate" => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

/// The name given when a provider could not name the species (the seed's `Unknown`).
pub fn unknown_name() -> PlainText {
    PlainText::from_constant("Unknown")
}

/// What a provider answered, after cleaning (all texts are untrusted model output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeciesResult {
    /// Whether the photo shows an animal at all.
    pub is_animal: bool,
    /// Scientific name, or `Unknown`.
    pub species: PlainText,
    /// Common name, or `Unknown`.
    pub common_name: PlainText,
    /// Broad group (bird, mammal, reptile...).
    pub animal_type: Option<PlainText>,
    /// IUCN status as the provider stated it.
    pub conservation_status: Option<PlainText>,
    /// How sure the provider was.
    pub confidence: Confidence,
    /// Free description.
    pub description: Option<PlainText>,
    /// Notes (for example that the answer was not in the expected format).
    pub notes: Option<PlainText>,
}

/// One identification in a user's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// Identifier.
    pub id: IdentificationId,
    /// Owner; anonymous identifications are not kept in any history.
    pub user_id: Option<UserId>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Provider name as configured (e.g. `openai`).
    pub provider: String,
    /// SHA-256 of the uploaded image bytes.
    pub image_sha256: [u8; 32],
    /// The answer.
    pub result: SpeciesResult,
}

/// A user's verdict on an identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// The identification it is about.
    pub identification_id: IdentificationId,
    /// Who gave it (always the owner of the identification).
    pub user_id: UserId,
    /// Whether the answer was right.
    pub is_correct: bool,
    /// The species the user believes it is, if the answer was wrong.
    pub corrected_species: Option<PlainText>,
    /// Free note.
    pub note: Option<PlainText>,
    /// When it was given.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_name_is_plain_text() {
        assert_eq!(unknown_name(), PlainText::new("Unknown", 10).unwrap());
    }

    #[test]
    fn confidence_words() {
        assert_eq!(Confidence::from_provider(" HIGH "), Confidence::High);
        assert_eq!(Confidence::from_provider("moderate"), Confidence::Medium);
        assert_eq!(Confidence::from_provider("<script>"), Confidence::Low);
    }
}

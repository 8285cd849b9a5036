//! Species identifications and the feedback users give on them.

use crate::Timestamp;
use crate::ids::{IdentificationId, UserId};
use crate::text::PlainText;

/// How sure the provider said it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confidence {
    /// A guess: worth checking before relying on it.
    Low,
    /// Likely, with some doubt.
    Medium,
    /// The provider (or the model's score) was sure.
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

/// A probability, kept in basis points (0 to 10,000) so that results compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probability(u16);

impl Probability {
    /// Basis points in one.
    const ONE: u16 = 10_000;

    /// `fraction` (0.0 to 1.0) rounded to a basis point; `None` when it is not a finite
    /// number in that range.
    pub fn from_fraction(fraction: f32) -> Option<Self> {
        if !fraction.is_finite() || !(0.0..=1.0).contains(&fraction) {
            return None;
        }
        // In range by the check above, so the cast neither truncates nor wraps.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let points = (fraction * f32::from(Self::ONE)).round() as u16;
        Some(Self(points.min(Self::ONE)))
    }

    /// The probability as a fraction of one.
    pub fn fraction(self) -> f32 {
        f32::from(self.0) / f32::from(Self::ONE)
    }

    /// Whole percent, rounded (for people).
    pub fn percent(self) -> u8 {
        // At most 100.
        #[allow(clippy::cast_possible_truncation)]
        let percent = ((self.0 + 50) / 100) as u8;
        percent
    }
}

/// Another answer the provider considered, with how likely it found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// Common name (or the provider's name for a thing that is no animal).
    pub common_name: PlainText,
    /// Scientific name, when the provider gives one.
    pub species: Option<PlainText>,
    /// How likely the provider found it.
    pub probability: Probability,
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
    /// The answers the provider ranked highest, most likely first (the first is the answer
    /// above when the provider ranks); empty when the provider gives only one answer.
    pub alternatives: Vec<Alternative>,
}

/// What [`SpeciesResult::unreadable`] says in its notes.
pub const UNREADABLE_NOTE: &str = "The identification service answered, but its answer could \
not be read, so nothing is concluded about this photo. You can try again in a moment.";

impl SpeciesResult {
    /// The honest result when a provider answered but its answer could not be read at all (not
    /// JSON, no message, too large): nothing is named (`Unknown`, low confidence, no
    /// description) and the notes say so ([`UNREADABLE_NOTE`]). Nothing of the unreadable
    /// answer is carried over, so none of it can reach a person.
    pub fn unreadable() -> Self {
        Self {
            is_animal: true,
            species: unknown_name(),
            common_name: unknown_name(),
            animal_type: None,
            conservation_status: None,
            confidence: Confidence::Low,
            description: None,
            notes: Some(PlainText::from_constant(UNREADABLE_NOTE)),
            alternatives: Vec::new(),
        }
    }
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
    fn probabilities_are_checked_and_rounded() {
        assert_eq!(Probability::from_fraction(0.723_46).unwrap().percent(), 72);
        assert_eq!(Probability::from_fraction(0.995).unwrap().percent(), 100);
        assert_eq!(Probability::from_fraction(1.0).unwrap().fraction(), 1.0);
        assert_eq!(Probability::from_fraction(0.0).unwrap().percent(), 0);
        for bad in [-0.01, 1.01, f32::NAN, f32::INFINITY] {
            assert_eq!(Probability::from_fraction(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_fraction_in_range_round_trips_to_a_basis_point(f in 0.0f32..=1.0) {
            let p = Probability::from_fraction(f).unwrap();
            proptest::prop_assert!((p.fraction() - f).abs() <= 0.000_05 + f32::EPSILON);
            proptest::prop_assert!(p.percent() <= 100);
        }
    }

    #[test]
    fn confidence_words() {
        assert_eq!(Confidence::from_provider(" HIGH "), Confidence::High);
        assert_eq!(Confidence::from_provider("moderate"), Confidence::Medium);
        assert_eq!(Confidence::from_provider("<script>"), Confidence::Low);
    }
}

//! Species identifications and the feedback users give on them.

use crate::Timestamp;
use crate::ids::{IdentificationId, UserId};
use crate::sighting::{ConservationStatus, Position, Sighting, Visibility};
use crate::text::{PlainText, TextError};

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

/// One identification kept in its owner's field journal (anonymous identifications are not
/// kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// The entry's random id, fixed when it is kept; only its owner reaches it by this id.
    pub id: IdentificationId,
    /// Whose journal it is in; only they see it.
    pub owner: UserId,
    /// When it was made.
    pub created_at: Timestamp,
    /// The provider that answered, as configured (e.g. `local-model`, `openai`).
    pub provider: String,
    /// SHA-256 of the uploaded bytes (the upload itself is not kept).
    pub upload_sha256: [u8; 32],
    /// The kept photo: its size in pixels and bytes (the bytes are read separately).
    pub photo: PhotoFacts,
    /// The answer.
    pub result: SpeciesResult,
    /// Where and when the animal was seen, as its owner said.
    pub sighting: Sighting,
    /// Who may see where it was, as its owner chose.
    pub visibility: Visibility,
    /// The point shown to others when it is obscured, chosen once when it was kept
    /// ([`crate::sighting::obscure`]); `None` exactly when it has no position.
    pub obscured_position: Option<Position>,
    /// What its owner said about the answer, if anything.
    pub feedback: Option<Feedback>,
}

impl Identification {
    /// The conservation status of the species, as the provider stated it.
    pub fn conservation_status(&self) -> ConservationStatus {
        self.result
            .conservation_status
            .as_ref()
            .map_or(ConservationStatus::Unknown, |s| {
                ConservationStatus::from_provider(s.as_str())
            })
    }
}

/// The size of a kept photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoFacts {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes kept for it: the photo and its thumbnail (what counts against the owner's
    /// allowance).
    pub stored_bytes: u64,
}

/// What an owner said about an identification's answer. One per identification: a newer one
/// replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Whether the answer was right.
    pub correct: bool,
    /// The species the owner believes it is (usually when the answer was wrong).
    pub corrected_species: Option<PlainText>,
    /// A note.
    pub notes: Option<PlainText>,
    /// When it was given.
    pub given_at: Timestamp,
}

/// The longest corrected species name, in characters.
pub const CORRECTED_SPECIES_MAX_CHARS: usize = 200;
/// The longest feedback note, in characters.
pub const FEEDBACK_NOTES_MAX_CHARS: usize = 2_000;

/// Why feedback was refused. The texts are safe to show to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// The corrected species name is too long.
    #[error("the corrected species is longer than {CORRECTED_SPECIES_MAX_CHARS} characters")]
    SpeciesTooLong,
    /// The note is too long.
    #[error("the note is longer than {FEEDBACK_NOTES_MAX_CHARS} characters")]
    NotesTooLong,
}

impl Feedback {
    /// Feedback from what a person sent: texts cleaned ([`PlainText`]; empty means none).
    ///
    /// # Errors
    /// [`FeedbackError`] naming the text that is too long.
    pub fn new(
        correct: bool,
        corrected_species: Option<&str>,
        notes: Option<&str>,
        given_at: Timestamp,
    ) -> Result<Self, FeedbackError> {
        let clean = |raw: Option<&str>, max, too_long: FeedbackError| match raw
            .map(|r| PlainText::new(r, max))
        {
            None | Some(Err(TextError::Empty)) => Ok(None),
            Some(Ok(text)) => Ok(Some(text)),
            Some(Err(TextError::TooLong { .. })) => Err(too_long),
        };
        Ok(Self {
            correct,
            corrected_species: clean(
                corrected_species,
                CORRECTED_SPECIES_MAX_CHARS,
                FeedbackError::SpeciesTooLong,
            )?,
            notes: clean(notes, FEEDBACK_NOTES_MAX_CHARS, FeedbackError::NotesTooLong)?,
            given_at,
        })
    }
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
    fn feedback_texts_are_cleaned_and_bounded() {
        let t = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let f = Feedback::new(false, Some(" Chelonia mydas\u{7} "), Some(""), t).unwrap();
        assert_eq!(f.corrected_species.unwrap().as_str(), "Chelonia mydas");
        assert_eq!(f.notes, None);
        let long = "x".repeat(FEEDBACK_NOTES_MAX_CHARS + 1);
        assert_eq!(
            Feedback::new(true, None, Some(&long), t),
            Err(FeedbackError::NotesTooLong)
        );
    }

    #[test]
    fn confidence_words() {
        assert_eq!(Confidence::from_provider(" HIGH "), Confidence::High);
        assert_eq!(Confidence::from_provider("moderate"), Confidence::Medium);
        assert_eq!(Confidence::from_provider("<script>"), Confidence::Low);
    }
}

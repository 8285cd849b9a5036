//! What a person says about where and when they saw an animal: [`SightingInput`] as sent,
//! checked into a [`Sighting`], or refused with a [`SightingError`].

use super::position::Position;
use crate::Timestamp;
use crate::text::{PlainText, TextError};

/// The longest note on a sighting, in characters.
pub const NOTES_MAX_CHARS: usize = 2_000;
/// How far in the future an observation time may be (clocks of phones drift).
pub const FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// Why a sighting was refused. The texts are safe to show to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SightingError {
    /// A latitude outside -90 to 90 degrees, or not a number.
    #[error("the latitude must be a number from -90 to 90 degrees")]
    Latitude,
    /// A longitude outside -180 to 180 degrees, or not a number.
    #[error("the longitude must be a number from -180 to 180 degrees")]
    Longitude,
    /// One coordinate without the other.
    #[error("give both the latitude and the longitude, or neither")]
    HalfPosition,
    /// The animal cannot have been seen after now.
    #[error("the observation time is in the future")]
    ObservedInFuture,
    /// The note is too long.
    #[error("the note is longer than {NOTES_MAX_CHARS} characters")]
    NotesTooLong,
}

/// Where and when a person says they saw an animal, as sent and not yet checked
/// ([`Sighting::from_input`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SightingInput {
    /// Latitude in degrees.
    pub latitude: Option<f64>,
    /// Longitude in degrees.
    pub longitude: Option<f64>,
    /// When the animal was seen, as sent (not yet checked against the time it is recorded).
    pub observed_at: Option<Timestamp>,
    /// A note, uncleaned.
    pub notes: Option<String>,
}

/// Where and when the person saw the animal, as they said; every part is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sighting {
    /// Where the animal was seen; `None` when the person did not say.
    pub position: Option<Position>,
    /// When (never after it was recorded).
    pub observed_at: Option<Timestamp>,
    /// A note, cleaned.
    pub notes: Option<PlainText>,
}

impl Sighting {
    /// A sighting from what a person typed: `latitude` and `longitude` in degrees (both or
    /// neither), `observed_at` no later than `now` (give or take
    /// [`FUTURE_TOLERANCE_MINUTES`]), `notes` cleaned ([`PlainText`]; empty means none).
    ///
    /// # Errors
    /// [`SightingError`] naming the first part that is wrong.
    pub fn new(
        latitude: Option<f64>,
        longitude: Option<f64>,
        observed_at: Option<Timestamp>,
        notes: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, SightingError> {
        let position = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some(Position::new(lat, lon)?),
            (None, None) => None,
            _ => return Err(SightingError::HalfPosition),
        };
        if observed_at
            .is_some_and(|t| t > now + chrono::TimeDelta::minutes(FUTURE_TOLERANCE_MINUTES))
        {
            return Err(SightingError::ObservedInFuture);
        }
        let notes = match notes.map(|n| PlainText::new(n, NOTES_MAX_CHARS)) {
            None | Some(Err(TextError::Empty)) => None,
            Some(Ok(text)) => Some(text),
            Some(Err(TextError::TooLong { .. })) => return Err(SightingError::NotesTooLong),
        };
        Ok(Self {
            position,
            observed_at,
            notes,
        })
    }

    /// [`Sighting::new`] on what a person sent.
    ///
    /// # Errors
    /// As [`Sighting::new`].
    pub fn from_input(input: &SightingInput, now: Timestamp) -> Result<Self, SightingError> {
        Self::new(
            input.latitude,
            input.longitude,
            input.observed_at,
            input.notes.as_deref(),
            now,
        )
    }

    /// Whether nothing was said.
    pub fn is_empty(&self) -> bool {
        self.position.is_none() && self.observed_at.is_none() && self.notes.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn sightings_refuse_bad_parts_by_name() {
        let t = now();
        assert_eq!(
            Sighting::new(Some(1.0), None, None, None, t),
            Err(SightingError::HalfPosition)
        );
        assert_eq!(
            Sighting::new(None, None, Some(t + chrono::TimeDelta::hours(1)), None, t),
            Err(SightingError::ObservedInFuture)
        );
        let long = "a".repeat(NOTES_MAX_CHARS + 1);
        assert_eq!(
            Sighting::new(None, None, None, Some(&long), t),
            Err(SightingError::NotesTooLong)
        );
        let s = Sighting::new(Some(1.0), Some(2.0), Some(t), Some("  \n "), t).unwrap();
        assert_eq!(s.notes, None, "an empty note is no note");
        assert!(Sighting::default().is_empty());
    }
}

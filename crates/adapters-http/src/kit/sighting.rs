//! Where and when an animal was seen, as a form or a multipart upload sends it: the fields
//! `latitude`, `longitude` (decimal degrees), `observed_at` and `notes`, all optional.
//!
//! `observed_at` is an RFC 3339 instant (`2026-05-01T06:30:00Z`, `...+10:00`), or a local date
//! and time as `<input type="datetime-local">` sends it (`2026-05-01T06:30`) with the browser's
//! offset from UTC in `utc_offset_minutes` (the identify page's script fills it in; without
//! it a local time is read as UTC).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use wildid_domain::Timestamp;
use wildid_domain::sighting::{SightingInput, Visibility};

use crate::error::AppError;

/// The sighting fields of a form, as sent.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SightingFields {
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub observed_at: Option<String>,
    pub utc_offset_minutes: Option<String>,
    pub notes: Option<String>,
}

impl SightingFields {
    /// Names of the fields, for multipart forms.
    pub(crate) const NAMES: [&'static str; 5] = [
        "latitude",
        "longitude",
        "observed_at",
        "utc_offset_minutes",
        "notes",
    ];

    /// Whether every field is empty.
    pub(crate) fn is_blank(&self) -> bool {
        [
            &self.latitude,
            &self.longitude,
            &self.observed_at,
            &self.notes,
        ]
        .iter()
        .all(|f| f.as_deref().is_none_or(|v| v.trim().is_empty()))
    }

    /// Sets the field `name` (one of [`SightingFields::NAMES`]) to `value`.
    pub(crate) fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "latitude" => &mut self.latitude,
            "longitude" => &mut self.longitude,
            "observed_at" => &mut self.observed_at,
            "utc_offset_minutes" => &mut self.utc_offset_minutes,
            _ => &mut self.notes,
        };
        *slot = Some(value);
    }

    /// What was sent, read: numbers as numbers, the time as an instant (the use case checks
    /// the ranges and that the time is not in the future).
    ///
    /// # Errors
    /// 422 `invalid_sighting` naming the field that cannot be read.
    pub(crate) fn input(&self) -> Result<SightingInput, AppError> {
        let degrees = |value: &Option<String>, field: &str| -> Result<Option<f64>, AppError> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(text) => text
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| AppError::sighting_degrees_unreadable(field)),
            }
        };
        Ok(SightingInput {
            latitude: degrees(&self.latitude, "latitude")?,
            longitude: degrees(&self.longitude, "longitude")?,
            observed_at: self.observed_at()?,
            notes: self.notes.clone(),
        })
    }

    fn observed_at(&self) -> Result<Option<Timestamp>, AppError> {
        let Some(text) = self
            .observed_at
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            return Ok(Some(instant.with_timezone(&Utc)));
        }
        let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .ok_or_else(AppError::sighting_time_unreadable)?;
        let offset = match self.utc_offset_minutes.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(minutes) => minutes
                .parse::<i64>()
                .ok()
                .filter(|m| m.abs() <= 18 * 60)
                .ok_or_else(AppError::sighting_offset_unreadable)?,
        };
        Ok(Some(local.and_utc() - TimeDelta::minutes(offset)))
    }
}

/// A visibility by name, or 422 naming the accepted ones.
pub(crate) fn visibility(name: &str) -> Result<Visibility, AppError> {
    Visibility::parse(name.trim()).ok_or_else(AppError::invalid_visibility)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> wildid_domain::Timestamp {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    fn fields(pairs: &[(&str, &str)]) -> SightingFields {
        let mut f = SightingFields::default();
        for (name, value) in pairs {
            f.set(name, (*value).to_owned());
        }
        f
    }

    fn refusal(f: &SightingFields) -> String {
        match f.input() {
            Err(AppError::Refused { code, message, .. }) => format!("{code}: {message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_fields_are_no_sighting() {
        let f = fields(&[("latitude", ""), ("longitude", " "), ("notes", "")]);
        let input = f.input().unwrap();
        let s = wildid_domain::sighting::Sighting::from_input(&input, now()).unwrap();
        assert!(s.is_empty());
    }

    #[test]
    fn local_times_are_moved_by_the_browsers_offset() {
        let f = fields(&[
            ("observed_at", "2026-05-01T20:30"),
            ("utc_offset_minutes", "600"),
        ]);
        let s = f.input().unwrap();
        assert_eq!(
            s.observed_at,
            Some(Utc.with_ymd_and_hms(2026, 5, 1, 10, 30, 0).unwrap())
        );
        let f = fields(&[("observed_at", "2026-05-01T06:30:00-04:00")]);
        assert_eq!(
            f.input().unwrap().observed_at,
            Some(Utc.with_ymd_and_hms(2026, 5, 1, 10, 30, 0).unwrap())
        );
    }

    #[test]
    fn each_unreadable_field_is_named() {
        assert_eq!(
            refusal(&fields(&[("latitude", "north")])),
            "invalid_sighting: The latitude must be a number of degrees."
        );
        assert!(refusal(&fields(&[("longitude", "1,5")])).contains("longitude"));
        assert!(refusal(&fields(&[("observed_at", "yesterday")])).contains("observed_at"));
        assert!(
            refusal(&fields(&[
                ("observed_at", "2026-05-01T10:00"),
                ("utc_offset_minutes", "x")
            ]))
            .contains("utc_offset_minutes")
        );
    }
}

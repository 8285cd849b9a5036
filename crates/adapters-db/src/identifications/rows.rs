//! How an entry is stored: its row in `identifications` and its sighting's in `sightings`,
//! made from an `Identification` and read back into one, and the conversions of single column
//! values they share with the other modules.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wildid_domain::identification::{
    Alternative, Confidence, Identification, PhotoFacts, Probability, SpeciesResult,
};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Position, Sighting, Visibility};
use wildid_domain::text::PlainText;
use wildid_ports::RepoError;

use super::details::{Details, StoredAlternative, feedback, json, stored_feedback};
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::corrupt;
use crate::schema::{identifications, sightings};

/// The longest stored text read back as plain text (what was stored was cleaned and bounded
/// when it was made; this only guards against a corrupt row).
const MAX_STORED_CHARS: usize = 100_000;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = identifications)]
pub(super) struct Row {
    pub(super) id: String,
    pub(super) owner: String,
    created_at: NaiveDateTime,
    provider: String,
    pub(super) stored_bytes: i64,
    details: String,
    animal_type_key: Option<String>,
    feedback_correct: Option<bool>,
    feedback: Option<String>,
}

/// The sighting of an identification (one per identification).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sightings)]
pub(super) struct SightingRow {
    identification_id: String,
    owner: String,
    created_at: NaiveDateTime,
    lat: Option<i32>,
    lon: Option<i32>,
    shown_lat: Option<i32>,
    shown_lon: Option<i32>,
    observed_at: Option<NaiveDateTime>,
    notes: Option<String>,
    visibility: String,
    conservation_rank: i16,
    common_name: String,
    species: String,
}

/// The key an animal type is filtered by: trimmed, lower case.
pub(super) fn type_key(animal_type: &str) -> String {
    animal_type.trim().to_lowercase()
}

pub(super) fn text(value: String, column: &str) -> Result<PlainText, RepoError> {
    PlainText::new(&value, MAX_STORED_CHARS).map_err(|_| corrupt(column))
}

pub(super) fn opt_text(
    value: Option<String>,
    column: &str,
) -> Result<Option<PlainText>, RepoError> {
    value.map(|v| text(v, column)).transpose()
}

pub(super) fn owned(t: &Option<PlainText>) -> Option<String> {
    t.as_ref().map(|t| t.as_str().to_owned())
}

pub(super) fn position(
    lat: Option<i32>,
    lon: Option<i32>,
    column: &str,
) -> Result<Option<Position>, RepoError> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => Position::from_micro(lat, lon)
            .map(Some)
            .map_err(|_| corrupt(column)),
        (None, None) => Ok(None),
        _ => Err(corrupt(column)),
    }
}

/// The `sightings.visibility` column.
pub(super) fn visibility(stored: &str) -> Result<Visibility, RepoError> {
    Visibility::parse(stored).ok_or_else(|| corrupt("sightings.visibility"))
}

fn confidence(name: &str) -> Result<Confidence, RepoError> {
    [Confidence::Low, Confidence::Medium, Confidence::High]
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| corrupt("identifications.details"))
}

fn points(p: Probability) -> u16 {
    // At most 10,000 basis points.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let points = (p.fraction() * 10_000.0).round() as u16;
    points
}

/// The two rows of an identification.
pub(super) fn rows(i: &Identification) -> Result<(Row, SightingRow), RepoError> {
    let sighting = SightingRow {
        identification_id: i.id.to_string(),
        owner: i.owner.to_string(),
        created_at: to_db_time(i.created_at),
        lat: i.sighting.position.map(Position::lat_micro),
        lon: i.sighting.position.map(Position::lon_micro),
        shown_lat: i.obscured_position.map(Position::lat_micro),
        shown_lon: i.obscured_position.map(Position::lon_micro),
        observed_at: opt_to_db_time(i.sighting.observed_at),
        notes: owned(&i.sighting.notes),
        visibility: i.visibility.as_str().to_owned(),
        conservation_rank: i16::from(i.conservation_status().rank()),
        common_name: i.result.common_name.as_str().to_owned(),
        species: i.result.species.as_str().to_owned(),
    };
    Ok((Row::new(i)?, sighting))
}

impl Row {
    fn new(i: &Identification) -> Result<Self, RepoError> {
        let r = &i.result;
        let details = Details {
            is_animal: r.is_animal,
            species: r.species.as_str().to_owned(),
            common_name: r.common_name.as_str().to_owned(),
            animal_type: owned(&r.animal_type),
            conservation_status: owned(&r.conservation_status),
            confidence: r.confidence.as_str().to_owned(),
            description: owned(&r.description),
            notes: owned(&r.notes),
            alternatives: r
                .alternatives
                .iter()
                .map(|a| StoredAlternative {
                    common_name: a.common_name.as_str().to_owned(),
                    species: owned(&a.species),
                    probability: points(a.probability),
                })
                .collect(),
            width: i.photo.width,
            height: i.photo.height,
            upload_sha256: hex::encode(i.upload_sha256),
        };
        let feedback = i.feedback.as_ref().map(stored_feedback).transpose()?;
        Ok(Self {
            id: i.id.to_string(),
            owner: i.owner.to_string(),
            created_at: to_db_time(i.created_at),
            provider: i.provider.clone(),
            stored_bytes: i64::try_from(i.photo.stored_bytes)
                .map_err(|_| RepoError::Other("a photo size beyond i64".into()))?,
            details: json(&details)?,
            animal_type_key: r.animal_type.as_ref().map(|t| type_key(t.as_str())),
            feedback_correct: i.feedback.as_ref().map(|f| f.correct),
            feedback,
        })
    }
}

/// The identification its two rows store.
pub(super) fn identification((r, seen): (Row, SightingRow)) -> Result<Identification, RepoError> {
    let column = "identifications.details";
    let d: Details = serde_json::from_str(&r.details).map_err(|_| corrupt(column))?;
    let alternatives = d
        .alternatives
        .into_iter()
        .map(|a| {
            Ok(Alternative {
                common_name: text(a.common_name, column)?,
                species: opt_text(a.species, column)?,
                probability: Probability::from_fraction(f32::from(a.probability) / 10_000.0)
                    .ok_or_else(|| corrupt(column))?,
            })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    let digest = hex::decode(&d.upload_sha256).map_err(|_| corrupt(column))?;
    Ok(Identification {
        id: IdentificationId::parse(&r.id).map_err(|_| corrupt("identifications.id"))?,
        owner: UserId::parse(&r.owner).map_err(|_| corrupt("identifications.owner"))?,
        created_at: from_db_time(r.created_at),
        provider: r.provider,
        upload_sha256: array(digest, column)?,
        photo: PhotoFacts {
            width: d.width,
            height: d.height,
            stored_bytes: u64::try_from(r.stored_bytes)
                .map_err(|_| corrupt("identifications.stored_bytes"))?,
        },
        result: SpeciesResult {
            is_animal: d.is_animal,
            species: text(d.species, column)?,
            common_name: text(d.common_name, column)?,
            animal_type: opt_text(d.animal_type, column)?,
            conservation_status: opt_text(d.conservation_status, column)?,
            confidence: confidence(&d.confidence)?,
            description: opt_text(d.description, column)?,
            notes: opt_text(d.notes, column)?,
            alternatives,
        },
        sighting: Sighting {
            position: position(seen.lat, seen.lon, "sightings.lat")?,
            observed_at: opt_from_db_time(seen.observed_at),
            notes: opt_text(seen.notes, "sightings.notes")?,
        },
        visibility: visibility(&seen.visibility)?,
        obscured_position: position(seen.shown_lat, seen.shown_lon, "sightings.shown_lat")?,
        feedback: feedback(r.feedback_correct, r.feedback)?,
    })
}

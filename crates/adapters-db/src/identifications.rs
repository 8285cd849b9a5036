//! `IdentificationRepository` on diesel: the field journal.
//!
//! One row per entry in `identifications`, its pictures in `identification_photos` (so that a
//! listing never reads a photo), and the bytes each person's photos take in
//! `users.journal_bytes`. Keeping an entry takes its bytes from the owner's allowance with one
//! conditional update, in the same transaction as the two inserts, so concurrent inserts cannot
//! pass the allowance together and no entry exists without its photo. Every statement names the
//! owner: another person's entry matches no row and is reported as missing.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::identification::{
    Alternative, Confidence, Feedback, Identification, PhotoFacts, Probability, SpeciesResult,
};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{
    Area, ConservationStatus, Placement, Position, Sighting, Visibility,
};
use wildid_domain::text::PlainText;
use wildid_ports::RepoError;
use wildid_ports::repo::{
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, JournalSlice, Kept,
    OwnSighting, PhotoSize, SharedSighting, StoredPicture,
};

use crate::Database;
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::pool::{with_conn, with_write_conn, write_transaction};
use crate::schema::{identification_photos, identifications, journal_usage, sightings};

/// The most entries one listing returns, whatever is asked.
const MAX_LIMIT: u32 = 100;
/// The most sightings one map request returns, whatever is asked.
const MAX_SHARED: u32 = 5_000;
/// The longest stored text read back as plain text (what was stored was cleaned and bounded
/// when it was made; this only guards against a corrupt row).
const MAX_STORED_CHARS: usize = 100_000;

pub(crate) struct SqlIdentifications {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = identifications)]
struct Row {
    id: String,
    owner: String,
    created_at: NaiveDateTime,
    provider: String,
    stored_bytes: i64,
    details: String,
    animal_type_key: Option<String>,
    feedback_correct: Option<bool>,
    feedback: Option<String>,
}

/// The sighting of an identification (one per identification).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sightings)]
struct SightingRow {
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

/// What the maps read of a sighting.
#[derive(Queryable, Selectable)]
#[diesel(table_name = sightings)]
struct MapRow {
    created_at: NaiveDateTime,
    lat: Option<i32>,
    lon: Option<i32>,
    shown_lat: Option<i32>,
    shown_lon: Option<i32>,
    observed_at: Option<NaiveDateTime>,
    visibility: String,
    conservation_rank: i16,
    common_name: String,
    species: String,
}

#[derive(Insertable)]
#[diesel(table_name = identification_photos)]
struct PhotoRow<'a> {
    identification_id: &'a str,
    media_type: &'a str,
    photo: &'a [u8],
    thumbnail: &'a [u8],
}

/// The `details` column (JSON): the answer, the photo's size, the upload's digest.
#[derive(serde::Serialize, serde::Deserialize)]
struct Details {
    is_animal: bool,
    species: String,
    common_name: String,
    animal_type: Option<String>,
    conservation_status: Option<String>,
    confidence: String,
    description: Option<String>,
    notes: Option<String>,
    alternatives: Vec<StoredAlternative>,
    width: u32,
    height: u32,
    /// Hex.
    upload_sha256: String,
}

/// An alternative answer, in [`Details`].
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAlternative {
    common_name: String,
    species: Option<String>,
    /// Basis points.
    probability: u16,
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

/// The key an animal type is filtered by: trimmed, lower case.
fn type_key(animal_type: &str) -> String {
    animal_type.trim().to_lowercase()
}

fn text(value: String, column: &str) -> Result<PlainText, RepoError> {
    PlainText::new(&value, MAX_STORED_CHARS).map_err(|_| corrupt(column))
}

fn opt_text(value: Option<String>, column: &str) -> Result<Option<PlainText>, RepoError> {
    value.map(|v| text(v, column)).transpose()
}

fn owned(t: &Option<PlainText>) -> Option<String> {
    t.as_ref().map(|t| t.as_str().to_owned())
}

fn position(
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

fn json<T: serde::Serialize>(value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| RepoError::Other(e.to_string()))
}

/// The two rows of an identification.
fn rows(i: &Identification) -> Result<(Row, SightingRow), RepoError> {
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
        let feedback = i
            .feedback
            .as_ref()
            .map(|f| {
                json(&StoredFeedback {
                    corrected_species: owned(&f.corrected_species),
                    notes: owned(&f.notes),
                    given_at: f.given_at.timestamp_micros(),
                })
            })
            .transpose()?;
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

fn feedback(correct: Option<bool>, stored: Option<String>) -> Result<Option<Feedback>, RepoError> {
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

/// The identification its two rows store.
fn identification((r, seen): (Row, SightingRow)) -> Result<Identification, RepoError> {
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
        visibility: Visibility::parse(&seen.visibility)
            .ok_or_else(|| corrupt("sightings.visibility"))?,
        obscured_position: position(seen.shown_lat, seen.shown_lon, "sightings.shown_lat")?,
        feedback: feedback(r.feedback_correct, r.feedback)?,
    })
}

fn bytes_i64(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

#[async_trait]
impl IdentificationRepository for SqlIdentifications {
    async fn insert(
        &self,
        identification: &Identification,
        photo: &JournalPhoto,
        allowance: u64,
    ) -> Result<Kept, RepoError> {
        let (row, seen) = rows(identification)?;
        let owner = row.owner.clone();
        let bytes = row.stored_bytes;
        // The owner's bytes may grow by `bytes` only from at most this.
        let room = bytes_i64(allowance).saturating_sub(bytes);
        let pictures = PhotoRow {
            identification_id: &row.id,
            media_type: &photo.media_type,
            photo: &photo.bytes,
            thumbnail: &photo.thumbnail,
        };
        write_transaction!(self.db, |conn| -> Result<Kept, TxError> {
            // The owner's counter (a missing owner fails its foreign key: NotFound).
            diesel::insert_into(journal_usage::table)
                .values((
                    journal_usage::user_id.eq(&owner),
                    journal_usage::bytes.eq(0),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let taken = diesel::update(
                journal_usage::table
                    .find(&owner)
                    .filter(journal_usage::bytes.le(room)),
            )
            .set(journal_usage::bytes.eq(journal_usage::bytes + bytes))
            .execute(conn)
            .await?;
            if taken == 0 {
                let used: i64 = journal_usage::table
                    .find(&owner)
                    .select(journal_usage::bytes)
                    .get_result(conn)
                    .await?;
                return Ok(Kept::OverAllowance {
                    used: u64::try_from(used).unwrap_or(0),
                });
            }
            diesel::insert_into(identifications::table)
                .values(&row)
                .execute(conn)
                .await?;
            diesel::insert_into(sightings::table)
                .values(&seen)
                .execute(conn)
                .await?;
            diesel::insert_into(identification_photos::table)
                .values(&pictures)
                .execute(conn)
                .await?;
            Ok(Kept::Stored)
        })
    }

    async fn get(&self, id: IdentificationId, owner: UserId) -> Result<Identification, RepoError> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let row: (Row, SightingRow) = with_conn!(self.db, |conn| {
            identifications::table
                .inner_join(sightings::table)
                .filter(identifications::id.eq(&id))
                .filter(identifications::owner.eq(&owner))
                .select((Row::as_select(), SightingRow::as_select()))
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        identification(row)
    }

    async fn list(
        &self,
        owner: UserId,
        filter: &JournalFilter,
        after: Option<JournalPosition>,
        limit: u32,
    ) -> Result<JournalSlice, RepoError> {
        let owner = owner.to_string();
        let limit = limit.clamp(1, MAX_LIMIT);
        let after = after.map(|p| (to_db_time(p.created_at), p.id.to_string()));
        let animal_type = filter.animal_type.as_deref().map(type_key);
        let marked_wrong = filter.marked_wrong;
        let mut rows: Vec<(Row, SightingRow)> = with_conn!(self.db, |conn| {
            let mut query = identifications::table
                .inner_join(sightings::table)
                .filter(identifications::owner.eq(&owner))
                .into_boxed();
            if let Some((at, id)) = &after {
                query = query.filter(
                    identifications::created_at
                        .lt(*at)
                        .or(identifications::created_at
                            .eq(*at)
                            .and(identifications::id.lt(id.clone()))),
                );
            }
            if let Some(key) = &animal_type {
                query = query.filter(identifications::animal_type_key.eq(key.clone()));
            }
            if marked_wrong {
                query = query.filter(identifications::feedback_correct.eq(false));
            }
            query
                .order((
                    identifications::created_at.desc(),
                    identifications::id.desc(),
                ))
                .limit(i64::from(limit) + 1)
                .select((Row::as_select(), SightingRow::as_select()))
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let entries = rows
            .into_iter()
            .map(identification)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            entries.last().map(|last| JournalPosition {
                created_at: last.created_at,
                id: last.id,
            })
        } else {
            None
        };
        Ok(JournalSlice { entries, next })
    }

    async fn picture(
        &self,
        id: IdentificationId,
        owner: UserId,
        size: PhotoSize,
    ) -> Result<StoredPicture, RepoError> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let (media_type, bytes): (String, Vec<u8>) = with_conn!(self.db, |conn| {
            let owned = identification_photos::table
                .inner_join(identifications::table)
                .filter(identifications::id.eq(&id))
                .filter(identifications::owner.eq(&owner));
            match size {
                PhotoSize::Full => owned
                    .select((
                        identification_photos::media_type,
                        identification_photos::photo,
                    ))
                    .get_result(conn)
                    .await
                    .map_err(repo_error)?,
                PhotoSize::Thumbnail => owned
                    .select(identification_photos::thumbnail)
                    .get_result::<Vec<u8>>(conn)
                    .await
                    .map(|thumb| ("image/jpeg".to_owned(), thumb))
                    .map_err(repo_error)?,
            }
        });
        Ok(StoredPicture { bytes, media_type })
    }

    async fn delete(&self, id: IdentificationId, owner: UserId) -> Result<(), RepoError> {
        let (id, owner) = (id.to_string(), owner.to_string());
        write_transaction!(self.db, |conn| -> Result<(), TxError> {
            let bytes: Option<i64> = diesel::delete(
                identifications::table
                    .find(&id)
                    .filter(identifications::owner.eq(&owner)),
            )
            .returning(identifications::stored_bytes)
            .get_result(conn)
            .await
            .optional()?;
            let Some(bytes) = bytes else {
                return Err(TxError::Repo(RepoError::NotFound));
            };
            diesel::update(journal_usage::table.find(&owner))
                .set(journal_usage::bytes.eq(journal_usage::bytes - bytes))
                .execute(conn)
                .await?;
            Ok(())
        })?;
        crate::pool::truncate_wal(&self.db).await;
        Ok(())
    }

    async fn put_feedback(
        &self,
        id: IdentificationId,
        owner: UserId,
        feedback: &Feedback,
    ) -> Result<(), RepoError> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let stored = json(&StoredFeedback {
            corrected_species: owned(&feedback.corrected_species),
            notes: owned(&feedback.notes),
            given_at: feedback.given_at.timestamp_micros(),
        })?;
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(
                identifications::table
                    .find(&id)
                    .filter(identifications::owner.eq(&owner)),
            )
            .set((
                identifications::feedback_correct.eq(Some(feedback.correct)),
                identifications::feedback.eq(Some(&stored)),
            ))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        found(changed)
    }

    async fn set_visibility(
        &self,
        id: IdentificationId,
        owner: UserId,
        visibility: Visibility,
    ) -> Result<(), RepoError> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(
                sightings::table
                    .find(&id)
                    .filter(sightings::owner.eq(&owner)),
            )
            .set(sightings::visibility.eq(visibility.as_str()))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        found(changed)
    }

    async fn shared_in(
        &self,
        area: Area,
        obscure_from: ConservationStatus,
        limit: u32,
    ) -> Result<Vec<SharedSighting>, RepoError> {
        let from = i16::from(obscure_from.rank());
        let (south, west, north, east) = (area.south(), area.west(), area.north(), area.east());
        let limit = i64::from(limit.clamp(1, MAX_SHARED));
        let rows: Vec<MapRow> = with_conn!(self.db, |conn| {
            // Shown where seen: open, and of no known status or one below `from`.
            let exact = sightings::visibility.eq("open").and(
                sightings::conservation_rank
                    .eq(0i16)
                    .or(sightings::conservation_rank.lt(from)),
            );
            // Shown at the obscured point: obscured, or open but threatened.
            let blurred = sightings::visibility
                .eq("obscured")
                .or(sightings::visibility
                    .eq("open")
                    .and(sightings::conservation_rank.gt(0i16))
                    .and(sightings::conservation_rank.ge(from)));
            sightings::table
                .filter(sightings::visibility.ne("private"))
                .filter(sightings::lat.is_not_null())
                .filter(
                    exact
                        .and(sightings::lat.between(south, north))
                        .and(sightings::lon.between(west, east))
                        .or(blurred
                            .and(sightings::shown_lat.between(south, north))
                            .and(sightings::shown_lon.between(west, east))),
                )
                .order(sightings::created_at.desc())
                .limit(limit)
                .select(MapRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        let mut shared = Vec::with_capacity(rows.len());
        for row in rows {
            let column = "sightings";
            let (Some(true_point), Some(obscured)) = (
                position(row.lat, row.lon, column)?,
                position(row.shown_lat, row.shown_lon, column)?,
            ) else {
                return Err(corrupt(column));
            };
            let visibility = Visibility::parse(&row.visibility)
                .ok_or_else(|| corrupt("sightings.visibility"))?;
            let status = u8::try_from(row.conservation_rank)
                .ok()
                .and_then(ConservationStatus::from_rank)
                .ok_or_else(|| corrupt("sightings.conservation_rank"))?;
            // The query chose by the same rule; deciding again here means no change to the SQL
            // can ever hand out a true point that should be obscured.
            let Placement::At(point) =
                Placement::for_public(true_point, obscured, visibility, status, obscure_from)
            else {
                continue;
            };
            if !area.contains(point) {
                continue;
            }
            shared.push(SharedSighting {
                position: point,
                obscured: point == obscured,
                common_name: text(row.common_name, "sightings.common_name")?,
                species: text(row.species, "sightings.species")?,
                seen: from_db_time(row.observed_at.unwrap_or(row.created_at)),
            });
        }
        Ok(shared)
    }

    async fn sightings_of(&self, owner: UserId, limit: u32) -> Result<Vec<OwnSighting>, RepoError> {
        let owner = owner.to_string();
        let limit = i64::from(limit.clamp(1, MAX_SHARED));
        let rows: Vec<(String, MapRow)> = with_conn!(self.db, |conn| {
            sightings::table
                .filter(sightings::owner.eq(&owner))
                .filter(sightings::lat.is_not_null())
                .order(sightings::created_at.desc())
                .limit(limit)
                .select((sightings::identification_id, MapRow::as_select()))
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter()
            .map(|(id, row)| {
                Ok(OwnSighting {
                    id: IdentificationId::parse(&id).map_err(|_| corrupt("sightings.id"))?,
                    position: position(row.lat, row.lon, "sightings.lat")?
                        .ok_or_else(|| corrupt("sightings.lat"))?,
                    common_name: text(row.common_name, "sightings.common_name")?,
                    seen: from_db_time(row.observed_at.unwrap_or(row.created_at)),
                    visibility: Visibility::parse(&row.visibility)
                        .ok_or_else(|| corrupt("sightings.visibility"))?,
                })
            })
            .collect()
    }

    async fn stored_bytes(&self, owner: UserId) -> Result<u64, RepoError> {
        let owner = owner.to_string();
        let used: Option<i64> = with_conn!(self.db, |conn| {
            journal_usage::table
                .find(&owner)
                .select(journal_usage::bytes)
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        Ok(used.map_or(0, |b| u64::try_from(b).unwrap_or(0)))
    }
}

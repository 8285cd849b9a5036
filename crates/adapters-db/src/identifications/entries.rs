//! The entries of a journal: keeping one within its owner's allowance, reading one, listing a
//! page of them, deleting one (which gives its bytes back), and the bytes an owner's photos
//! take.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::identification::Identification;
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_ports::RepoError;
use wildid_ports::repo::{
    JournalFilter, JournalPhoto, JournalPosition, JournalSlice, JournalStamp, Kept,
};

use super::photos::PhotoRow;
use super::rows::{Row, SightingRow, identification, rows, type_key};
use crate::Database;
use crate::codec::to_db_time;
use crate::error::{TxError, corrupt, repo_error};
use crate::pool::{read_query, truncate_wal, write_transaction};
use crate::schema::{identification_photos, identifications, journal_usage, sightings};

/// The most entries one listing returns, whatever is asked.
const MAX_LIMIT: u32 = 100;

fn bytes_i64(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

pub(super) async fn insert(
    db: &Database,
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
    write_transaction!(db, |conn| -> Result<Kept, TxError> {
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

pub(super) async fn get(
    db: &Database,
    id: IdentificationId,
    owner: UserId,
) -> Result<Identification, RepoError> {
    let (id, owner) = (id.to_string(), owner.to_string());
    let row: (Row, SightingRow) = read_query!(
        db,
        identifications::table
            .inner_join(sightings::table)
            .filter(identifications::id.eq(id.clone()))
            .filter(identifications::owner.eq(owner.clone()))
            .select((Row::as_select(), SightingRow::as_select())),
        get_result
    )
    .map_err(repo_error)?;
    identification(row)
}

pub(super) async fn owner_of(
    db: &Database,
    id: IdentificationId,
) -> Result<Option<UserId>, RepoError> {
    let id = id.to_string();
    let owner: Option<String> = read_query!(
        db,
        identifications::table
            .filter(identifications::id.eq(id.clone()))
            .select(identifications::owner),
        get_result
    )
    .optional()
    .map_err(repo_error)?;
    owner
        .map(|o| UserId::parse(&o).map_err(|_| corrupt("identification owner")))
        .transpose()
}

pub(super) async fn list(
    db: &Database,
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
    // A page is read as the session and the user are (`read_query!`): on SQLite through the
    // synchronous API on the calling worker, rows read in place, where `with_conn!` would copy
    // every column of every row into an owned value on a blocking thread first.
    let mut rows: Vec<(Row, SightingRow)> = read_query!(
        db,
        {
            let mut query = identifications::table
                .inner_join(sightings::table)
                .filter(identifications::owner.eq(owner.clone()))
                .into_boxed();
            if let Some((at, id)) = &after {
                // `created_at <= at` alone bounds the index range; the rest breaks the tie.
                query = query.filter(
                    identifications::created_at.le(*at).and(
                        identifications::created_at
                            .lt(*at)
                            .or(identifications::id.lt(id.clone())),
                    ),
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
        },
        load
    )
    .map_err(repo_error)?;
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

pub(super) async fn delete(
    db: &Database,
    id: IdentificationId,
    owner: UserId,
) -> Result<(), RepoError> {
    let (id, owner) = (id.to_string(), owner.to_string());
    write_transaction!(db, |conn| -> Result<(), TxError> {
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
    truncate_wal(db).await;
    Ok(())
}

pub(super) async fn stored_bytes(db: &Database, owner: UserId) -> Result<u64, RepoError> {
    let owner = owner.to_string();
    let used: Option<i64> = read_query!(
        db,
        journal_usage::table
            .find(owner.clone())
            .select(journal_usage::bytes),
        get_result
    )
    .optional()
    .map_err(repo_error)?;
    Ok(used.map_or(0, |b| u64::try_from(b).unwrap_or(0)))
}

pub(super) async fn stamp(db: &Database, owner: UserId) -> Result<JournalStamp, RepoError> {
    let owner = owner.to_string();
    let row: Option<(i64, i64)> = read_query!(
        db,
        journal_usage::table
            .find(owner.clone())
            .select((journal_usage::bytes, journal_usage::version)),
        get_result
    )
    .optional()
    .map_err(repo_error)?;
    Ok(
        row.map_or_else(JournalStamp::default, |(bytes, version)| JournalStamp {
            bytes: u64::try_from(bytes).unwrap_or(0),
            version: u64::try_from(version).unwrap_or(0),
        }),
    )
}

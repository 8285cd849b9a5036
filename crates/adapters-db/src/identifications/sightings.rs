//! The sightings the maps show: the public map's sightings in an area, each at its true point
//! or its obscured one as its visibility and conservation status decide, and a person's own.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Area, ConservationStatus, Placement};
use wildid_ports::RepoError;
use wildid_ports::repo::{OwnSighting, SharedSighting};

use super::rows::{position, text, visibility};
use crate::Database;
use crate::codec::from_db_time;
use crate::error::{corrupt, repo_error};
use crate::pool::with_conn;
use crate::schema::sightings;

/// The most sightings one map request returns, whatever is asked.
const MAX_SHARED: u32 = 5_000;

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

impl MapRow {
    /// When the animal was seen: the time its finder gave, or else when the entry was kept.
    fn seen(&self) -> Timestamp {
        from_db_time(self.observed_at.unwrap_or(self.created_at))
    }
}

pub(super) async fn shared_in(
    db: &Database,
    area: Area,
    obscure_from: ConservationStatus,
    limit: u32,
) -> Result<Vec<SharedSighting>, RepoError> {
    let from = i16::from(obscure_from.rank());
    let (south, west, north, east) = (area.south(), area.west(), area.north(), area.east());
    let limit = i64::from(limit.clamp(1, MAX_SHARED));
    let rows: Vec<MapRow> = with_conn!(db, |conn| {
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
        let visibility = visibility(&row.visibility)?;
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
            seen: row.seen(),
            common_name: text(row.common_name, "sightings.common_name")?,
            species: text(row.species, "sightings.species")?,
        });
    }
    Ok(shared)
}

pub(super) async fn sightings_of(
    db: &Database,
    owner: UserId,
    limit: u32,
) -> Result<Vec<OwnSighting>, RepoError> {
    let owner = owner.to_string();
    let limit = i64::from(limit.clamp(1, MAX_SHARED));
    let rows: Vec<(String, MapRow)> = with_conn!(db, |conn| {
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
                seen: row.seen(),
                common_name: text(row.common_name, "sightings.common_name")?,
                visibility: visibility(&row.visibility)?,
            })
        })
        .collect()
}

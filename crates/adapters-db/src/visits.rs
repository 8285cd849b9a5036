//! Field visits on diesel: `SiteRepository`, `ServiceTypeRepository` and `BookingRepository`.
//!
//! Each slot's places are counted in `visit_slots`. Booking takes a place with one conditional
//! update (`taken < capacity`) in the same transaction as the insert, so concurrent requests
//! never take more places than there are: on SQLite the transaction holds the write lock from
//! its start, on Postgres the updated row's lock orders them and the second re-reads the
//! count. A cancellation gives its place back in the transaction that stores it; a booking
//! deleted with its visitor's account gives it back through a trigger (see the migration).
//! Each booking's visit token is kept encrypted in `visit_tokens` until check-in or
//! cancellation, and deleted in the transaction that stores either.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use wildid_domain::sighting::Area;
use wildid_domain::text::PlainText;
use wildid_domain::user::EncryptedField;
use wildid_domain::visits::{
    Booking, BookingRecord, BookingStatus, DESCRIPTION_MAX_CHARS, MAX_DURATION_MINUTES,
    ServiceType, Site, Slot, Transition, VisitMapping,
};
use wildid_ports::RepoError;
use wildid_ports::repo::{
    Booked, BookingRepository, ServiceTypeRepository, SiteRepository, VisitMappingRepository,
};

use crate::Database;
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::pool::{in_batches, truncate_wal, with_conn, with_write_conn, write_transaction};
use crate::schema::{bookings, service_types, sites, visit_mappings, visit_slots, visit_tokens};

/// The most bookings one listing returns, whatever is asked.
const MAX_LIMIT: u32 = 500;

pub(crate) struct SqlVisits {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sites)]
#[diesel(treat_none_as_null = true)]
struct SiteRow {
    id: String,
    name: String,
    name_key: String,
    description: Option<String>,
    south: i32,
    west: i32,
    north: i32,
    east: i32,
    active: bool,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_types)]
struct ServiceRow {
    id: String,
    name: String,
    name_key: String,
    duration_minutes: i32,
    capacity: i32,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = visit_mappings)]
struct MappingRow {
    token_digest: Vec<u8>,
    sealed_visitor: String,
    site_id: String,
    visit_start: NaiveDateTime,
    visit_end: NaiveDateTime,
    created_at: NaiveDateTime,
}

fn mapping_row(m: &VisitMapping) -> MappingRow {
    MappingRow {
        token_digest: m.token_digest.to_vec(),
        sealed_visitor: m.sealed_visitor.as_str().to_owned(),
        site_id: m.site.to_string(),
        visit_start: to_db_time(m.visit_start),
        visit_end: to_db_time(m.visit_end),
        created_at: to_db_time(m.created_at),
    }
}

fn mapping(row: MappingRow) -> Result<VisitMapping, RepoError> {
    Ok(VisitMapping {
        token_digest: array(row.token_digest, "visit_mappings.token_digest")?,
        sealed_visitor: EncryptedField::new(row.sealed_visitor),
        site: SiteId::parse(&row.site_id).map_err(|_| corrupt("visit_mappings.site_id"))?,
        visit_start: from_db_time(row.visit_start),
        visit_end: from_db_time(row.visit_end),
        created_at: from_db_time(row.created_at),
    })
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings)]
struct BookingRow {
    id: String,
    visitor_id: String,
    site_id: String,
    service_type_id: String,
    starts_at: NaiveDateTime,
    minutes: i32,
    description: Option<String>,
    status: String,
    worker_id: Option<String>,
    created_at: NaiveDateTime,
    checked_in_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    cancelled_at: Option<NaiveDateTime>,
}

/// The key names are unique by: lower case.
fn name_key(name: &PlainText) -> String {
    name.as_str().to_lowercase()
}

fn site_row(site: &Site) -> SiteRow {
    let area = site.area();
    SiteRow {
        id: site.id().to_string(),
        name: site.name().as_str().to_owned(),
        name_key: name_key(site.name()),
        description: site.description().map(|d| d.as_str().to_owned()),
        south: area.south(),
        west: area.west(),
        north: area.north(),
        east: area.east(),
        active: site.is_active(),
    }
}

fn site(row: SiteRow) -> Result<Site, RepoError> {
    let area = Area::from_micro(row.south, row.west, row.north, row.east)
        .map_err(|_| corrupt("sites.area"))?;
    let id = SiteId::parse(&row.id).map_err(|_| corrupt("sites.id"))?;
    Site::new(
        id,
        &row.name,
        row.description.as_deref().unwrap_or(""),
        area,
        row.active,
    )
    .map_err(|_| corrupt("sites"))
}

fn service_row(service: &ServiceType) -> ServiceRow {
    ServiceRow {
        id: service.id().to_string(),
        name: service.name().as_str().to_owned(),
        name_key: name_key(service.name()),
        duration_minutes: small(service.duration_minutes()),
        capacity: small(service.capacity()),
    }
}

fn service(row: ServiceRow) -> Result<ServiceType, RepoError> {
    let id = ServiceTypeId::parse(&row.id).map_err(|_| corrupt("service_types.id"))?;
    let minutes = u32::try_from(row.duration_minutes).map_err(|_| corrupt("service_types"))?;
    let capacity = u32::try_from(row.capacity).map_err(|_| corrupt("service_types"))?;
    ServiceType::new(id, &row.name, minutes, capacity).map_err(|_| corrupt("service_types"))
}

/// A count or length the domain bounds far below `i32::MAX`.
fn small(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn booking_row(booking: &Booking) -> BookingRow {
    let r = booking.record();
    BookingRow {
        id: r.id.to_string(),
        visitor_id: r.visitor.to_string(),
        site_id: r.site.to_string(),
        service_type_id: r.service.to_string(),
        starts_at: to_db_time(r.slot.start()),
        minutes: small(r.slot.minutes()),
        description: r.description.as_ref().map(|d| d.as_str().to_owned()),
        status: r.status.as_str().to_owned(),
        worker_id: r.worker.map(|w| w.to_string()),
        created_at: to_db_time(r.created_at),
        checked_in_at: opt_to_db_time(r.checked_in_at),
        completed_at: opt_to_db_time(r.completed_at),
        cancelled_at: opt_to_db_time(r.cancelled_at),
    }
}

fn booking(row: BookingRow) -> Result<Booking, RepoError> {
    let bad = |column: &str| corrupt(&format!("bookings.{column}"));
    let user = |raw: &str, column: &str| UserId::parse(raw).map_err(|_| bad(column));
    let minutes = u32::try_from(row.minutes).map_err(|_| bad("minutes"))?;
    let description = row
        .description
        .map(|d| PlainText::new(&d, DESCRIPTION_MAX_CHARS).map_err(|_| bad("description")))
        .transpose()?;
    let record = BookingRecord {
        id: BookingId::parse(&row.id).map_err(|_| bad("id"))?,
        visitor: user(&row.visitor_id, "visitor_id")?,
        site: SiteId::parse(&row.site_id).map_err(|_| bad("site_id"))?,
        service: ServiceTypeId::parse(&row.service_type_id).map_err(|_| bad("service_type_id"))?,
        slot: Slot::new(from_db_time(row.starts_at), minutes).map_err(|_| bad("starts_at"))?,
        description,
        status: BookingStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        worker: row
            .worker_id
            .as_deref()
            .map(|w| user(w, "worker_id"))
            .transpose()?,
        created_at: from_db_time(row.created_at),
        checked_in_at: opt_from_db_time(row.checked_in_at),
        completed_at: opt_from_db_time(row.completed_at),
        cancelled_at: opt_from_db_time(row.cancelled_at),
    };
    Booking::restore(record).map_err(|_| bad("status"))
}

fn bookings_of(rows: Vec<BookingRow>) -> Result<Vec<Booking>, RepoError> {
    rows.into_iter().map(booking).collect()
}

#[async_trait]
impl SiteRepository for SqlVisits {
    async fn insert(&self, site: &Site) -> Result<(), RepoError> {
        let row = site_row(site);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(sites::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(())
    }

    async fn get(&self, id: SiteId) -> Result<Site, RepoError> {
        let id = id.to_string();
        let row: SiteRow = with_conn!(self.db, |conn| {
            sites::table
                .find(&id)
                .select(SiteRow::as_select())
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        site(row)
    }

    async fn list(&self, active_only: bool) -> Result<Vec<Site>, RepoError> {
        let rows: Vec<SiteRow> = with_conn!(self.db, |conn| {
            let mut query = sites::table.into_boxed();
            if active_only {
                query = query.filter(sites::active.eq(true));
            }
            query
                .order(sites::name_key.asc())
                .select(SiteRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(site).collect()
    }

    async fn update(&self, site: &Site) -> Result<(), RepoError> {
        let row = site_row(site);
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(sites::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }
}

#[async_trait]
impl ServiceTypeRepository for SqlVisits {
    async fn insert(&self, service: &ServiceType) -> Result<(), RepoError> {
        let row = service_row(service);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(service_types::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(())
    }

    async fn get(&self, id: ServiceTypeId) -> Result<ServiceType, RepoError> {
        let id = id.to_string();
        let row: ServiceRow = with_conn!(self.db, |conn| {
            service_types::table
                .find(&id)
                .select(ServiceRow::as_select())
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        service(row)
    }

    async fn list(&self) -> Result<Vec<ServiceType>, RepoError> {
        let rows: Vec<ServiceRow> = with_conn!(self.db, |conn| {
            service_types::table
                .order(service_types::name_key.asc())
                .select(ServiceRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(service).collect()
    }

    async fn update(&self, service: &ServiceType) -> Result<(), RepoError> {
        let row = service_row(service);
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(service_types::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }
}

#[async_trait]
impl BookingRepository for SqlVisits {
    async fn book(
        &self,
        booking: &Booking,
        capacity: u32,
        sealed_token: &EncryptedField,
    ) -> Result<Booked, RepoError> {
        let row = booking_row(booking);
        let capacity = small(capacity);
        let sealed = sealed_token.as_str();
        write_transaction!(self.db, |conn| -> Result<Booked, TxError> {
            let holds: i64 = bookings::table
                .filter(bookings::visitor_id.eq(&row.visitor_id))
                .filter(bookings::site_id.eq(&row.site_id))
                .filter(bookings::service_type_id.eq(&row.service_type_id))
                .filter(bookings::starts_at.eq(row.starts_at))
                .filter(bookings::status.ne(BookingStatus::Cancelled.as_str()))
                .count()
                .get_result(conn)
                .await?;
            if holds > 0 {
                return Ok(Booked::AlreadyBooked);
            }
            // The slot's counter (an unknown site or service fails its foreign key: NotFound).
            diesel::insert_into(visit_slots::table)
                .values((
                    visit_slots::site_id.eq(&row.site_id),
                    visit_slots::service_type_id.eq(&row.service_type_id),
                    visit_slots::starts_at.eq(row.starts_at),
                    visit_slots::taken.eq(0),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let taken = diesel::update(
                visit_slots::table
                    .find((&row.site_id, &row.service_type_id, row.starts_at))
                    .filter(visit_slots::taken.lt(capacity)),
            )
            .set(visit_slots::taken.eq(visit_slots::taken + 1))
            .execute(conn)
            .await?;
            if taken == 0 {
                return Ok(Booked::Full);
            }
            diesel::insert_into(bookings::table)
                .values(&row)
                .execute(conn)
                .await?;
            diesel::insert_into(visit_tokens::table)
                .values((
                    visit_tokens::booking_id.eq(&row.id),
                    visit_tokens::sealed.eq(sealed),
                ))
                .execute(conn)
                .await?;
            Ok(Booked::Stored)
        })
    }

    async fn get(&self, id: BookingId) -> Result<Booking, RepoError> {
        let id = id.to_string();
        let row: BookingRow = with_conn!(self.db, |conn| {
            bookings::table
                .find(&id)
                .select(BookingRow::as_select())
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        booking(row)
    }

    async fn sealed_token(&self, id: BookingId) -> Result<Option<EncryptedField>, RepoError> {
        let id = id.to_string();
        let sealed: Option<String> = with_conn!(self.db, |conn| {
            visit_tokens::table
                .find(&id)
                .select(visit_tokens::sealed)
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        Ok(sealed.map(EncryptedField::new))
    }

    async fn for_visitor(&self, visitor: UserId, limit: u32) -> Result<Vec<Booking>, RepoError> {
        let visitor = visitor.to_string();
        let limit = i64::from(limit.clamp(1, MAX_LIMIT));
        let rows: Vec<BookingRow> = with_conn!(self.db, |conn| {
            bookings::table
                .filter(bookings::visitor_id.eq(&visitor))
                .order((bookings::starts_at.desc(), bookings::id.desc()))
                .limit(limit)
                .select(BookingRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        bookings_of(rows)
    }

    async fn open(&self, now: Timestamp, limit: u32) -> Result<Vec<Booking>, RepoError> {
        // A visit is over once its end has passed; the longest visit is 12 hours, so only
        // starts after `now - 12h` can still be running (the rest is filtered exactly below).
        let earliest = to_db_time(
            now - chrono::TimeDelta::minutes(i64::from(
                wildid_domain::visits::MAX_DURATION_MINUTES,
            )),
        );
        let limit = i64::from(limit.clamp(1, MAX_LIMIT));
        let rows: Vec<BookingRow> = with_conn!(self.db, |conn| {
            bookings::table
                .filter(bookings::status.eq(BookingStatus::Requested.as_str()))
                .filter(bookings::starts_at.ge(earliest))
                .order((bookings::starts_at.asc(), bookings::id.asc()))
                .limit(limit)
                .select(BookingRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(bookings_of(rows)?
            .into_iter()
            .filter(|b| b.slot().end() >= now)
            .collect())
    }

    async fn held_by(&self, worker: Option<UserId>, limit: u32) -> Result<Vec<Booking>, RepoError> {
        let worker = worker.map(|w| w.to_string());
        let limit = i64::from(limit.clamp(1, MAX_LIMIT));
        let held = [
            BookingStatus::Claimed.as_str(),
            BookingStatus::CheckedIn.as_str(),
        ];
        let rows: Vec<BookingRow> = with_conn!(self.db, |conn| {
            let mut query = bookings::table.into_boxed();
            if let Some(worker) = &worker {
                query = query.filter(bookings::worker_id.eq(worker.clone()));
            }
            query
                .filter(bookings::status.eq_any(held))
                .order((bookings::starts_at.asc(), bookings::id.asc()))
                .limit(limit)
                .select(BookingRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        bookings_of(rows)
    }

    async fn places_taken(
        &self,
        site: SiteId,
        service: ServiceTypeId,
        start: Timestamp,
    ) -> Result<u32, RepoError> {
        let key = (site.to_string(), service.to_string(), to_db_time(start));
        let taken: Option<i32> = with_conn!(self.db, |conn| {
            visit_slots::table
                .find((&key.0, &key.1, key.2))
                .select(visit_slots::taken)
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        u32::try_from(taken.unwrap_or(0)).map_err(|_| corrupt("visit_slots.taken"))
    }

    async fn apply(&self, transition: &Transition) -> Result<(), RepoError> {
        self.store(transition, None).await
    }

    async fn check_in(
        &self,
        transition: &Transition,
        mapping: &VisitMapping,
    ) -> Result<(), RepoError> {
        self.store(transition, Some(mapping)).await
    }

    async fn purge_started_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        let total = in_batches(batch, |limit| async move {
            // Tokens go with their bookings (ON DELETE CASCADE).
            // The keys of one batch, then their rows: one short transaction per batch.
            write_transaction!(self.db, |conn| -> Result<usize, TxError> {
                let keys: Vec<String> = bookings::table
                    .select(bookings::id)
                    .filter(bookings::starts_at.lt(cutoff))
                    .limit(limit)
                    .load(conn)
                    .await?;
                Ok(
                    diesel::delete(bookings::table.filter(bookings::id.eq_any(&keys)))
                        .execute(conn)
                        .await?,
                )
            })
        })
        .await?;
        with_write_conn!(self.db, |conn| {
            diesel::delete(visit_slots::table.filter(visit_slots::starts_at.lt(cutoff)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        if total > 0 {
            truncate_wal(&self.db).await;
        }
        Ok(total)
    }
}

impl SqlVisits {
    /// Stores `transition` if the booking is still where it was, and `mapping` with it.
    async fn store(
        &self,
        transition: &Transition,
        mapping: Option<&VisitMapping>,
    ) -> Result<(), RepoError> {
        let mapping_row = mapping.map(mapping_row);
        let row = booking_row(&transition.to);
        let from = transition.from.as_str();
        let from_worker = transition.from_worker.map(|w| w.to_string());
        let gives_back = transition.from.holds_a_place() && !transition.to.status().holds_a_place();
        // The token is for check-in only: it goes when the visitor is checked in or the
        // booking cancelled.
        let token_spent = matches!(
            transition.to.status(),
            BookingStatus::CheckedIn | BookingStatus::Completed | BookingStatus::Cancelled
        );
        write_transaction!(self.db, |conn| -> Result<(), TxError> {
            let target = bookings::table
                .find(&row.id)
                .filter(bookings::status.eq(from));
            let changes = (
                bookings::status.eq(&row.status),
                bookings::worker_id.eq(&row.worker_id),
                bookings::checked_in_at.eq(row.checked_in_at),
                bookings::completed_at.eq(row.completed_at),
                bookings::cancelled_at.eq(row.cancelled_at),
            );
            let changed = match &from_worker {
                Some(worker) => {
                    diesel::update(target.filter(bookings::worker_id.eq(worker)))
                        .set(changes)
                        .execute(conn)
                        .await?
                }
                None => {
                    diesel::update(target.filter(bookings::worker_id.is_null()))
                        .set(changes)
                        .execute(conn)
                        .await?
                }
            };
            if changed == 0 {
                let exists: i64 = bookings::table
                    .find(&row.id)
                    .count()
                    .get_result(conn)
                    .await?;
                return Err(if exists == 0 {
                    RepoError::NotFound
                } else {
                    RepoError::Conflict
                }
                .into());
            }
            if let Some(row) = &mapping_row {
                diesel::insert_into(visit_mappings::table)
                    .values(row)
                    .execute(conn)
                    .await?;
            }
            if token_spent {
                diesel::delete(visit_tokens::table.find(&row.id))
                    .execute(conn)
                    .await?;
            }
            if gives_back {
                diesel::update(visit_slots::table.find((
                    &row.site_id,
                    &row.service_type_id,
                    row.starts_at,
                )))
                .set(visit_slots::taken.eq(visit_slots::taken - 1))
                .execute(conn)
                .await?;
            }
            Ok(())
        })
    }
}

#[async_trait]
impl VisitMappingRepository for SqlVisits {
    async fn visits_at(
        &self,
        site: SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<VisitMapping>, RepoError> {
        let site = site.to_string();
        // No visit lasts longer than the longest service, so only visits starting that long
        // before the window can reach into it: the index on (site, start) bounds the scan.
        let longest = chrono::TimeDelta::minutes(i64::from(MAX_DURATION_MINUTES));
        let (earliest, from, to) = (to_db_time(from - longest), to_db_time(from), to_db_time(to));
        let rows: Vec<MappingRow> = with_conn!(self.db, |conn| {
            visit_mappings::table
                .filter(visit_mappings::site_id.eq(&site))
                .filter(visit_mappings::visit_start.ge(earliest))
                .filter(visit_mappings::visit_start.le(to))
                .filter(visit_mappings::visit_end.ge(from))
                .select(MappingRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(mapping).collect()
    }

    async fn purge_created_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        let total = in_batches(batch, |limit| async move {
            // The keys of one batch, then their rows: one short transaction per batch.
            write_transaction!(self.db, |conn| -> Result<usize, TxError> {
                let keys: Vec<Vec<u8>> = visit_mappings::table
                    .select(visit_mappings::token_digest)
                    .filter(visit_mappings::created_at.lt(cutoff))
                    .limit(limit)
                    .load(conn)
                    .await?;
                Ok(diesel::delete(
                    visit_mappings::table.filter(visit_mappings::token_digest.eq_any(&keys)),
                )
                .execute(conn)
                .await?)
            })
        })
        .await?;
        if total > 0 {
            truncate_wal(&self.db).await;
        }
        Ok(total)
    }
}

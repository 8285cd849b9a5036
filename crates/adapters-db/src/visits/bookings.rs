//! `BookingRepository` on diesel: a booking's row, booking a place in a slot, reading bookings
//! and their sealed visit tokens, the workers' and visitors' listings, and the retention purge.
//! A booking's change of status is stored in `transitions`.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::{BookingId, ServiceTypeId, SiteId, UserId};
use wildid_domain::text::PlainText;
use wildid_domain::user::EncryptedField;
use wildid_domain::visits::{
    Booking, BookingRecord, BookingStatus, DESCRIPTION_MAX_CHARS, Slot, Transition, VisitMapping,
};
use wildid_ports::RepoError;
use wildid_ports::repo::{Booked, BookingRepository};

use super::{SqlVisits, small};
use crate::codec::{from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, repo_error};
use crate::pool::{
    count_rows, in_batches, truncate_wal, with_conn, with_write_conn, write_transaction,
};
use crate::schema::{bookings, visit_slots, visit_tokens};

/// The most bookings one listing returns, whatever is asked.
const MAX_LIMIT: u32 = 500;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings)]
pub(super) struct BookingRow {
    pub(super) id: String,
    pub(super) visitor_id: String,
    pub(super) site_id: String,
    pub(super) service_type_id: String,
    pub(super) starts_at: NaiveDateTime,
    pub(super) minutes: i32,
    pub(super) description: Option<String>,
    pub(super) status: String,
    pub(super) worker_id: Option<String>,
    pub(super) created_at: NaiveDateTime,
    pub(super) checked_in_at: Option<NaiveDateTime>,
    pub(super) completed_at: Option<NaiveDateTime>,
    pub(super) cancelled_at: Option<NaiveDateTime>,
}

pub(super) fn booking_row(booking: &Booking) -> BookingRow {
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

    async fn count_started_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        count_rows!(
            self.db,
            bookings::table.filter(bookings::starts_at.lt(cutoff))
        )
    }
}

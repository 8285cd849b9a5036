//! `ExposureReportRepository` and `NotificationRepository` on diesel: a report and the
//! notifications it causes are stored in one transaction, and a person has at most one
//! notification per report (a unique key), so a report sent twice never notifies twice.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use wildid_domain::Timestamp;
use wildid_domain::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use wildid_domain::text::PlainText;
use wildid_domain::visits::{ExposureReport, Notification};
use wildid_ports::RepoError;
use wildid_ports::repo::{ExposureReportRepository, NotificationRepository};

use crate::Database;
use crate::codec::{from_db_time, opt_from_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::pool::{
    SqliteConn, count_rows, in_batches, read_query, with_conn, with_write_conn, write_transaction,
};
use crate::schema::{exposure_reports, notifications};

/// The most rows one listing returns, whatever is asked.
const MAX_LIMIT: u32 = 500;
/// The longest stored text read back (what was stored was bounded when it was made).
const MAX_STORED_CHARS: usize = 10_000;

pub(crate) struct SqlExposures {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = exposure_reports)]
struct ReportRow {
    id: String,
    site_id: String,
    window_start: NaiveDateTime,
    window_end: NaiveDateTime,
    note: String,
    reported_by: String,
    created_at: NaiveDateTime,
}

/// A new notification (unread: `read_at` stays NULL).
#[derive(Insertable, Clone)]
#[diesel(table_name = notifications)]
struct NewNotification {
    id: String,
    user_id: String,
    report_id: String,
    message: String,
    created_at: NaiveDateTime,
}

/// Rows of notifications per multi-row `INSERT` on Postgres (5 parameters each, far below its
/// 65,535 limit).
const INSERT_CHUNK: usize = 1_000;

/// Stores a report's notifications inside its transaction, as each backend does it best.
trait InsertNotifications {
    async fn insert_notifications(
        &mut self,
        rows: &[NewNotification],
    ) -> Result<(), diesel::result::Error>;
}

impl InsertNotifications for AsyncPgConnection {
    /// One multi-row `INSERT` per [`INSERT_CHUNK`] rows: a report that tells a thousand people
    /// costs one round trip, not a thousand.
    async fn insert_notifications(
        &mut self,
        rows: &[NewNotification],
    ) -> Result<(), diesel::result::Error> {
        for chunk in rows.chunks(INSERT_CHUNK) {
            diesel::insert_into(notifications::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        Ok(())
    }
}

impl InsertNotifications for SqliteConn {
    /// Every row in one task on the connection's own thread, one prepared statement reused per
    /// row (SQLite runs in-process, so a row costs no round trip; going through the async
    /// wrapper row by row would cost a thread hand-off each).
    async fn insert_notifications(
        &mut self,
        rows: &[NewNotification],
    ) -> Result<(), diesel::result::Error> {
        let rows = rows.to_vec();
        self.spawn_blocking(move |conn| {
            for notice in &rows {
                diesel::RunQueryDsl::execute(
                    diesel::insert_into(notifications::table).values(notice),
                    conn,
                )?;
            }
            Ok(())
        })
        .await
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications)]
struct NotificationRow {
    id: String,
    user_id: String,
    report_id: String,
    message: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
}

fn text(value: &str, column: &str) -> Result<PlainText, RepoError> {
    PlainText::new(value, MAX_STORED_CHARS).map_err(|_| corrupt(column))
}

fn report(row: ReportRow) -> Result<ExposureReport, RepoError> {
    let bad = |column: &str| corrupt(&format!("exposure_reports.{column}"));
    Ok(ExposureReport {
        id: ExposureReportId::parse(&row.id).map_err(|_| bad("id"))?,
        site: SiteId::parse(&row.site_id).map_err(|_| bad("site_id"))?,
        window_start: from_db_time(row.window_start),
        window_end: from_db_time(row.window_end),
        note: text(&row.note, "exposure_reports.note")?,
        reported_by: UserId::parse(&row.reported_by).map_err(|_| bad("reported_by"))?,
        created_at: from_db_time(row.created_at),
    })
}

fn notification(row: NotificationRow) -> Result<Notification, RepoError> {
    let bad = |column: &str| corrupt(&format!("notifications.{column}"));
    Ok(Notification {
        id: NotificationId::parse(&row.id).map_err(|_| bad("id"))?,
        user: UserId::parse(&row.user_id).map_err(|_| bad("user_id"))?,
        report: ExposureReportId::parse(&row.report_id).map_err(|_| bad("report_id"))?,
        message: text(&row.message, "notifications.message")?,
        created_at: from_db_time(row.created_at),
        read_at: opt_from_db_time(row.read_at),
    })
}

#[async_trait]
impl ExposureReportRepository for SqlExposures {
    async fn record(&self, r: &ExposureReport, notices: &[Notification]) -> Result<(), RepoError> {
        let row = ReportRow {
            id: r.id.to_string(),
            site_id: r.site.to_string(),
            window_start: to_db_time(r.window_start),
            window_end: to_db_time(r.window_end),
            note: r.note.as_str().to_owned(),
            reported_by: r.reported_by.to_string(),
            created_at: to_db_time(r.created_at),
        };
        let rows: Vec<NewNotification> = notices
            .iter()
            .map(|n| NewNotification {
                id: n.id.to_string(),
                user_id: n.user.to_string(),
                report_id: n.report.to_string(),
                message: n.message.as_str().to_owned(),
                created_at: to_db_time(n.created_at),
            })
            .collect();
        write_transaction!(self.db, |conn| -> Result<(), TxError> {
            diesel::insert_into(exposure_reports::table)
                .values(&row)
                .execute(conn)
                .await?;
            InsertNotifications::insert_notifications(conn, &rows).await?;
            Ok(())
        })
    }

    async fn latest(&self, limit: u32) -> Result<Vec<ExposureReport>, RepoError> {
        let limit = i64::from(limit.clamp(1, MAX_LIMIT));
        let rows: Vec<ReportRow> = with_conn!(self.db, |conn| {
            exposure_reports::table
                .order((
                    exposure_reports::created_at.desc(),
                    exposure_reports::id.desc(),
                ))
                .limit(limit)
                .select(ReportRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(report).collect()
    }
}

#[async_trait]
impl NotificationRepository for SqlExposures {
    async fn for_user(&self, user: UserId, limit: u32) -> Result<Vec<Notification>, RepoError> {
        let user = user.to_string();
        let limit = i64::from(limit.clamp(1, MAX_LIMIT));
        let rows: Vec<NotificationRow> = with_conn!(self.db, |conn| {
            notifications::table
                .filter(notifications::user_id.eq(&user))
                .order((notifications::created_at.desc(), notifications::id.desc()))
                .limit(limit)
                .select(NotificationRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(notification).collect()
    }

    async fn unread(&self, user: UserId) -> Result<u32, RepoError> {
        let user = user.to_string();
        // Every page a signed-in person opens counts these (the navigation's badge).
        let count: i64 = read_query!(
            self.db,
            notifications::table
                .filter(notifications::user_id.eq(user.clone()))
                .filter(notifications::read_at.is_null())
                .count(),
            get_result
        )
        .map_err(repo_error)?;
        u32::try_from(count).map_err(|_| corrupt("notifications"))
    }

    async fn mark_read(
        &self,
        id: NotificationId,
        user: UserId,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        let (id, user, at) = (id.to_string(), user.to_string(), to_db_time(at));
        // Only an unread notification takes the time: one read already keeps its first.
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(
                notifications::table
                    .find(&id)
                    .filter(notifications::user_id.eq(&user))
                    .filter(notifications::read_at.is_null()),
            )
            .set(notifications::read_at.eq(Some(at)))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        if changed > 0 {
            return Ok(());
        }
        let theirs: i64 = with_conn!(self.db, |conn| {
            notifications::table
                .find(&id)
                .filter(notifications::user_id.eq(&user))
                .count()
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        found(usize::from(theirs > 0))
    }

    async fn purge_read_before(&self, cutoff: Timestamp, batch: u32) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        let total = in_batches(batch, |limit| async move {
            // The keys of one batch, then their rows: one short transaction per batch.
            write_transaction!(self.db, |conn| -> Result<usize, TxError> {
                let keys: Vec<String> = notifications::table
                    .select(notifications::id)
                    .filter(notifications::read_at.lt(cutoff))
                    .limit(limit)
                    .load(conn)
                    .await?;
                Ok(
                    diesel::delete(notifications::table.filter(notifications::id.eq_any(&keys)))
                        .execute(conn)
                        .await?,
                )
            })
        })
        .await?;
        Ok(total)
    }

    async fn count_read_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        count_rows!(
            self.db,
            notifications::table.filter(notifications::read_at.lt(cutoff))
        )
    }
}

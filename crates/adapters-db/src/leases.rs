//! `JobLeases` on diesel: one row per job; a lease is taken by one conditional `UPDATE`
//! (free, run out, or already the holder's; and due), so of concurrent processes at most one
//! sees its update count 1.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_ports::RepoError;
use wildid_ports::repo::{Job, JobLeases, JobState, LeaseRequest};

use crate::Database;
use crate::codec::{opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::repo_error;
use crate::pool::{with_conn, with_write_conn};
use crate::schema::job_leases;

pub(crate) struct SqlLeases {
    pub(crate) db: Arc<Database>,
}

/// Later than any instant a job finishes at: "due whenever it last ran".
fn end_of_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MAX)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = job_leases)]
struct Row {
    holder: Option<String>,
    leased_until: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
}

#[async_trait]
impl JobLeases for SqlLeases {
    async fn acquire(&self, request: LeaseRequest) -> Result<bool, RepoError> {
        let job = request.job.as_str();
        let now = to_db_time(request.now);
        let until = to_db_time(request.until);
        let due = request.finished_before.map_or_else(end_of_time, to_db_time);
        let taken = with_write_conn!(self.db, |conn| {
            diesel::insert_into(job_leases::table)
                .values(job_leases::job.eq(job))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(repo_error)?;
            diesel::update(
                job_leases::table
                    .filter(job_leases::job.eq(job))
                    .filter(
                        job_leases::leased_until
                            .is_null()
                            .or(job_leases::leased_until.le(now))
                            .or(job_leases::holder.eq(&request.holder)),
                    )
                    .filter(
                        job_leases::finished_at
                            .is_null()
                            .or(job_leases::finished_at.lt(due)),
                    ),
            )
            .set((
                job_leases::holder.eq(&request.holder),
                job_leases::leased_until.eq(until),
            ))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(taken == 1)
    }

    async fn release(
        &self,
        job: Job,
        holder: &str,
        finished_at: Option<Timestamp>,
    ) -> Result<(), RepoError> {
        let target = job_leases::table
            .filter(job_leases::job.eq(job.as_str()))
            .filter(job_leases::holder.eq(holder));
        let finished = opt_to_db_time(finished_at);
        with_write_conn!(self.db, |conn| {
            match finished {
                Some(at) => {
                    diesel::update(target)
                        .set((
                            job_leases::leased_until.eq(None::<NaiveDateTime>),
                            job_leases::finished_at.eq(at),
                        ))
                        .execute(conn)
                        .await
                }
                None => {
                    diesel::update(target)
                        .set(job_leases::leased_until.eq(None::<NaiveDateTime>))
                        .execute(conn)
                        .await
                }
            }
            .map_err(repo_error)?
        });
        Ok(())
    }

    async fn state(&self, job: Job) -> Result<Option<JobState>, RepoError> {
        let row: Option<Row> = with_conn!(self.db, |conn| {
            job_leases::table
                .find(job.as_str())
                .select(Row::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        Ok(row.map(|r| JobState {
            holder: r.holder,
            leased_until: opt_from_db_time(r.leased_until),
            finished_at: opt_from_db_time(r.finished_at),
        }))
    }
}

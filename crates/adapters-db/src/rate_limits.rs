//! `RateLimitStore` on diesel: one atomic upsert per hit.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Timestamp};
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp as Instant;
use wildid_domain::rate_limit::{RateDecision, RateLimit, WindowCounter};
use wildid_ports::RepoError;
use wildid_ports::repo::RateLimitStore;

use crate::Database;
use crate::codec::{from_db_time, to_db_time};
use crate::error::{corrupt, repo_error};
use crate::pool::{with_conn, with_write_conn};
use crate::schema::rate_limits;

pub(crate) struct SqlRateLimits {
    pub(crate) db: Arc<Database>,
}

#[async_trait]
impl RateLimitStore for SqlRateLimits {
    async fn hit(
        &self,
        key: &[u8; 32],
        limit: &RateLimit,
        now: Instant,
    ) -> Result<RateDecision, RepoError> {
        let key = key.to_vec();
        let at = to_db_time(now);
        let cutoff = to_db_time(limit.window_cutoff(now));
        // One statement: a new key starts a window; an expired window restarts; otherwise the
        // count goes up. Both backends execute an upsert atomically.
        let (count, started): (i32, NaiveDateTime) = with_write_conn!(self.db, |conn| {
            diesel::insert_into(rate_limits::table)
                .values((
                    rate_limits::key.eq(&key),
                    rate_limits::count.eq(1),
                    rate_limits::window_started_at.eq(at),
                ))
                .on_conflict(rate_limits::key)
                .do_update()
                .set((
                    rate_limits::count.eq(case_when::<_, _, Integer>(
                        rate_limits::window_started_at.le(cutoff),
                        1,
                    )
                    .otherwise(rate_limits::count + 1)),
                    rate_limits::window_started_at.eq(case_when::<_, _, Timestamp>(
                        rate_limits::window_started_at.le(cutoff),
                        at,
                    )
                    .otherwise(rate_limits::window_started_at)),
                ))
                .returning((rate_limits::count, rate_limits::window_started_at))
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        let count = u32::try_from(count).map_err(|_| corrupt("rate_limits.count"))?;
        Ok(limit.decide(count, from_db_time(started), now))
    }

    async fn peek(&self, key: &[u8; 32]) -> Result<Option<WindowCounter>, RepoError> {
        let key = key.to_vec();
        let row: Option<(i32, NaiveDateTime)> = with_conn!(self.db, |conn| {
            rate_limits::table
                .find(&key)
                .select((rate_limits::count, rate_limits::window_started_at))
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        row.map(|(count, started)| {
            Ok(WindowCounter {
                count: u32::try_from(count).map_err(|_| corrupt("rate_limits.count"))?,
                window_started_at: from_db_time(started),
            })
        })
        .transpose()
    }

    async fn purge_before(&self, cutoff: Instant) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(rate_limits::table.filter(rate_limits::window_started_at.lt(cutoff)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

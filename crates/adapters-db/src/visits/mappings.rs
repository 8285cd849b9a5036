//! `VisitMappingRepository` on diesel: the visit mappings (who was at a site when, for
//! exposure notifications), one row per check-in in `visit_mappings`, the visitor sealed under
//! the field key ring and the visit token only as a keyed digest. A mapping is written in the
//! transaction that checks its visitor in (`transitions`); here it is read and purged.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::SiteId;
use wildid_domain::user::EncryptedField;
use wildid_domain::visits::{MAX_DURATION_MINUTES, VisitMapping};
use wildid_ports::RepoError;
use wildid_ports::repo::VisitMappingRepository;

use super::SqlVisits;
use crate::codec::{array, from_db_time, to_db_time};
use crate::error::{TxError, corrupt, repo_error};
use crate::pool::{count_rows, in_batches, truncate_wal, with_conn, write_transaction};
use crate::schema::visit_mappings;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = visit_mappings)]
pub(super) struct MappingRow {
    token_digest: Vec<u8>,
    sealed_visitor: String,
    site_id: String,
    visit_start: NaiveDateTime,
    visit_end: NaiveDateTime,
    created_at: NaiveDateTime,
}

pub(super) fn mapping_row(m: &VisitMapping) -> MappingRow {
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

    async fn count_created_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        count_rows!(
            self.db,
            visit_mappings::table.filter(visit_mappings::created_at.lt(cutoff))
        )
    }
}

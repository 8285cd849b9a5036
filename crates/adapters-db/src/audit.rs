//! The hash-chained audit log on diesel.
//!
//! An append runs in one transaction whose first statement updates the single row of
//! `audit_chain_lock`. That write lock serialises appenders on both backends (a row lock on
//! Postgres, the database write lock on SQLite, taken before any read so no stale snapshot is
//! possible), so each append reads the true head and links to it. The primary key on `seq`
//! and the unique `hash` would reject a forked entry even if that serialisation were bypassed.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use wildid_domain::audit::{
    Actor, AuditAction, AuditDetails, AuditEntry, AuditRecord, ChainHash, ClientNetwork,
};
use wildid_domain::ids::RequestId;
use wildid_ports::RepoError;
use wildid_ports::repo::{AuditFilter, AuditLog, AuditRow};

use crate::Database;
use crate::codec::{array, from_db_time, to_db_time};
use crate::error::{TxError, repo_error};
use crate::pool::{with_conn, with_write_conn};
use crate::schema::{audit_chain_lock, audit_log};

const MAX_PAGE: u32 = 1000;
const APPEND_ATTEMPTS: usize = 5;

pub(crate) struct SqlAuditLog {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
struct Row {
    seq: i64,
    at: NaiveDateTime,
    actor: String,
    action: String,
    target: Option<String>,
    details: String,
    request_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    client_network: Option<String>,
}

impl Row {
    fn from_entry(e: &AuditEntry) -> Result<Self, RepoError> {
        let details: BTreeMap<&str, &str> = e.record.details.iter().collect();
        Ok(Self {
            seq: e.seq,
            at: to_db_time(e.record.at),
            actor: e.record.actor.to_storage(),
            action: e.record.action.as_str().to_owned(),
            target: e.record.target.clone(),
            details: serde_json::to_string(&details)
                .map_err(|e| RepoError::Other(e.to_string()))?,
            request_id: e.record.request_id.map(|id| id.to_string()),
            prev_hash: e.prev_hash.as_bytes().to_vec(),
            hash: e.hash.as_bytes().to_vec(),
            client_network: e.record.client.as_ref().map(|c| c.as_str().to_owned()),
        })
    }

    /// A row that no longer parses is reported, not skipped: the verifier counts it as altered.
    fn into_audit_row(self) -> AuditRow {
        let seq = self.seq;
        self.parse()
            .map_or(AuditRow::Unreadable { seq }, AuditRow::Entry)
    }

    fn parse(self) -> Option<AuditEntry> {
        let details: BTreeMap<String, String> = serde_json::from_str(&self.details).ok()?;
        let request_id = match self.request_id {
            Some(raw) => Some(RequestId::parse(&raw).ok()?),
            None => None,
        };
        let client = match self.client_network {
            Some(raw) => Some(ClientNetwork::parse(&raw).ok()?),
            None => None,
        };
        let record = AuditRecord {
            at: from_db_time(self.at),
            actor: Actor::from_storage(&self.actor).ok()?,
            action: AuditAction::new(&self.action).ok()?,
            target: self.target,
            details: AuditDetails::from_pairs(details),
            request_id,
            client,
        };
        Some(AuditEntry {
            seq: self.seq,
            record,
            prev_hash: ChainHash::from_bytes(self.prev_hash.try_into().ok()?),
            hash: ChainHash::from_bytes(self.hash.try_into().ok()?),
        })
    }
}

fn head_of(row: Option<(i64, Vec<u8>)>) -> Result<Option<(i64, ChainHash)>, RepoError> {
    row.map(|(seq, hash)| Ok((seq, ChainHash::from_bytes(array(hash, "audit_log.hash")?))))
        .transpose()
}

#[async_trait]
impl AuditLog for SqlAuditLog {
    async fn append(&self, record: AuditRecord) -> Result<AuditEntry, RepoError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let record = record.clone();
            let result: Result<AuditEntry, RepoError> = with_write_conn!(self.db, |conn| {
                conn.transaction(async |conn| -> Result<AuditEntry, TxError> {
                    diesel::update(audit_chain_lock::table.find(1))
                        .set(audit_chain_lock::appends.eq(audit_chain_lock::appends + 1))
                        .execute(conn)
                        .await?;
                    let head: Option<(i64, Vec<u8>)> = audit_log::table
                        .order(audit_log::seq.desc())
                        .select((audit_log::seq, audit_log::hash))
                        .first(conn)
                        .await
                        .optional()?;
                    let entry = AuditEntry::append_to(head_of(head)?, record);
                    let row = Row::from_entry(&entry)?;
                    diesel::insert_into(audit_log::table)
                        .values(&row)
                        .execute(conn)
                        .await?;
                    Ok(entry)
                })
                .await
                .map_err(RepoError::from)
            });
            match result {
                Err(RepoError::Duplicate | RepoError::Conflict | RepoError::Unavailable(_))
                    if attempt < APPEND_ATTEMPTS =>
                {
                    tracing::debug!(attempt, "audit append retried after a concurrent append");
                }
                other => return other,
            }
        }
    }

    async fn page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRow>, RepoError> {
        let limit = i64::from(limit.min(MAX_PAGE));
        let rows: Vec<Row> = with_conn!(self.db, |conn| {
            audit_log::table
                .filter(audit_log::seq.gt(after_seq))
                .order(audit_log::seq.asc())
                .limit(limit)
                .select(Row::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(rows.into_iter().map(Row::into_audit_row).collect())
    }

    async fn search(
        &self,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, RepoError> {
        let limit = i64::from(limit.min(MAX_PAGE));
        let actor = filter.actor.as_ref().map(Actor::to_storage);
        let action = filter.action.as_ref().map(|a| a.as_str().to_owned());
        let (from, until) = (filter.from.map(to_db_time), filter.until.map(to_db_time));
        let rows: Vec<Row> = with_conn!(self.db, |conn| {
            let mut query = audit_log::table.into_boxed();
            if let Some(before) = before_seq {
                query = query.filter(audit_log::seq.lt(before));
            }
            if let Some(actor) = &actor {
                query = query.filter(audit_log::actor.eq(actor));
            }
            if let Some(action) = &action {
                query = query.filter(audit_log::action.eq(action));
            }
            if let Some(from) = from {
                query = query.filter(audit_log::at.ge(from));
            }
            if let Some(until) = until {
                query = query.filter(audit_log::at.lt(until));
            }
            query
                .order(audit_log::seq.desc())
                .limit(limit)
                .select(Row::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(rows.into_iter().map(Row::into_audit_row).collect())
    }

    async fn head(&self) -> Result<Option<(i64, ChainHash)>, RepoError> {
        let head: Option<(i64, Vec<u8>)> = with_conn!(self.db, |conn| {
            audit_log::table
                .order(audit_log::seq.desc())
                .select((audit_log::seq, audit_log::hash))
                .first(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        head_of(head)
    }
}

//! `MailOutbox` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::MailId;
use wildid_domain::user::EncryptedField;
use wildid_ports::RepoError;
use wildid_ports::repo::{MailOutbox, QueuedMail};

use crate::Database;
use crate::codec::{from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::pool::{with_conn, with_write_conn, write_transaction};
use crate::schema::mail_outbox;

const MAX_CLAIM: u32 = 100;
const MAX_ERROR_CHARS: usize = 500;

pub(crate) struct SqlMailOutbox {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox)]
pub(crate) struct MailRow {
    id: String,
    payload: String,
    created_at: NaiveDateTime,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
    last_error: Option<String>,
}

impl From<&QueuedMail> for MailRow {
    fn from(m: &QueuedMail) -> Self {
        Self {
            id: m.id.to_string(),
            payload: m.payload.as_str().to_owned(),
            created_at: to_db_time(m.created_at),
            attempts: i32::try_from(m.attempts).unwrap_or(i32::MAX),
            next_attempt_at: to_db_time(m.next_attempt_at),
            sent_at: opt_to_db_time(m.sent_at),
            last_error: m.last_error.clone(),
        }
    }
}

impl TryFrom<MailRow> for QueuedMail {
    type Error = RepoError;
    fn try_from(r: MailRow) -> Result<Self, RepoError> {
        Ok(QueuedMail {
            id: MailId::parse(&r.id).map_err(|_| corrupt("mail_outbox.id"))?,
            payload: EncryptedField::new(r.payload),
            created_at: from_db_time(r.created_at),
            attempts: u32::try_from(r.attempts).map_err(|_| corrupt("mail_outbox.attempts"))?,
            next_attempt_at: from_db_time(r.next_attempt_at),
            sent_at: opt_from_db_time(r.sent_at),
            last_error: r.last_error,
        })
    }
}

#[async_trait]
impl MailOutbox for SqlMailOutbox {
    async fn enqueue(&self, mail: &QueuedMail) -> Result<(), RepoError> {
        let row = MailRow::from(mail);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(mail_outbox::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, RepoError> {
        let (now, lease) = (to_db_time(now), to_db_time(lease_until));
        let limit = i64::from(limit.min(MAX_CLAIM));
        // The worker asks every second and most rounds find nothing: a read says so without
        // the write lock, which SQLite has once for every process of the database.
        let due = mail_outbox::table
            .filter(mail_outbox::sent_at.is_null())
            .filter(mail_outbox::next_attempt_at.le(now));
        let any_due: bool = with_conn!(self.db, |conn| {
            diesel::select(diesel::dsl::exists(due))
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        if !any_due {
            return Ok(Vec::new());
        }
        // The UPDATE repeats "due and unsent": under concurrency, a row another claimer leased
        // in the meantime no longer matches when this UPDATE reaches it (Postgres re-checks the
        // condition after waiting for the row lock; SQLite serialises writers).
        let rows: Vec<MailRow> =
            write_transaction!(self.db, |conn| -> Result<Vec<MailRow>, TxError> {
                let due: Vec<String> = mail_outbox::table
                    .filter(mail_outbox::sent_at.is_null())
                    .filter(mail_outbox::next_attempt_at.le(now))
                    .order(mail_outbox::next_attempt_at.asc())
                    .limit(limit)
                    .select(mail_outbox::id)
                    .load(conn)
                    .await?;
                if due.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(diesel::update(
                    mail_outbox::table
                        .filter(mail_outbox::id.eq_any(&due))
                        .filter(mail_outbox::sent_at.is_null())
                        .filter(mail_outbox::next_attempt_at.le(now)),
                )
                .set(mail_outbox::next_attempt_at.eq(lease))
                .returning(MailRow::as_returning())
                .get_results(conn)
                .await?)
            })?;
        let mut mails = rows
            .into_iter()
            .map(QueuedMail::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        mails.sort_by_key(|m| m.created_at);
        Ok(mails)
    }

    async fn mark_sent(&self, id: MailId, at: Timestamp) -> Result<(), RepoError> {
        let (id, at) = (id.to_string(), to_db_time(at));
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(mail_outbox::table.find(&id))
                .set((
                    mail_outbox::sent_at.eq(at),
                    mail_outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn reschedule(
        &self,
        id: MailId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), RepoError> {
        let id = id.to_string();
        let next = to_db_time(next_attempt_at);
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        let error: String = error
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_ERROR_CHARS)
            .collect();
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(mail_outbox::table.find(&id))
                .set((
                    mail_outbox::attempts.eq(attempts),
                    mail_outbox::next_attempt_at.eq(next),
                    mail_outbox::last_error.eq(&error),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn pending(&self) -> Result<u64, RepoError> {
        let n: i64 = with_conn!(self.db, |conn| {
            mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .count()
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        u64::try_from(n).map_err(|_| corrupt("mail_outbox count"))
    }

    async fn oldest_pending(&self) -> Result<Option<Timestamp>, RepoError> {
        let oldest: Option<NaiveDateTime> = with_conn!(self.db, |conn| {
            mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .select(diesel::dsl::min(mail_outbox::created_at))
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(oldest.map(from_db_time))
    }

    async fn purge_sent_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let cutoff = to_db_time(cutoff);
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(mail_outbox::table.filter(mail_outbox::sent_at.lt(cutoff)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    use wildid_ports::clock::Clock;

    use super::*;
    use crate::pool::sqlite_without_busy_timeout;

    /// A round that finds nothing due takes no write lock: with another connection holding
    /// it (and no busy timeout), claiming answers "nothing" at once. Once a mail is due, the
    /// claim needs the lock, fails while it is held, and claims the mail when it is free.
    #[tokio::test]
    async fn a_round_with_nothing_due_only_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        let db = sqlite_without_busy_timeout(&path).await;
        let outbox = db.mail_outbox();
        let now = wildid_ports::builtin::SystemClock.now();
        let lease = now + chrono::Duration::minutes(5);
        let mut holder = SqliteConnection::establish(path.to_str().unwrap()).unwrap();

        holder.batch_execute("BEGIN IMMEDIATE").unwrap();
        assert!(outbox.claim_due(now, lease, 10).await.unwrap().is_empty());
        holder.batch_execute("ROLLBACK").unwrap();

        outbox
            .enqueue(&QueuedMail {
                id: MailId::from_random([1; 16]),
                payload: EncryptedField::new("ciphertext".into()),
                created_at: now,
                attempts: 0,
                next_attempt_at: now,
                sent_at: None,
                last_error: None,
            })
            .await
            .unwrap();
        holder.batch_execute("BEGIN IMMEDIATE").unwrap();
        assert!(
            outbox.claim_due(now, lease, 10).await.is_err(),
            "a due mail is claimed under the write lock"
        );
        holder.batch_execute("ROLLBACK").unwrap();
        assert_eq!(outbox.claim_due(now, lease, 10).await.unwrap().len(), 1);
    }
}

//! `CaptchaRepository` on diesel: challenges in a table, so every server process sees them.
//! Attempts change by compare-and-swap and a challenge is taken by deleting it, so of two
//! concurrent answers at most one can pass.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::captcha::{AnswerHash, CaptchaChallenge, CaptchaKind};
use wildid_domain::ids::CaptchaId;
use wildid_domain::session::SessionKey;
use wildid_ports::RepoError;
use wildid_ports::repo::CaptchaRepository;

use crate::Database;
use crate::codec::{array, from_db_time, to_db_time};
use crate::error::{corrupt, repo_error};
use crate::pool::{with_conn, with_write_conn};
use crate::schema::captchas;

pub(crate) struct SqlCaptchas {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = captchas)]
struct Row {
    id: String,
    kind: String,
    answer_hash: Vec<u8>,
    session_key: Option<Vec<u8>>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    attempts: i32,
}

fn attempts(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<&CaptchaChallenge> for Row {
    fn from(c: &CaptchaChallenge) -> Self {
        Self {
            id: c.id.to_string(),
            kind: c.kind.as_str().to_owned(),
            answer_hash: c.answer_hash.as_bytes().to_vec(),
            session_key: c.session_key.map(|k| k.as_bytes().to_vec()),
            created_at: to_db_time(c.created_at),
            expires_at: to_db_time(c.expires_at),
            attempts: attempts(c.attempts),
        }
    }
}

impl TryFrom<Row> for CaptchaChallenge {
    type Error = RepoError;
    fn try_from(r: Row) -> Result<Self, RepoError> {
        Ok(CaptchaChallenge {
            id: CaptchaId::parse(&r.id).map_err(|_| corrupt("captchas.id"))?,
            kind: CaptchaKind::from_name(&r.kind).ok_or_else(|| corrupt("captchas.kind"))?,
            answer_hash: AnswerHash::from_bytes(array(r.answer_hash, "captchas.answer_hash")?),
            session_key: r
                .session_key
                .map(|k| array(k, "captchas.session_key").map(SessionKey::from_bytes))
                .transpose()?,
            created_at: from_db_time(r.created_at),
            expires_at: from_db_time(r.expires_at),
            attempts: u32::try_from(r.attempts).map_err(|_| corrupt("captchas.attempts"))?,
        })
    }
}

#[async_trait]
impl CaptchaRepository for SqlCaptchas {
    async fn insert(&self, challenge: &CaptchaChallenge) -> Result<(), RepoError> {
        let row = Row::from(challenge);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(captchas::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn get(&self, id: CaptchaId) -> Result<Option<CaptchaChallenge>, RepoError> {
        let id = id.to_string();
        let row: Option<Row> = with_conn!(self.db, |conn| {
            captchas::table
                .find(&id)
                .select(Row::as_select())
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        row.map(CaptchaChallenge::try_from).transpose()
    }

    async fn swap_attempts(
        &self,
        id: CaptchaId,
        expected: u32,
        new: u32,
    ) -> Result<bool, RepoError> {
        let id = id.to_string();
        let (expected, new) = (attempts(expected), attempts(new));
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(
                captchas::table
                    .filter(captchas::id.eq(&id))
                    .filter(captchas::attempts.eq(expected)),
            )
            .set(captchas::attempts.eq(new))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(changed == 1)
    }

    async fn take(&self, id: CaptchaId) -> Result<bool, RepoError> {
        let id = id.to_string();
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(captchas::table.find(&id))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(deleted == 1)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        let now = to_db_time(now);
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(captchas::table.filter(captchas::expires_at.le(now)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

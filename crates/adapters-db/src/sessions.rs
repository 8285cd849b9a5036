//! `SessionRepository` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionKey, SessionRecord};
use wildid_domain::trust::TrustState;
use wildid_ports::RepoError;
use wildid_ports::repo::SessionRepository;

use crate::Database;
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::pool::{read_query, with_conn, with_write_conn};
use crate::schema::sessions;

pub(crate) struct SqlSessions {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct Row {
    key: Vec<u8>,
    user_id: Option<String>,
    fingerprint: Vec<u8>,
    csrf: Vec<u8>,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    authenticated_at: Option<NaiveDateTime>,
    request_count: i32,
    window_started_at: Option<NaiveDateTime>,
    rate_limited: bool,
    is_trusted: bool,
    captcha_passed_at: Option<NaiveDateTime>,
    coarse_ip: Option<String>,
    device: Option<String>,
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<&Session> for Row {
    fn from(s: &Session) -> Self {
        let trust = s.trust();
        Self {
            key: s.key().as_bytes().to_vec(),
            user_id: s.user_id().map(|id| id.to_string()),
            fingerprint: s.fingerprint().as_bytes().to_vec(),
            csrf: s.csrf().as_bytes().to_vec(),
            created_at: to_db_time(s.created_at()),
            last_seen_at: to_db_time(s.last_seen_at()),
            authenticated_at: opt_to_db_time(s.authenticated_at()),
            request_count: count(trust.request_count),
            window_started_at: opt_to_db_time(trust.window_started_at),
            rate_limited: trust.rate_limited,
            is_trusted: trust.is_trusted,
            captcha_passed_at: opt_to_db_time(trust.captcha_passed_at),
            coarse_ip: s.coarse_ip().map(str::to_owned),
            device: s.device().map(str::to_owned),
        }
    }
}

impl TryFrom<Row> for Session {
    type Error = RepoError;
    fn try_from(r: Row) -> Result<Self, RepoError> {
        let record = SessionRecord {
            key: SessionKey::from_bytes(array(r.key, "sessions.key")?),
            user_id: r
                .user_id
                .map(|id| UserId::parse(&id).map_err(|_| corrupt("sessions.user_id")))
                .transpose()?,
            fingerprint: Fingerprint::from_bytes(array(r.fingerprint, "sessions.fingerprint")?),
            csrf: CsrfToken::from_bytes(array(r.csrf, "sessions.csrf")?),
            created_at: from_db_time(r.created_at),
            last_seen_at: from_db_time(r.last_seen_at),
            authenticated_at: opt_from_db_time(r.authenticated_at),
            trust: TrustState {
                request_count: u32::try_from(r.request_count)
                    .map_err(|_| corrupt("sessions.request_count"))?,
                window_started_at: opt_from_db_time(r.window_started_at),
                rate_limited: r.rate_limited,
                is_trusted: r.is_trusted,
                captcha_passed_at: opt_from_db_time(r.captcha_passed_at),
            },
            coarse_ip: r.coarse_ip,
            device: r.device,
        };
        Session::restore(record).map_err(|e| corrupt(&format!("sessions row: {e}")))
    }
}

#[async_trait]
impl SessionRepository for SqlSessions {
    async fn insert(&self, session: &Session) -> Result<(), RepoError> {
        let row = Row::from(session);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(sessions::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn get(&self, key: &SessionKey) -> Result<Option<Session>, RepoError> {
        let row: Option<Row> = read_query!(
            self.db,
            sessions::table
                .find(key.as_bytes().to_vec())
                .select(Row::as_select()),
            get_result
        )
        .optional()
        .map_err(repo_error)?;
        row.map(Session::try_from).transpose()
    }

    async fn touch(&self, key: &SessionKey, last_seen_at: Timestamp) -> Result<(), RepoError> {
        let key = key.as_bytes().to_vec();
        let at = to_db_time(last_seen_at);
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(sessions::table.find(&key))
                .set(sessions::last_seen_at.eq(at))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn replace(&self, old: &SessionKey, new: &Session) -> Result<(), RepoError> {
        let old = old.as_bytes().to_vec();
        let row = Row::from(new);
        with_write_conn!(self.db, |conn| {
            conn.transaction(async |conn| -> Result<(), TxError> {
                diesel::delete(sessions::table.find(&old))
                    .execute(conn)
                    .await?;
                diesel::insert_into(sessions::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(RepoError::from)?;
        });
        Ok(())
    }

    async fn swap_trust(
        &self,
        key: &SessionKey,
        expected: &TrustState,
        new: &TrustState,
    ) -> Result<bool, RepoError> {
        let key = key.as_bytes().to_vec();
        let (expected, new) = (*expected, *new);
        let changed = with_write_conn!(self.db, |conn| {
            let mut query = diesel::update(sessions::table)
                .filter(sessions::key.eq(&key))
                .filter(sessions::request_count.eq(count(expected.request_count)))
                .filter(sessions::rate_limited.eq(expected.rate_limited))
                .filter(sessions::is_trusted.eq(expected.is_trusted))
                .into_boxed();
            query = match expected.window_started_at {
                Some(t) => query.filter(sessions::window_started_at.eq(to_db_time(t))),
                None => query.filter(sessions::window_started_at.is_null()),
            };
            query = match expected.captcha_passed_at {
                Some(t) => query.filter(sessions::captcha_passed_at.eq(to_db_time(t))),
                None => query.filter(sessions::captcha_passed_at.is_null()),
            };
            query
                .set((
                    sessions::request_count.eq(count(new.request_count)),
                    sessions::window_started_at.eq(opt_to_db_time(new.window_started_at)),
                    sessions::rate_limited.eq(new.rate_limited),
                    sessions::is_trusted.eq(new.is_trusted),
                    sessions::captcha_passed_at.eq(opt_to_db_time(new.captcha_passed_at)),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        if changed == 1 {
            return Ok(true);
        }
        match self
            .get(&SessionKey::from_bytes(array(key, "session key")?))
            .await?
        {
            Some(_) => Ok(false),
            None => Err(RepoError::NotFound),
        }
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), RepoError> {
        let key = key.as_bytes().to_vec();
        with_write_conn!(self.db, |conn| {
            diesel::delete(sessions::table.find(&key))
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn delete_for_user(
        &self,
        user: UserId,
        keep: Option<SessionKey>,
    ) -> Result<u64, RepoError> {
        let user = user.to_string();
        let keep = keep.map(|k| k.as_bytes().to_vec()).unwrap_or_default();
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(
                sessions::table
                    .filter(sessions::user_id.eq(&user))
                    .filter(sessions::key.ne(&keep)),
            )
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<Session>, RepoError> {
        let user = user.to_string();
        let rows: Vec<Row> = with_conn!(self.db, |conn| {
            sessions::table
                .filter(sessions::user_id.eq(&user))
                .order(sessions::last_seen_at.desc())
                .select(Row::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(Session::try_from).collect()
    }

    async fn purge_expired(
        &self,
        idle_before: Timestamp,
        anonymous_before: Timestamp,
        signed_in_before: Timestamp,
    ) -> Result<u64, RepoError> {
        let (idle, anonymous, signed_in) = (
            to_db_time(idle_before),
            to_db_time(anonymous_before),
            to_db_time(signed_in_before),
        );
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(
                sessions::table.filter(
                    sessions::last_seen_at
                        .lt(idle)
                        .or(sessions::user_id
                            .is_null()
                            .and(sessions::created_at.lt(anonymous)))
                        .or(sessions::user_id
                            .is_not_null()
                            .and(sessions::created_at.lt(signed_in))),
                ),
            )
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

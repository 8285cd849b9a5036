//! `RecoveryCodeRepository` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::totp::RecoveryCodeHash;
use wildid_ports::RepoError;
use wildid_ports::repo::{RecoveryCodeRepository, StoredRecoveryCode};

use crate::Database;
use crate::codec::{array, opt_from_db_time, to_db_time};
use crate::error::{TxError, corrupt, repo_error};
use crate::pool::{with_conn, with_write_conn, write_transaction};
use crate::schema::recovery_codes;

pub(crate) struct SqlRecoveryCodes {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_codes)]
struct Row {
    user_id: String,
    idx: i32,
    salt: Vec<u8>,
    digest: Vec<u8>,
    used_at: Option<NaiveDateTime>,
}

#[async_trait]
impl RecoveryCodeRepository for SqlRecoveryCodes {
    async fn replace_all(&self, user: UserId, codes: &[RecoveryCodeHash]) -> Result<(), RepoError> {
        let user = user.to_string();
        let rows: Vec<Row> = codes
            .iter()
            .zip(0..)
            .map(|(c, idx)| Row {
                user_id: user.clone(),
                idx,
                salt: c.salt.to_vec(),
                digest: c.digest.to_vec(),
                used_at: None,
            })
            .collect();
        write_transaction!(self.db, |conn| -> Result<(), TxError> {
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(&user)))
                .execute(conn)
                .await?;
            for row in &rows {
                diesel::insert_into(recovery_codes::table)
                    .values(row)
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn unused(&self, user: UserId) -> Result<Vec<StoredRecoveryCode>, RepoError> {
        let user = user.to_string();
        let rows: Vec<Row> = with_conn!(self.db, |conn| {
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(&user))
                .filter(recovery_codes::used_at.is_null())
                .order(recovery_codes::idx.asc())
                .select(Row::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter()
            .map(|r| {
                Ok(StoredRecoveryCode {
                    index: u8::try_from(r.idx).map_err(|_| corrupt("recovery_codes.idx"))?,
                    hash: RecoveryCodeHash {
                        salt: array(r.salt, "recovery_codes.salt")?,
                        digest: array(r.digest, "recovery_codes.digest")?,
                    },
                    used_at: opt_from_db_time(r.used_at),
                })
            })
            .collect()
    }

    async fn use_code(&self, user: UserId, index: u8, at: Timestamp) -> Result<bool, RepoError> {
        let (user, at) = (user.to_string(), to_db_time(at));
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(
                recovery_codes::table
                    .filter(recovery_codes::user_id.eq(&user))
                    .filter(recovery_codes::idx.eq(i32::from(index)))
                    .filter(recovery_codes::used_at.is_null()),
            )
            .set(recovery_codes::used_at.eq(at))
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(changed == 1)
    }

    async fn delete_all(&self, user: UserId) -> Result<(), RepoError> {
        let user = user.to_string();
        with_write_conn!(self.db, |conn| {
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(&user)))
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }
}

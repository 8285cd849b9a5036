//! Deleting accounts: one, with everything that belongs to it, and the unconfirmed ones past
//! their retention. Rows of other aggregates go with an account through `ON DELETE CASCADE`
//! foreign keys, in the same statement.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::role::Role;
use wildid_ports::RepoError;

use crate::Database;
use crate::codec::to_db_time;
use crate::error::{TxError, repo_error};
use crate::pool::{with_conn, with_write_conn, write_transaction};
use crate::schema::{login_tokens, users};

/// `UserRepository::purge_unverified`: the accounts, and the unused links sent to their
/// addresses (found by digest, as they name no account), in one transaction.
pub(crate) async fn purge_unverified(
    db: &Arc<Database>,
    before: Timestamp,
) -> Result<u64, RepoError> {
    let before = to_db_time(before);
    let unconfirmed = users::email_verified_at
        .is_null()
        .and(users::password_hash.is_not_null())
        .and(users::role.eq(Role::Visitor.as_str()))
        .and(users::created_at.lt(before));
    // Usually there are none: a read says so without taking SQLite's one write lock every
    // round on every server.
    let due: i64 = with_conn!(db, |conn| {
        users::table
            .filter(unconfirmed)
            .count()
            .get_result(conn)
            .await
            .map_err(repo_error)?
    });
    if due == 0 {
        return Ok(0);
    }
    let deleted = write_transaction!(db, |conn| -> Result<usize, TxError> {
        diesel::delete(
            login_tokens::table.filter(
                login_tokens::email_lookup
                    .eq_any(users::table.filter(unconfirmed).select(users::email_lookup)),
            ),
        )
        .execute(conn)
        .await?;
        // Rows of other aggregates go with each account through ON DELETE CASCADE.
        Ok(diesel::delete(users::table.filter(unconfirmed))
            .execute(conn)
            .await?)
    })?;
    if deleted > 0 {
        crate::pool::truncate_wal(db).await;
    }
    Ok(deleted as u64)
}

/// `UserRepository::delete`.
pub(crate) async fn delete(db: &Arc<Database>, id: UserId) -> Result<(), RepoError> {
    let key = id.to_string();
    let deleted = with_write_conn!(db, |conn| {
        conn.transaction(async |conn| -> Result<usize, TxError> {
            // Rows of other aggregates that belong to the user go with it through
            // ON DELETE CASCADE foreign keys, inside this transaction.
            Ok(diesel::delete(users::table.find(&key))
                .execute(conn)
                .await?)
        })
        .await
        .map_err(RepoError::from)?
    });
    if deleted == 0 {
        Err(RepoError::NotFound)
    } else {
        crate::pool::truncate_wal(db).await;
        Ok(())
    }
}

//! The stored digests of the address index (accounts and the links that carry an address):
//! read in key order and moved by compare-and-set when the email pepper is rotated.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::ids::UserId;
use wildid_domain::token::TokenHash;
use wildid_domain::user::{EmailLookup, EncryptedField};
use wildid_ports::RepoError;
use wildid_ports::repo::StoredAddress;

use crate::Database;
use crate::codec::array;
use crate::error::{TxError, corrupt, repo_error};
use crate::pool::{with_conn, with_write_conn, write_transaction};
use crate::schema::{login_tokens, users};

/// Accounts' stored addresses in id order after `after` (`UserRepository::addresses`).
pub(crate) async fn accounts(
    db: &Arc<Database>,
    after: Option<UserId>,
    limit: u32,
) -> Result<Vec<StoredAddress<UserId>>, RepoError> {
    let after = after.map(|id| id.to_string());
    let rows: Vec<(String, Vec<u8>, String)> = with_conn!(db, |conn| {
        let mut query = users::table
            .order(users::id.asc())
            .limit(i64::from(limit))
            .select((users::id, users::email_lookup, users::email_encrypted))
            .into_boxed();
        if let Some(after) = &after {
            query = query.filter(users::id.gt(after.clone()));
        }
        query.load(conn).await.map_err(repo_error)?
    });
    rows.into_iter()
        .map(|(id, lookup, encrypted)| {
            Ok(StoredAddress {
                key: UserId::parse(&id).map_err(|_| corrupt("users.id"))?,
                lookup: EmailLookup::from_bytes(array(lookup, "users.email_lookup")?),
                encrypted: EncryptedField::new(encrypted),
            })
        })
        .collect()
}

/// Moves an account and its unused links from `old` to `new` (`UserRepository::rekey_address`).
pub(crate) async fn rekey_account(
    db: &Arc<Database>,
    id: UserId,
    old: &EmailLookup,
    new: &EmailLookup,
) -> Result<bool, RepoError> {
    let (key, old, new) = (
        id.to_string(),
        old.as_bytes().to_vec(),
        new.as_bytes().to_vec(),
    );
    write_transaction!(db, |conn| -> Result<bool, TxError> {
        // A unique violation (another account holds `new`) rolls both back.
        let moved = diesel::update(users::table.find(&key).filter(users::email_lookup.eq(&old)))
            .set(users::email_lookup.eq(&new))
            .execute(conn)
            .await?;
        if moved == 0 {
            return Ok(false);
        }
        // Only the account's own links: a link to the old digest that is not an
        // address-change link of another account.
        diesel::update(
            login_tokens::table
                .filter(login_tokens::email_lookup.eq(&old))
                .filter(login_tokens::used_at.is_null())
                .filter(
                    login_tokens::user_id
                        .is_null()
                        .or(login_tokens::user_id.eq(&key)),
                ),
        )
        .set(login_tokens::email_lookup.eq(&new))
        .execute(conn)
        .await?;
        Ok(true)
    })
}

/// Unused links that carry their address, in digest order after `after`
/// (`LoginTokenRepository::addresses`).
pub(crate) async fn links(
    db: &Arc<Database>,
    after: Option<TokenHash>,
    limit: u32,
) -> Result<Vec<StoredAddress<TokenHash>>, RepoError> {
    let after = after.map(|h| h.as_bytes().to_vec());
    let rows: Vec<(Vec<u8>, Vec<u8>, Option<String>)> = with_conn!(db, |conn| {
        let mut query = login_tokens::table
            .filter(login_tokens::used_at.is_null())
            .filter(login_tokens::email_encrypted.is_not_null())
            .order(login_tokens::hash.asc())
            .limit(i64::from(limit))
            .select((
                login_tokens::hash,
                login_tokens::email_lookup,
                login_tokens::email_encrypted,
            ))
            .into_boxed();
        if let Some(after) = &after {
            query = query.filter(login_tokens::hash.gt(after.clone()));
        }
        query.load(conn).await.map_err(repo_error)?
    });
    rows.into_iter()
        .map(|(hash, lookup, encrypted)| {
            Ok(StoredAddress {
                key: TokenHash::from_bytes(array(hash, "login_tokens.hash")?),
                lookup: EmailLookup::from_bytes(array(lookup, "login_tokens.email_lookup")?),
                encrypted: EncryptedField::new(
                    encrypted.ok_or_else(|| corrupt("login_tokens.email_encrypted"))?,
                ),
            })
        })
        .collect()
}

/// Moves an unused link from `old` to `new` (`LoginTokenRepository::rekey_address`).
pub(crate) async fn rekey_link(
    db: &Arc<Database>,
    hash: &TokenHash,
    old: &EmailLookup,
    new: &EmailLookup,
) -> Result<bool, RepoError> {
    let (key, old, new) = (
        hash.as_bytes().to_vec(),
        old.as_bytes().to_vec(),
        new.as_bytes().to_vec(),
    );
    let changed = with_write_conn!(db, |conn| {
        diesel::update(
            login_tokens::table
                .find(&key)
                .filter(login_tokens::email_lookup.eq(&old))
                .filter(login_tokens::used_at.is_null()),
        )
        .set(login_tokens::email_lookup.eq(&new))
        .execute(conn)
        .await
        .map_err(repo_error)?
    });
    Ok(changed == 1)
}

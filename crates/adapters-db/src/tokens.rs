//! `LoginTokenRepository` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::token::{LoginToken, TokenHash, TokenPurpose};
use wildid_domain::user::{EmailLookup, EncryptedField};

use wildid_ports::RepoError;
use wildid_ports::repo::{LoginTokenRepository, QueuedMail, StoredAddress};

use crate::Database;
use crate::address_index;
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, repo_error};
use crate::mail_outbox::MailRow;
use crate::pool::{with_conn, with_write_conn};
use crate::schema::{login_tokens, mail_outbox};

pub(crate) struct SqlTokens {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = login_tokens)]
pub(crate) struct TokenRow {
    hash: Vec<u8>,
    purpose: String,
    pub(crate) email_lookup: Vec<u8>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    pub(crate) email_encrypted: Option<String>,
    user_id: Option<String>,
}

impl From<&LoginToken> for TokenRow {
    fn from(t: &LoginToken) -> Self {
        Self {
            hash: t.hash.as_bytes().to_vec(),
            purpose: t.purpose.as_str().to_owned(),
            email_lookup: t.email_lookup.as_bytes().to_vec(),
            created_at: to_db_time(t.created_at),
            expires_at: to_db_time(t.expires_at),
            used_at: opt_to_db_time(t.used_at),
            email_encrypted: t.email_encrypted.as_ref().map(|e| e.as_str().to_owned()),
            user_id: t.user_id.map(|id| id.to_string()),
        }
    }
}

impl TryFrom<TokenRow> for LoginToken {
    type Error = RepoError;
    fn try_from(r: TokenRow) -> Result<Self, RepoError> {
        Ok(LoginToken {
            hash: TokenHash::from_bytes(array(r.hash, "login_tokens.hash")?),
            purpose: TokenPurpose::from_name(&r.purpose)
                .ok_or_else(|| corrupt("login_tokens.purpose"))?,
            email_lookup: EmailLookup::from_bytes(array(
                r.email_lookup,
                "login_tokens.email_lookup",
            )?),
            created_at: from_db_time(r.created_at),
            expires_at: from_db_time(r.expires_at),
            used_at: opt_from_db_time(r.used_at),
            email_encrypted: r.email_encrypted.map(EncryptedField::new),
            user_id: r
                .user_id
                .map(|id| UserId::parse(&id).map_err(|_| corrupt("login_tokens.user_id")))
                .transpose()?,
        })
    }
}

impl SqlTokens {
    /// Stores `token` and `mails` in one transaction; with `void_earlier`, first marks used
    /// the earlier unused tokens of its address and purpose, and returns how many.
    async fn store(
        &self,
        token: &LoginToken,
        mails: &[QueuedMail],
        void_earlier: bool,
    ) -> Result<u64, RepoError> {
        let token = TokenRow::from(token);
        let mails: Vec<MailRow> = mails.iter().map(MailRow::from).collect();
        let voided = with_write_conn!(self.db, |conn| {
            conn.transaction(async |conn| -> Result<usize, TxError> {
                let voided = if void_earlier {
                    diesel::update(
                        login_tokens::table
                            .filter(login_tokens::email_lookup.eq(&token.email_lookup))
                            .filter(login_tokens::purpose.eq(&token.purpose))
                            .filter(login_tokens::used_at.is_null()),
                    )
                    .set(login_tokens::used_at.eq(token.created_at))
                    .execute(conn)
                    .await?
                } else {
                    0
                };
                diesel::insert_into(login_tokens::table)
                    .values(&token)
                    .execute(conn)
                    .await?;
                for mail in &mails {
                    diesel::insert_into(mail_outbox::table)
                        .values(mail)
                        .execute(conn)
                        .await?;
                }
                Ok(voided)
            })
            .await
            .map_err(RepoError::from)?
        });
        Ok(voided as u64)
    }
}

#[async_trait]
impl LoginTokenRepository for SqlTokens {
    async fn insert(&self, token: &LoginToken) -> Result<(), RepoError> {
        let row = TokenRow::from(token);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(login_tokens::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn insert_with_mail(
        &self,
        token: &LoginToken,
        mails: &[QueuedMail],
    ) -> Result<(), RepoError> {
        self.store(token, mails, false).await.map(|_| ())
    }

    async fn supersede_with_mail(
        &self,
        token: &LoginToken,
        mails: &[QueuedMail],
    ) -> Result<u64, RepoError> {
        self.store(token, mails, true).await
    }

    async fn consume(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<LoginToken>, RepoError> {
        let key = hash.as_bytes().to_vec();
        let at = to_db_time(now);
        // One conditional UPDATE: of concurrent consumers, the database lets exactly one match.
        let row: Option<TokenRow> = with_write_conn!(self.db, |conn| {
            diesel::update(
                login_tokens::table
                    .filter(login_tokens::hash.eq(&key))
                    .filter(login_tokens::purpose.eq(purpose.as_str()))
                    .filter(login_tokens::used_at.is_null())
                    .filter(login_tokens::expires_at.gt(at)),
            )
            .set(login_tokens::used_at.eq(at))
            .returning(TokenRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(repo_error)?
        });
        row.map(LoginToken::try_from).transpose()
    }

    async fn get(&self, hash: &TokenHash) -> Result<Option<LoginToken>, RepoError> {
        let key = hash.as_bytes().to_vec();
        let row: Option<TokenRow> = with_conn!(self.db, |conn| {
            login_tokens::table
                .find(&key)
                .select(TokenRow::as_select())
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        row.map(LoginToken::try_from).transpose()
    }

    async fn addresses(
        &self,
        after: Option<TokenHash>,
        limit: u32,
    ) -> Result<Vec<StoredAddress<TokenHash>>, RepoError> {
        address_index::links(&self.db, after, limit).await
    }

    async fn rekey_address(
        &self,
        hash: &TokenHash,
        old: &EmailLookup,
        new: &EmailLookup,
    ) -> Result<bool, RepoError> {
        address_index::rekey_link(&self.db, hash, old, new).await
    }

    async fn purge_spent(&self, before: Timestamp) -> Result<u64, RepoError> {
        let before = to_db_time(before);
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(
                login_tokens::table.filter(
                    login_tokens::expires_at
                        .lt(before)
                        .or(login_tokens::used_at.lt(before)),
                ),
            )
            .execute(conn)
            .await
            .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

//! `UserRepository` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use wildid_domain::Timestamp;
use wildid_domain::ids::UserId;
use wildid_domain::lockout::LockoutState;
use wildid_domain::role::Role;
use wildid_domain::text::PlainText;
use wildid_domain::token::{LoginToken, TokenHash, TokenPurpose};
use wildid_domain::user::{
    DISPLAY_NAME_MAX_CHARS, EmailLookup, EncryptedField, PasswordHash, User, UserRecord,
};
use wildid_ports::RepoError;
use wildid_ports::repo::{Page, QueuedMail, StoredAddress, UserRepository};

use crate::Database;
use crate::account_removal;
use crate::address_index;
use crate::codec::{array, from_db_time, opt_from_db_time, opt_to_db_time, to_db_time};
use crate::error::{TxError, corrupt, found, repo_error};
use crate::mail_outbox::MailRow;
use crate::pool::{read_query, with_conn, with_write_conn, write_transaction};
use crate::schema::{login_tokens, mail_outbox, users};
use crate::tokens::TokenRow;

const MAX_PAGE: u32 = 500;

pub(crate) struct SqlUsers {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserRow {
    id: String,
    email_lookup: Vec<u8>,
    email_encrypted: String,
    role: String,
    active: bool,
    created_at: NaiveDateTime,
    email_verified_at: Option<NaiveDateTime>,
    privacy_accepted_at: Option<NaiveDateTime>,
    password_hash: Option<String>,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    failed_attempts: i32,
    locked_until: Option<NaiveDateTime>,
    last_login_at: Option<NaiveDateTime>,
    display_name: Option<String>,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        let lockout = u.lockout();
        Self {
            id: u.id().to_string(),
            email_lookup: u.email_lookup().as_bytes().to_vec(),
            email_encrypted: u.email_encrypted().as_str().to_owned(),
            role: u.role().as_str().to_owned(),
            active: u.is_active(),
            created_at: to_db_time(u.created_at()),
            email_verified_at: opt_to_db_time(u.email_verified_at()),
            privacy_accepted_at: opt_to_db_time(u.privacy_accepted_at()),
            password_hash: u.password_hash().map(|h| h.as_str().to_owned()),
            totp_secret: u.totp_secret().map(|s| s.as_str().to_owned()),
            totp_last_step: u.totp_last_step(),
            failed_attempts: i32::try_from(lockout.failed_attempts).unwrap_or(i32::MAX),
            locked_until: opt_to_db_time(lockout.locked_until),
            last_login_at: opt_to_db_time(u.last_login_at()),
            display_name: u.display_name().map(|n| n.as_str().to_owned()),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        let record = UserRecord {
            id: UserId::parse(&r.id).map_err(|_| corrupt("users.id"))?,
            email_lookup: EmailLookup::from_bytes(array(r.email_lookup, "users.email_lookup")?),
            email_encrypted: EncryptedField::new(r.email_encrypted),
            role: r.role.parse().map_err(|_| corrupt("users.role"))?,
            active: r.active,
            created_at: from_db_time(r.created_at),
            email_verified_at: opt_from_db_time(r.email_verified_at),
            privacy_accepted_at: opt_from_db_time(r.privacy_accepted_at),
            password_hash: r.password_hash.map(PasswordHash::new),
            totp_secret: r.totp_secret.map(EncryptedField::new),
            totp_last_step: r.totp_last_step,
            lockout: LockoutState {
                failed_attempts: u32::try_from(r.failed_attempts)
                    .map_err(|_| corrupt("users.failed_attempts"))?,
                locked_until: opt_from_db_time(r.locked_until),
            },
            last_login_at: opt_from_db_time(r.last_login_at),
            display_name: r
                .display_name
                .map(|n| PlainText::new(&n, DISPLAY_NAME_MAX_CHARS))
                .transpose()
                .map_err(|_| corrupt("users.display_name"))?,
        };
        User::restore(record).map_err(|e| corrupt(&format!("users row: {e}")))
    }
}

#[async_trait]
impl UserRepository for SqlUsers {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let row = UserRow::from(user);
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn insert_with_token(
        &self,
        user: &User,
        token: &LoginToken,
        mail: &QueuedMail,
    ) -> Result<(), RepoError> {
        let (user, token, mail) = (
            UserRow::from(user),
            TokenRow::from(token),
            MailRow::from(mail),
        );
        with_write_conn!(self.db, |conn| {
            conn.transaction(async |conn| -> Result<(), TxError> {
                diesel::insert_into(users::table)
                    .values(&user)
                    .execute(conn)
                    .await?;
                diesel::insert_into(login_tokens::table)
                    .values(&token)
                    .execute(conn)
                    .await?;
                diesel::insert_into(mail_outbox::table)
                    .values(&mail)
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(RepoError::from)?;
        });
        Ok(())
    }

    async fn get(&self, id: UserId) -> Result<User, RepoError> {
        let row: UserRow = read_query!(
            self.db,
            users::table
                .find(id.to_string())
                .select(UserRow::as_select()),
            get_result
        )
        .map_err(repo_error)?;
        row.try_into()
    }

    async fn find_by_email(&self, lookup: &EmailLookup) -> Result<Option<User>, RepoError> {
        let key = lookup.as_bytes().to_vec();
        let row: Option<UserRow> = with_conn!(self.db, |conn| {
            users::table
                .filter(users::email_lookup.eq(&key))
                .select(UserRow::as_select())
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        row.map(User::try_from).transpose()
    }

    async fn update(&self, user: &User) -> Result<(), RepoError> {
        let row = UserRow::from(user);
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(users::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn swap_lockout(
        &self,
        id: UserId,
        expected: LockoutState,
        new: LockoutState,
    ) -> Result<bool, RepoError> {
        let key = id.to_string();
        let attempts = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        let changed = with_write_conn!(self.db, |conn| {
            let mut query = diesel::update(users::table)
                .filter(users::id.eq(&key))
                .filter(users::failed_attempts.eq(attempts(expected.failed_attempts)))
                .into_boxed();
            query = match expected.locked_until {
                Some(t) => query.filter(users::locked_until.eq(to_db_time(t))),
                None => query.filter(users::locked_until.is_null()),
            };
            query
                .set((
                    users::failed_attempts.eq(attempts(new.failed_attempts)),
                    users::locked_until.eq(opt_to_db_time(new.locked_until)),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        if changed == 1 {
            return Ok(true);
        }
        self.get(id).await.map(|_| false)
    }

    async fn swap_totp_step(
        &self,
        id: UserId,
        expected: Option<i64>,
        new: i64,
    ) -> Result<bool, RepoError> {
        let key = id.to_string();
        let changed = with_write_conn!(self.db, |conn| {
            let mut query = diesel::update(users::table)
                .filter(users::id.eq(&key))
                .into_boxed();
            query = match expected {
                Some(step) => query.filter(users::totp_last_step.eq(step)),
                None => query.filter(users::totp_last_step.is_null()),
            };
            query
                .set(users::totp_last_step.eq(Some(new)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        if changed == 1 {
            return Ok(true);
        }
        self.get(id).await.map(|_| false)
    }

    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        rehash: Option<PasswordHash>,
    ) -> Result<(), RepoError> {
        let key = id.to_string();
        let at = to_db_time(at);
        let changed = with_write_conn!(self.db, |conn| {
            let target = users::table.find(&key);
            let reset = (
                users::failed_attempts.eq(0),
                users::locked_until.eq(None::<NaiveDateTime>),
                users::last_login_at.eq(Some(at)),
            );
            match &rehash {
                Some(hash) => diesel::update(target)
                    .set((reset, users::password_hash.eq(Some(hash.as_str()))))
                    .execute(conn)
                    .await
                    .map_err(repo_error)?,
                None => diesel::update(target)
                    .set(reset)
                    .execute(conn)
                    .await
                    .map_err(repo_error)?,
            }
        });
        found(changed)
    }

    async fn set_display_name(&self, id: UserId, name: Option<PlainText>) -> Result<(), RepoError> {
        let key = id.to_string();
        let name = name.map(|n| n.as_str().to_owned());
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(users::table.find(&key))
                .set(users::display_name.eq(&name))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn set_role(&self, id: UserId, role: Role) -> Result<(), RepoError> {
        let key = id.to_string();
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(users::table.find(&key))
                .set(users::role.eq(role.as_str()))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn set_active(&self, id: UserId, active: bool) -> Result<(), RepoError> {
        let key = id.to_string();
        let changed = with_write_conn!(self.db, |conn| {
            diesel::update(users::table.find(&key))
                .set(users::active.eq(active))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        found(changed)
    }

    async fn change_email(
        &self,
        id: UserId,
        token: &TokenHash,
        now: Timestamp,
        notice: &QueuedMail,
    ) -> Result<bool, RepoError> {
        let (key, hash, at) = (id.to_string(), token.as_bytes().to_vec(), to_db_time(now));
        let notice = MailRow::from(notice);
        write_transaction!(self.db, |conn| -> Result<bool, TxError> {
            // The conditional UPDATE consumes the token: of concurrent uses, one matches.
            let consumed: Option<TokenRow> = diesel::update(
                login_tokens::table
                    .filter(login_tokens::hash.eq(&hash))
                    .filter(login_tokens::purpose.eq(TokenPurpose::EmailChange.as_str()))
                    .filter(login_tokens::user_id.eq(&key))
                    .filter(login_tokens::used_at.is_null())
                    .filter(login_tokens::expires_at.gt(at)),
            )
            .set(login_tokens::used_at.eq(at))
            .returning(TokenRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
            let Some(token) = consumed else {
                return Ok(false);
            };
            let address = token
                .email_encrypted
                .ok_or_else(|| corrupt("login_tokens.email_encrypted"))?;
            // A unique violation here (the address was taken meanwhile) rolls everything back.
            let moved = diesel::update(users::table.find(&key))
                .set((
                    users::email_lookup.eq(&token.email_lookup),
                    users::email_encrypted.eq(&address),
                    users::email_verified_at.eq(Some(at)),
                ))
                .execute(conn)
                .await?;
            if moved == 0 {
                return Err(RepoError::NotFound.into());
            }
            diesel::insert_into(mail_outbox::table)
                .values(&notice)
                .execute(conn)
                .await?;
            Ok(true)
        })
    }

    async fn list(&self, page: Page) -> Result<Vec<User>, RepoError> {
        let limit = i64::from(page.limit.min(MAX_PAGE));
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        let rows: Vec<UserRow> = with_conn!(self.db, |conn| {
            users::table
                .order((users::created_at.asc(), users::id.asc()))
                .limit(limit)
                .offset(offset)
                .select(UserRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    async fn count(&self) -> Result<u64, RepoError> {
        let n: i64 = with_conn!(self.db, |conn| {
            users::table
                .count()
                .get_result(conn)
                .await
                .map_err(repo_error)?
        });
        u64::try_from(n).map_err(|_| corrupt("users count"))
    }

    async fn addresses(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<StoredAddress<UserId>>, RepoError> {
        address_index::accounts(&self.db, after, limit).await
    }

    async fn rekey_address(
        &self,
        id: UserId,
        old: &EmailLookup,
        new: &EmailLookup,
    ) -> Result<bool, RepoError> {
        address_index::rekey_account(&self.db, id, old, new).await
    }

    async fn purge_unverified(&self, before: Timestamp) -> Result<u64, RepoError> {
        account_removal::purge_unverified(&self.db, before).await
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        account_removal::delete(&self.db, id).await
    }
}

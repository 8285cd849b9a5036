//! `SealedValues` on diesel: the six columns that hold ciphertext under the key ring, each
//! walked in its primary key's order (byte keys as lower-case hex, whose text order is their
//! byte order), and each value replaced only if it is still the one read (a compare-and-set,
//! so a concurrent change is never overwritten).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use wildid_domain::user::EncryptedField;
use wildid_ports::RepoError;
use wildid_ports::repo::{ColumnProgress, SealedColumn, SealedValue, SealedValues};

use crate::Database;
use crate::codec::{opt_from_db_time, opt_to_db_time};
use crate::error::{corrupt, repo_error};
use crate::pool::{with_conn, with_write_conn};
use crate::schema::{
    login_tokens, mail_outbox, reencryption_progress, users, visit_mappings, visit_tokens,
};

pub(crate) struct SqlSealed {
    pub(crate) db: Arc<Database>,
}

/// A text row key as stored.
fn text_key(row: &str) -> Result<String, RepoError> {
    Ok(row.to_owned())
}

/// A byte row key from its hex form.
fn byte_key(row: &str) -> Result<Vec<u8>, RepoError> {
    hex::decode(row).map_err(|_| corrupt("a sealed column's row key"))
}

fn text_row(key: String) -> String {
    key
}

fn byte_row(key: Vec<u8>) -> String {
    hex::encode(key)
}

/// Expands `$body` with `$table`, `$key`, `$value`, the key's parser `$parse` (row text to the
/// stored key) and its printer `$print`, for the table and columns of `$column`.
macro_rules! for_column {
    ($column:expr, |$table:ident, $key:ident, $value:ident, $parse:ident, $print:ident| $body:expr) => {
        match $column {
            SealedColumn::UserEmails => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{text_key as $parse, text_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use users as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use users::{email_encrypted as $value, id as $key};
                $body
            }
            SealedColumn::TotpSecrets => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{text_key as $parse, text_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use users as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use users::{id as $key, totp_secret as $value};
                $body
            }
            SealedColumn::PendingAddresses => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{byte_key as $parse, byte_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use login_tokens as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use login_tokens::{email_encrypted as $value, hash as $key};
                $body
            }
            SealedColumn::QueuedMail => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{text_key as $parse, text_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use mail_outbox as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use mail_outbox::{id as $key, payload as $value};
                $body
            }
            SealedColumn::VisitMappings => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{byte_key as $parse, byte_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use visit_mappings as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use visit_mappings::{sealed_visitor as $value, token_digest as $key};
                $body
            }
            SealedColumn::VisitTokens => {
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use self::{text_key as $parse, text_row as $print};
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use visit_tokens as $table;
                #[allow(
                    unused_imports,
                    reason = "not every use of the macro needs every name"
                )]
                use visit_tokens::{booking_id as $key, sealed as $value};
                $body
            }
        }
    };
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = reencryption_progress)]
struct ProgressRow {
    column_name: String,
    key_id: String,
    cursor: Option<String>,
    examined: i64,
    rewritten: i64,
    unreadable: i64,
    finished_at: Option<NaiveDateTime>,
}

fn count_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count_from(n: i64, what: &str) -> Result<u64, RepoError> {
    u64::try_from(n).map_err(|_| corrupt(what))
}

#[async_trait]
impl SealedValues for SqlSealed {
    async fn count(&self, column: SealedColumn) -> Result<u64, RepoError> {
        let n: i64 = for_column!(column, |table, key, value, parse, print| {
            with_conn!(self.db, |conn| {
                table::table
                    .filter(value.is_not_null())
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(repo_error)?
            })
        });
        count_from(n, "a sealed column's count")
    }

    async fn page(
        &self,
        column: SealedColumn,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<SealedValue>, RepoError> {
        let limit = i64::from(limit.clamp(1, 10_000));
        for_column!(column, |table, key, value, parse, print| {
            let after = after.as_deref().map(parse).transpose()?;
            let rows: Vec<(_, Option<String>)> = with_conn!(self.db, |conn| {
                let mut query = table::table
                    .select((key, value.nullable()))
                    .filter(value.is_not_null())
                    .order(key.asc())
                    .limit(limit)
                    .into_boxed();
                if let Some(after) = &after {
                    query = query.filter(key.gt(after.clone()));
                }
                query.load(conn).await.map_err(repo_error)?
            });
            Ok(rows
                .into_iter()
                .filter_map(|(row, sealed)| {
                    sealed.map(|sealed| SealedValue {
                        row: print(row),
                        value: EncryptedField::new(sealed),
                    })
                })
                .collect())
        })
    }

    async fn replace(
        &self,
        column: SealedColumn,
        row: String,
        old: EncryptedField,
        new: EncryptedField,
    ) -> Result<bool, RepoError> {
        let (old, new) = (old.as_str().to_owned(), new.as_str().to_owned());
        let changed = for_column!(column, |table, key, value, parse, print| {
            let row = parse(&row)?;
            with_write_conn!(self.db, |conn| {
                diesel::update(
                    table::table
                        .filter(key.eq(row.clone()))
                        .filter(value.eq(old.clone())),
                )
                .set(value.eq(new.clone()))
                .execute(conn)
                .await
                .map_err(repo_error)?
            })
        });
        Ok(changed == 1)
    }

    async fn progress(&self, column: SealedColumn) -> Result<Option<ColumnProgress>, RepoError> {
        let row: Option<ProgressRow> = with_conn!(self.db, |conn| {
            reencryption_progress::table
                .find(column.as_str())
                .select(ProgressRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        row.map(|r| {
            Ok(ColumnProgress {
                column,
                key_id: r.key_id,
                cursor: r.cursor,
                examined: count_from(r.examined, "reencryption_progress.examined")?,
                rewritten: count_from(r.rewritten, "reencryption_progress.rewritten")?,
                unreadable: count_from(r.unreadable, "reencryption_progress.unreadable")?,
                finished_at: opt_from_db_time(r.finished_at),
            })
        })
        .transpose()
    }

    async fn save_progress(&self, progress: ColumnProgress) -> Result<(), RepoError> {
        let row = ProgressRow {
            column_name: progress.column.as_str().to_owned(),
            key_id: progress.key_id,
            cursor: progress.cursor,
            examined: count_of(progress.examined),
            rewritten: count_of(progress.rewritten),
            unreadable: count_of(progress.unreadable),
            finished_at: opt_to_db_time(progress.finished_at),
        };
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(reencryption_progress::table)
                .values(&row)
                .on_conflict(reencryption_progress::column_name)
                .do_update()
                .set((
                    reencryption_progress::key_id.eq(excluded(reencryption_progress::key_id)),
                    reencryption_progress::cursor.eq(excluded(reencryption_progress::cursor)),
                    reencryption_progress::examined.eq(excluded(reencryption_progress::examined)),
                    reencryption_progress::rewritten.eq(excluded(reencryption_progress::rewritten)),
                    reencryption_progress::unreadable
                        .eq(excluded(reencryption_progress::unreadable)),
                    reencryption_progress::finished_at
                        .eq(excluded(reencryption_progress::finished_at)),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }
}

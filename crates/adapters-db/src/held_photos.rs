//! `HeldPhotoRepository` on diesel: one row per session, removed by the session's foreign key
//! when the session goes. A photo is taken by deleting its row and reading what was deleted
//! (`DELETE ... RETURNING`), so of two concurrent takes at most one returns it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use wildid_domain::Timestamp;
use wildid_domain::session::SessionKey;
use wildid_ports::RepoError;
use wildid_ports::identify::{CheckedImage, ImageFormat};
use wildid_ports::repo::HeldPhotoRepository;

use crate::Database;
use crate::codec::{array, to_db_time};
use crate::error::{corrupt, repo_error};
use crate::pool::with_write_conn;
use crate::schema::held_photos;

pub(crate) struct SqlHeldPhotos {
    pub(crate) db: Arc<Database>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = held_photos)]
struct Row {
    session_key: Vec<u8>,
    source_format: String,
    format: String,
    bytes: Vec<u8>,
    width: i32,
    height: i32,
    thumbnail: Vec<u8>,
    upload_sha256: Vec<u8>,
    expires_at: NaiveDateTime,
}

fn side(pixels: u32) -> Result<i32, RepoError> {
    i32::try_from(pixels).map_err(|_| RepoError::Other("a photo side beyond i32".into()))
}

fn format(name: &str, column: &str) -> Result<ImageFormat, RepoError> {
    ImageFormat::from_media_type(name).ok_or_else(|| corrupt(column))
}

impl TryFrom<Row> for CheckedImage {
    type Error = RepoError;
    fn try_from(r: Row) -> Result<Self, RepoError> {
        Ok(CheckedImage {
            source_format: format(&r.source_format, "held_photos.source_format")?,
            format: format(&r.format, "held_photos.format")?,
            bytes: r.bytes,
            width: u32::try_from(r.width).map_err(|_| corrupt("held_photos.width"))?,
            height: u32::try_from(r.height).map_err(|_| corrupt("held_photos.height"))?,
            thumbnail: Some(r.thumbnail),
            upload_sha256: array(r.upload_sha256, "held_photos.upload_sha256")?,
        })
    }
}

#[async_trait]
impl HeldPhotoRepository for SqlHeldPhotos {
    async fn keep(
        &self,
        key: &SessionKey,
        photo: &CheckedImage,
        expires_at: Timestamp,
    ) -> Result<(), RepoError> {
        debug_assert!(
            photo.thumbnail.is_some(),
            "a held photo is shown by a page, which always asks for a thumbnail"
        );
        let row = Row {
            session_key: key.as_bytes().to_vec(),
            source_format: photo.source_format.media_type().to_owned(),
            format: photo.format.media_type().to_owned(),
            bytes: photo.bytes.clone(),
            width: side(photo.width)?,
            height: side(photo.height)?,
            thumbnail: photo.thumbnail_or_copy().to_vec(),
            upload_sha256: photo.upload_sha256.to_vec(),
            expires_at: to_db_time(expires_at),
        };
        with_write_conn!(self.db, |conn| {
            diesel::insert_into(held_photos::table)
                .values(&row)
                .on_conflict(held_photos::session_key)
                .do_update()
                .set((
                    held_photos::source_format.eq(excluded(held_photos::source_format)),
                    held_photos::format.eq(excluded(held_photos::format)),
                    held_photos::bytes.eq(excluded(held_photos::bytes)),
                    held_photos::width.eq(excluded(held_photos::width)),
                    held_photos::height.eq(excluded(held_photos::height)),
                    held_photos::thumbnail.eq(excluded(held_photos::thumbnail)),
                    held_photos::upload_sha256.eq(excluded(held_photos::upload_sha256)),
                    held_photos::expires_at.eq(excluded(held_photos::expires_at)),
                ))
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }

    async fn take(
        &self,
        key: &SessionKey,
        now: Timestamp,
    ) -> Result<Option<CheckedImage>, RepoError> {
        let key = key.as_bytes().to_vec();
        // One statement: of concurrent takes, only the one whose delete found the row gets it.
        let row: Option<Row> = with_write_conn!(self.db, |conn| {
            diesel::delete(held_photos::table.find(&key))
                .returning(Row::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(repo_error)?
        });
        match row {
            Some(row) if row.expires_at > to_db_time(now) => CheckedImage::try_from(row).map(Some),
            _ => Ok(None),
        }
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        let now = to_db_time(now);
        let deleted = with_write_conn!(self.db, |conn| {
            diesel::delete(held_photos::table.filter(held_photos::expires_at.le(now)))
                .execute(conn)
                .await
                .map_err(repo_error)?
        });
        Ok(deleted as u64)
    }
}

//! An entry's pictures, in `identification_photos` apart from the rows a listing reads: the
//! row kept with the entry, and the photo or its thumbnail read back for its owner.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_ports::RepoError;
use wildid_ports::repo::{PhotoSize, StoredPicture};

use crate::Database;
use crate::error::repo_error;
use crate::pool::with_conn;
use crate::schema::{identification_photos, identifications};

#[derive(Insertable)]
#[diesel(table_name = identification_photos)]
pub(super) struct PhotoRow<'a> {
    pub(super) identification_id: &'a str,
    pub(super) media_type: &'a str,
    pub(super) photo: &'a [u8],
    pub(super) thumbnail: &'a [u8],
}

pub(super) async fn picture(
    db: &Database,
    id: IdentificationId,
    owner: UserId,
    size: PhotoSize,
) -> Result<StoredPicture, RepoError> {
    let (id, owner) = (id.to_string(), owner.to_string());
    let (media_type, bytes): (String, Vec<u8>) = with_conn!(db, |conn| {
        let owned = identification_photos::table
            .inner_join(identifications::table)
            .filter(identifications::id.eq(&id))
            .filter(identifications::owner.eq(&owner));
        match size {
            PhotoSize::Full => owned
                .select((
                    identification_photos::media_type,
                    identification_photos::photo,
                ))
                .get_result(conn)
                .await
                .map_err(repo_error)?,
            PhotoSize::Thumbnail => owned
                .select(identification_photos::thumbnail)
                .get_result::<Vec<u8>>(conn)
                .await
                .map(|thumb| ("image/jpeg".to_owned(), thumb))
                .map_err(repo_error)?,
        }
    });
    Ok(StoredPicture { bytes, media_type })
}

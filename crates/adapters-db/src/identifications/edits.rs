//! What the owner changes on a kept entry: their feedback on the answer, and who may see the
//! sighting. Both name the owner, so another person's entry is reported as missing.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::identification::Feedback;
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::Visibility;
use wildid_ports::RepoError;

use super::details::stored_feedback;
use crate::Database;
use crate::error::{found, repo_error};
use crate::pool::with_write_conn;
use crate::schema::{identifications, sightings};

pub(super) async fn put_feedback(
    db: &Database,
    id: IdentificationId,
    owner: UserId,
    feedback: &Feedback,
) -> Result<(), RepoError> {
    let (id, owner) = (id.to_string(), owner.to_string());
    let stored = stored_feedback(feedback)?;
    let changed = with_write_conn!(db, |conn| {
        diesel::update(
            identifications::table
                .find(&id)
                .filter(identifications::owner.eq(&owner)),
        )
        .set((
            identifications::feedback_correct.eq(Some(feedback.correct)),
            identifications::feedback.eq(Some(&stored)),
        ))
        .execute(conn)
        .await
        .map_err(repo_error)?
    });
    found(changed)
}

pub(super) async fn set_visibility(
    db: &Database,
    id: IdentificationId,
    owner: UserId,
    visibility: Visibility,
) -> Result<(), RepoError> {
    let (id, owner) = (id.to_string(), owner.to_string());
    let changed = with_write_conn!(db, |conn| {
        diesel::update(
            sightings::table
                .find(&id)
                .filter(sightings::owner.eq(&owner)),
        )
        .set(sightings::visibility.eq(visibility.as_str()))
        .execute(conn)
        .await
        .map_err(repo_error)?
    });
    found(changed)
}

//! Identifiers read from paths and forms, for pages and JSON alike.

use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::session::SessionKey;

use crate::error::AppError;

/// A user id from the path; anything else is a 404 like a missing user.
pub(crate) fn target(raw: &str) -> Result<UserId, AppError> {
    UserId::parse(raw).map_err(|_| AppError::NotFound)
}

/// A journal entry's id from a path or a body; anything else is a 404 like a missing entry.
pub(crate) fn entry_id(raw: &str) -> Result<IdentificationId, AppError> {
    IdentificationId::parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// Parses a session id as listed (hex of the stored key).
pub(crate) fn session_key(id: &str) -> Option<SessionKey> {
    let bytes: [u8; 32] = hex::decode(id.trim()).ok()?.try_into().ok()?;
    Some(SessionKey::from_bytes(bytes))
}

//! Pages of a journal, cut by position rather than offset; the cursor handed to clients is the
//! position sealed with a keyed digest bound to the owner, so a changed cursor or someone
//! else's is refused.

use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use wildid_domain::identification::Identification;
use wildid_domain::ids::{IdentificationId, UserId};

use super::{Journal, JournalError};
use crate::repo::{JournalFilter, JournalPosition};

/// The most entries one page holds.
pub const MAX_PAGE: u32 = 100;
/// Entries per page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 24;

/// One page of a journal, with the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPage {
    /// Newest first.
    pub entries: Vec<Identification>,
    /// The opaque cursor that continues after this page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The purpose under which cursors are sealed ([`KeyedDigest::digest`]).
const CURSOR_PURPOSE: &str = "journal-cursor";
/// Bytes of a cursor: instant (8), id (16), seal (16).
const CURSOR_BYTES: usize = 40;

impl Journal {
    /// A page of `owner`'s journal: at most `limit` entries (capped at [`MAX_PAGE`]) matching
    /// `filter`, after the position sealed in `cursor` (from the newest when `None`).
    ///
    /// # Errors
    /// [`JournalError::InvalidCursor`] for a cursor this server did not give `owner`; a
    /// storage failure.
    pub async fn page(
        &self,
        owner: UserId,
        filter: &JournalFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<JournalPage, JournalError> {
        let after = cursor.map(|c| self.open_cursor(owner, c)).transpose()?;
        let slice = self
            .repo
            .list(owner, filter, after, limit.clamp(1, MAX_PAGE))
            .await?;
        Ok(JournalPage {
            next_cursor: slice.next.map(|p| self.seal_cursor(owner, p)),
            entries: slice.entries,
        })
    }

    /// `position`, sealed for `owner`: base64url of its instant, its id and a keyed digest of
    /// both and of the owner.
    fn seal_cursor(&self, owner: UserId, position: JournalPosition) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_BYTES);
        bytes.extend_from_slice(&position.created_at.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(position.id.as_uuid().as_bytes());
        let seal = self.seal(owner, &bytes);
        bytes.extend_from_slice(&seal);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn open_cursor(&self, owner: UserId, cursor: &str) -> Result<JournalPosition, JournalError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| JournalError::InvalidCursor)?;
        if bytes.len() != CURSOR_BYTES {
            return Err(JournalError::InvalidCursor);
        }
        let (payload, seal) = bytes.split_at(CURSOR_BYTES - 16);
        if !bool::from(self.seal(owner, payload).ct_eq(seal)) {
            return Err(JournalError::InvalidCursor);
        }
        let (micros, id) = payload.split_at(8);
        let micros =
            i64::from_be_bytes(micros.try_into().map_err(|_| JournalError::InvalidCursor)?);
        let id: [u8; 16] = id.try_into().map_err(|_| JournalError::InvalidCursor)?;
        let created_at =
            chrono::DateTime::from_timestamp_micros(micros).ok_or(JournalError::InvalidCursor)?;
        Ok(JournalPosition {
            created_at,
            id: IdentificationId::from_uuid_bytes(id),
        })
    }

    fn seal(&self, owner: UserId, payload: &[u8]) -> [u8; 16] {
        let mut input = owner.as_uuid().as_bytes().to_vec();
        input.extend_from_slice(payload);
        let digest = self.digest.digest(CURSOR_PURPOSE, &input);
        let mut seal = [0; 16];
        seal.copy_from_slice(&digest[..16]);
        seal
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::repo::{JournalSlice, MockIdentificationRepository};
    use crate::services::fixtures::t0;
    use crate::services::journal::JournalSettings;
    use crate::services::journal::fixture::{journal, owner};

    #[tokio::test]
    async fn cursors_are_sealed_for_their_owner_and_refused_when_changed() {
        let position = JournalPosition {
            created_at: t0(),
            id: IdentificationId::from_random([5; 16]),
        };
        let mut repo = MockIdentificationRepository::new();
        repo.expect_list()
            .withf(move |_, _, after, limit| *after == Some(position) && *limit == MAX_PAGE)
            .returning(|_, _, _, _| {
                Ok(JournalSlice {
                    entries: vec![],
                    next: None,
                })
            });
        let j = journal(repo, JournalSettings::default());
        let cursor = j.seal_cursor(owner(1), position);
        let page = j
            .page(owner(1), &JournalFilter::default(), Some(&cursor), 1_000)
            .await
            .unwrap();
        assert_eq!(page.next_cursor, None);
        // Someone else's cursor, a changed one, and nonsense are all refused.
        let refused = |c: String| {
            let j = j.clone();
            async move {
                j.page(owner(1), &JournalFilter::default(), Some(&c), 10)
                    .await
            }
        };
        assert_eq!(
            refused(j.seal_cursor(owner(2), position)).await,
            Err(JournalError::InvalidCursor)
        );
        let mut changed = cursor.clone().into_bytes();
        changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            refused(String::from_utf8(changed).unwrap()).await,
            Err(JournalError::InvalidCursor)
        );
        assert_eq!(
            refused("%%%".into()).await,
            Err(JournalError::InvalidCursor)
        );
        assert_eq!(
            refused(String::new()).await,
            Err(JournalError::InvalidCursor)
        );
    }
}

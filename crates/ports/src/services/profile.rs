//! What users say about themselves: today the display name.
//!
//! The name is free text a user writes, so it is cleaned before it is stored
//! ([`crate::text::clean`]: no markup, no control characters, at most
//! [`DISPLAY_NAME_MAX_CHARS`] characters) and the answer says which field is wrong and why.
//! The change is audited without the name itself (personal data stays out of the log).

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::text::{PlainText, TextError};
use wildid_domain::user::{DISPLAY_NAME_MAX_CHARS, User};

use crate::RepoError;
use crate::services::accounts::{Accounts, Requester};
use crate::text::clean;

/// Why a profile change was refused. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The display name is empty after cleaning, or too long.
    #[error("display_name: {0}")]
    InvalidDisplayName(TextError),
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for ProfileError {
    fn from(e: RepoError) -> Self {
        ProfileError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Sets `user`'s display name to the cleaned `raw`, or clears it when `raw` is `None` or
    /// only white space. Returns what is stored now.
    ///
    /// # Errors
    /// [`ProfileError::InvalidDisplayName`] when the name is too long or holds nothing but
    /// markup; [`ProfileError::Unavailable`] when it cannot be stored.
    pub async fn set_display_name(
        &self,
        user: &User,
        raw: Option<&str>,
        who: Requester,
    ) -> Result<Option<PlainText>, ProfileError> {
        let name = match raw {
            None => None,
            Some(raw) if raw.trim().is_empty() => None,
            Some(raw) => {
                Some(clean(raw, DISPLAY_NAME_MAX_CHARS).map_err(ProfileError::InvalidDisplayName)?)
            }
        };
        self.ports
            .users
            .set_display_name(user.id, name.clone())
            .await?;
        let change = if name.is_some() { "set" } else { "cleared" };
        self.audit(
            Actor::User(user.id),
            Action::DisplayNameChanged,
            Some(user.id),
            AuditDetails::new().with("change", change),
            who,
        )
        .await;
        Ok(name)
    }
}

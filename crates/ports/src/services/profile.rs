//! A person's own view of their account, and what they say about themselves (today the
//! display name).
//!
//! The name is free text a user writes, so it is cleaned before it is stored
//! ([`crate::text::clean`]: no markup, no control characters, at most
//! [`DISPLAY_NAME_MAX_CHARS`] characters) and the answer says which field is wrong and why.
//! The change is audited without the name itself (personal data stays out of the log).

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::ids::UserId;
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

/// What a user sees of their own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The account's id (what sessions and audit entries name it by).
    pub id: UserId,
    /// The address, decrypted.
    pub email: String,
    /// What the account may do (visitor, worker or admin), as an admin last set it.
    pub role: wildid_domain::role::Role,
    /// Whether the address is confirmed.
    pub email_verified: bool,
    /// Whether a second factor is enrolled.
    pub totp_enabled: bool,
    /// Whether a password is set (accounts made by magic link have none).
    pub has_password: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// The display name, if one is set (cleaned plain text).
    pub display_name: Option<String>,
}

impl From<RepoError> for ProfileError {
    fn from(e: RepoError) -> Self {
        ProfileError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// The user's own view of their account (the address is decrypted here).
    ///
    /// # Errors
    /// [`ProfileError::Unavailable`] when the address cannot be decrypted.
    pub fn profile(&self, user: &User) -> Result<Profile, ProfileError> {
        let email = self
            .ports
            .cipher
            .decrypt(user.email_encrypted())
            .map_err(|e| ProfileError::Unavailable(e.to_string()))
            .and_then(|bytes| {
                String::from_utf8(bytes.expose().clone())
                    .map_err(|_| ProfileError::Unavailable("address is not text".into()))
            })?;
        Ok(Profile {
            id: user.id(),
            email,
            role: user.role(),
            email_verified: user.email_verified_at().is_some(),
            totp_enabled: user.has_totp(),
            has_password: user.password_hash().is_some(),
            created_at: user.created_at(),
            display_name: user.display_name().map(|n| n.as_str().to_owned()),
        })
    }

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
            .set_display_name(user.id(), name.clone())
            .await?;
        let change = if name.is_some() { "set" } else { "cleared" };
        self.audit(
            Actor::User(user.id()),
            Action::DisplayNameChanged,
            Some(user.id()),
            AuditDetails::new().with("change", change),
            who,
        )
        .await;
        Ok(name)
    }
}

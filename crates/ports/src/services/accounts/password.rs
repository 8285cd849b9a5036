//! Setting a new password (the caller has checked that the authentication is fresh).

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::Email;
use wildid_domain::password::PasswordProblem;
use wildid_domain::secret::SecretString;
use wildid_domain::user::User;

use super::{Accounts, Requester, related_words};
use crate::RepoError;

/// Why a new password was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    /// The password breaks the policy.
    #[error("{0}")]
    WeakPassword(#[from] PasswordProblem),
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for PasswordChangeError {
    fn from(e: RepoError) -> Self {
        PasswordChangeError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Sets a new password (after a fresh authentication, checked by the caller).
    ///
    /// # Errors
    /// [`PasswordChangeError::WeakPassword`] for a password the policy refuses; a failing
    /// dependency.
    pub async fn change_password(
        &self,
        user: &User,
        new: &SecretString,
        who: Requester,
    ) -> Result<(), PasswordChangeError> {
        let profile = self
            .profile(user)
            .map_err(|e| PasswordChangeError::Unavailable(e.to_string()))?;
        let email = Email::parse(&profile.email)
            .map_err(|e| PasswordChangeError::Unavailable(format!("stored address: {e}")))?;
        self.policy.password.check_shape(new, &email)?;
        self.policy
            .password
            .check_score(self.ports.strength.score(new, &related_words(&email)))?;
        let hash = self
            .ports
            .hasher
            .hash(new)
            .await
            .map_err(|e| PasswordChangeError::Unavailable(e.to_string()))?;
        let mut updated = self.ports.users.get(user.id()).await?;
        updated.set_password(hash);
        self.ports.users.update(&updated).await?;
        self.audit(
            Actor::User(user.id()),
            Action::PasswordChanged,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::accounts::test_world::{accounts, user_of, world};

    #[tokio::test]
    async fn a_weak_or_address_like_password_is_refused_and_nothing_is_stored() {
        let mut w = world();
        w.strength.expect_score().returning(|_, _| 0);
        // No expectation on the hasher or the repository: storing would panic.
        let accounts = accounts(w);
        let user = user_of("ada.lovelace@example.org", 1);
        for new in ["short", "ada.lovelace@example.org", "a perfectly long one"] {
            let refused = accounts
                .change_password(&user, &SecretString::new(new.into()), Requester::default())
                .await;
            assert!(
                matches!(refused, Err(PasswordChangeError::WeakPassword(_))),
                "{new}"
            );
        }
    }
}

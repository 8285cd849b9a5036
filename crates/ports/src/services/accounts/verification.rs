//! Proving an address: the verification link, and sending it again.

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::Email;
use wildid_domain::ids::UserId;
use wildid_domain::mail::{InvalidSubject, MailSubject, OutgoingMail};
use wildid_domain::token::{LoginToken, RawToken, TokenPurpose};
use wildid_domain::user::EmailLookup;

use super::{Accounts, LinkRequestError, Requester};
use crate::RepoError;
use crate::random::random_array;
use crate::repo::QueuedMail;
use crate::services::email_rekey::Located;

/// Why a verification link was refused (one answer for unknown, used and expired links).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The link is invalid, used or expired.
    #[error("this link is invalid, has expired or was already used")]
    InvalidLink,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for VerifyError {
    fn from(e: RepoError) -> Self {
        VerifyError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Confirms an address with the token of a verification link.
    ///
    /// # Errors
    /// [`VerifyError::InvalidLink`] for a malformed, unknown, used or expired link.
    pub async fn verify_email(
        &self,
        raw_token: &str,
        who: Requester,
    ) -> Result<UserId, VerifyError> {
        let verified = self.verify_checked(raw_token, who).await;
        if let Err(VerifyError::InvalidLink) = verified {
            // Audited with why (a good link here means its account is gone); the person is
            // told only that the link does not work.
            let reason = match self
                .link_refusal(raw_token, TokenPurpose::EmailVerification)
                .await
            {
                "usable" => "unknown_account",
                reason => reason,
            };
            self.audit(
                Actor::Anonymous,
                Action::VerificationRefused,
                None,
                AuditDetails::new().with("reason", reason),
                who,
            )
            .await;
        }
        verified
    }

    async fn verify_checked(&self, raw_token: &str, who: Requester) -> Result<UserId, VerifyError> {
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| VerifyError::InvalidLink)?;
        let now = self.ports.clock.now();
        let token = self
            .ports
            .tokens
            .consume(&raw.hash(), TokenPurpose::EmailVerification, now)
            .await?
            .ok_or(VerifyError::InvalidLink)?;
        let mut user = self
            .ports
            .users
            .find_by_email(&token.email_lookup)
            .await?
            .ok_or(VerifyError::InvalidLink)?;
        if user.verify_email(now) {
            self.ports.users.update(&user).await?;
        }
        self.audit(
            Actor::User(user.id()),
            Action::EmailVerified,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(user.id())
    }

    /// Sends a new verification link to an unverified account with a password, voiding the
    /// earlier ones. Answers `Ok` whatever the address (no enumeration).
    ///
    /// # Errors
    /// [`LinkRequestError::InvalidEmail`], [`LinkRequestError::RateLimited`], or a failing dependency.
    pub async fn resend_verification(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<(), LinkRequestError> {
        let (email, Located { user, lookup }) = self.link_request(email, who).await?;
        let Some(user) = user else {
            return Ok(());
        };
        if user.email_verified_at().is_some() || user.password_hash().is_none() {
            return Ok(());
        }
        let (token, queued) = self
            .verification_link(&email, lookup, self.ports.clock.now())
            .map_err(LinkRequestError::Unavailable)?;
        // The new link voids the earlier ones (only the newest works).
        self.ports
            .tokens
            .supersede_with_mail(&token, std::slice::from_ref(&queued))
            .await?;
        self.audit(
            Actor::User(user.id()),
            Action::VerificationResent,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// A new verification link for `email`: the token to store and its message, to be stored
    /// together. `Err` names the dependency that failed.
    pub(super) fn verification_link(
        &self,
        email: &Email,
        lookup: EmailLookup,
        now: Timestamp,
    ) -> Result<(LoginToken, QueuedMail), String> {
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| "no secure randomness".to_owned())?,
        );
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::EmailVerification,
            lookup,
            &self.policy.tokens,
            now,
        );
        let mail = self
            .verification_mail(email, &raw, &token)
            .map_err(|e| e.to_string())?;
        let queued = self.ports.mail.prepare(&mail).map_err(|e| e.to_string())?;
        Ok((token, queued))
    }

    /// The verification message for `to`, with the link of `raw`.
    fn verification_mail(
        &self,
        to: &Email,
        raw: &RawToken,
        token: &LoginToken,
    ) -> Result<OutgoingMail, InvalidSubject> {
        let link = self.links.verify_email.with_token(raw);
        let text = format!(
            "Hello,\n\nplease confirm that this address belongs to you by opening this link:\n\n{link}\n\n\
             The link works once and expires on {} UTC (in {}).\n\
             Until the address is confirmed the account cannot sign in; if it is not confirmed \
             within {} days, the account is deleted and the address can be registered again.\n\
             If you did not create a WildID account, ignore this message: nothing happens without the link.\n\n\
             WildID\n",
            token.expires_at.format("%Y-%m-%d %H:%M"),
            self.policy
                .tokens
                .lifetime_text(TokenPurpose::EmailVerification),
            self.policy.unconfirmed_kept.num_days(),
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Confirm your email address for WildID")?,
            text_body: text,
            html_body: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::accounts::test_world::{accounts, user_of, world};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_malformed_or_unknown_link_is_one_answer_and_audited() {
        let mut w = world();
        w.tokens.expect_consume().returning(|_, _, _| Ok(None));
        w.tokens.expect_get().returning(|_| Ok(None));
        let audited = Arc::clone(&w.audited);
        let accounts = accounts(w);
        for link in [
            "",
            "not a token",
            &RawToken::from_random([3; 32]).encode().expose().clone(),
        ] {
            let refused = accounts.verify_email(link, Requester::default()).await;
            assert!(matches!(refused, Err(VerifyError::InvalidLink)), "{link}");
        }
        assert_eq!(
            *audited.lock().unwrap(),
            ["auth.email.verification_refused"; 3],
            "each refusal is audited"
        );
    }

    #[tokio::test]
    async fn no_new_link_for_an_unknown_a_confirmed_or_a_passwordless_account() {
        for existing in [None, Some(true), Some(false)] {
            let mut w = world();
            w.users.expect_find_by_email().returning(move |_| {
                Ok(existing.map(|confirmed| {
                    let mut user = user_of("ada@example.org", 1);
                    if confirmed {
                        user.verify_email(user.created_at());
                        user.set_password(wildid_domain::user::PasswordHash::new(
                            "$argon2id$x".into(),
                        ));
                    }
                    user
                }))
            });
            // No expectation on the token repository: a new link would panic.
            accounts(w)
                .resend_verification("ada@example.org", Requester::default())
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_malformed_address_is_refused() {
        let refused = accounts(world())
            .resend_verification("nobody", Requester::default())
            .await;
        assert!(matches!(refused, Err(LinkRequestError::InvalidEmail(_))));
    }
}

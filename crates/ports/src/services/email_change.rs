//! Moving an account to a new address.
//!
//! The new address proves itself before anything changes: a link (single use, as long-lived as
//! a verification link) goes to it, and only the account that asked, signed in, can use it.
//! Using it moves the account in one transaction that also queues a notice to the old address,
//! so an account taken over through a stolen session cannot be moved silently. Asking for an
//! address that already has an account answers like any other request and tells that address's
//! owner instead, so the answer reveals nothing. The caller checks that the authentication is
//! fresh (the HTTP adapter's `Fresh` extractor) before asking.

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::mail::{MailSubject, OutgoingMail};
use wildid_domain::token::{LoginToken, RawToken, TokenPurpose};
use wildid_domain::user::User;

use crate::RepoError;
use crate::random::random_array;
use crate::services::accounts::{Accounts, Requester};
use crate::services::mail::MailQueueError;

/// Why an address change was refused.
#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    /// The new address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// The new address is the current one.
    #[error("this is already your address")]
    SameAddress,
    /// Too many messages requested (per address or per client).
    #[error("too many requests")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// The link is malformed, unknown, used, expired, or another account's.
    #[error("this link is invalid, has expired or was already used")]
    InvalidLink,
    /// Another account took the new address after the link was sent; nothing changed.
    #[error("another account uses this address now")]
    AddressTaken,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for EmailChangeError {
    fn from(e: RepoError) -> Self {
        EmailChangeError::Unavailable(e.to_string())
    }
}

impl From<MailQueueError> for EmailChangeError {
    fn from(e: MailQueueError) -> Self {
        EmailChangeError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Sends a link to `new_email` that moves `user`'s account there once used. Answers `Ok`
    /// the same way when the address belongs to another account (whose owner is told).
    ///
    /// # Errors
    /// [`EmailChangeError::InvalidEmail`], [`EmailChangeError::SameAddress`],
    /// [`EmailChangeError::RateLimited`], or a failing dependency; nothing is stored then.
    pub async fn request_email_change(
        &self,
        user: &User,
        new_email: &str,
        who: Requester,
    ) -> Result<(), EmailChangeError> {
        let new_email = Email::parse(new_email)?;
        let lookup = self.ports.email_index.lookup(&new_email);
        if lookup == user.email_lookup() {
            return Err(EmailChangeError::SameAddress);
        }
        // During a pepper rotation the account's own digest may be the older pepper's.
        let holder = self.locate(&new_email).await?.user;
        if holder.as_ref().is_some_and(|h| h.id() == user.id()) {
            return Err(EmailChangeError::SameAddress);
        }
        self.throttle_mail(lookup.as_bytes(), who)
            .await?
            .map_err(|retry_after| EmailChangeError::RateLimited { retry_after })?;
        let taken = holder.is_some();
        if taken {
            self.ports
                .mail
                .enqueue(&self.address_in_use_notice(&new_email)?)
                .await?;
        } else {
            let raw = RawToken::from_random(
                random_array(self.ports.random.as_ref()).map_err(|_| unavailable_random())?,
            );
            let encrypted = self
                .ports
                .cipher
                .encrypt(new_email.as_str().as_bytes())
                .map_err(|e| EmailChangeError::Unavailable(e.to_string()))?;
            let token = LoginToken::email_change(
                raw.hash(),
                user.id(),
                lookup,
                encrypted,
                &self.policy.tokens,
                self.ports.clock.now(),
            );
            let mail = self
                .ports
                .mail
                .prepare(&self.email_change_mail(&new_email, &raw, &token)?)?;
            self.ports
                .tokens
                .insert_with_mail(&token, std::slice::from_ref(&mail))
                .await?;
        }
        self.audit(
            Actor::User(user.id()),
            Action::EmailChangeRequested,
            Some(user.id()),
            AuditDetails::new().with("address_in_use", if taken { "yes" } else { "no" }),
            who,
        )
        .await;
        Ok(())
    }

    /// Uses an address-change link: `user` (who must be the account that asked) moves to the
    /// new address, which counts as confirmed, and the old address is told.
    ///
    /// # Errors
    /// [`EmailChangeError::InvalidLink`] for a malformed, unknown, used or expired link or
    /// another account's; [`EmailChangeError::AddressTaken`] when the address got an account
    /// meanwhile (the link stays usable); a failing dependency. Nothing changes then.
    pub async fn confirm_email_change(
        &self,
        user: &User,
        raw_token: &str,
        who: Requester,
    ) -> Result<(), EmailChangeError> {
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| EmailChangeError::InvalidLink)?;
        let hash = raw.hash();
        // Read first to word the notice; the repository checks everything again atomically.
        let token = self
            .ports
            .tokens
            .get(&hash)
            .await?
            .filter(|t| t.purpose == TokenPurpose::EmailChange && t.user_id == Some(user.id()))
            .ok_or(EmailChangeError::InvalidLink)?;
        let new_email = token
            .email_encrypted
            .as_ref()
            .map(|e| self.decrypt_address(e))
            .transpose()?
            .ok_or(EmailChangeError::InvalidLink)?;
        let old_email = self.decrypt_address(user.email_encrypted())?;
        let notice = self
            .ports
            .mail
            .prepare(&self.address_changed_notice(&old_email, &new_email)?)?;
        let now = self.ports.clock.now();
        match self
            .ports
            .users
            .change_email(user.id(), &hash, now, &notice)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(EmailChangeError::InvalidLink),
            Err(RepoError::Duplicate) => return Err(EmailChangeError::AddressTaken),
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Actor::User(user.id()),
            Action::EmailChanged,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    fn decrypt_address(
        &self,
        field: &wildid_domain::user::EncryptedField,
    ) -> Result<Email, EmailChangeError> {
        let bytes = self
            .ports
            .cipher
            .decrypt(field)
            .map_err(|e| EmailChangeError::Unavailable(e.to_string()))?;
        let text = std::str::from_utf8(bytes.expose())
            .map_err(|_| EmailChangeError::Unavailable("address is not text".into()))?;
        Email::parse(text).map_err(|_| EmailChangeError::Unavailable("stored address".into()))
    }

    fn email_change_mail(
        &self,
        to: &Email,
        raw: &RawToken,
        token: &LoginToken,
    ) -> Result<OutgoingMail, EmailChangeError> {
        let link = self.links.confirm_email_change.with_token(raw);
        let text = format!(
            "Hello,\n\nsomeone signed in to a WildID account asked to use this address for it.\n\
             If it was you, open this link while signed in to that account to make the change:\n\n\
             {link}\n\n\
             The link works once and expires on {} UTC (in {}).\n\
             If it was not you, ignore this message: nothing changes without the link.\n\n\
             WildID\n",
            token.expires_at.format("%Y-%m-%d %H:%M"),
            self.policy.tokens.lifetime_text(TokenPurpose::EmailChange),
        );
        mail(to, "Confirm your new email address for WildID", text)
    }

    fn address_in_use_notice(&self, to: &Email) -> Result<OutgoingMail, EmailChangeError> {
        let text = format!(
            "Hello,\n\nsomeone signed in to a WildID account asked to move it to this address, \
             which already has an account of its own. Nothing was changed.\n\n\
             If you own both accounts and want to use this address for the other one, remove it \
             from this one first. To sign in: {}\n\nWildID\n",
            self.links.sign_in
        );
        mail(to, "Your WildID account", text)
    }

    fn address_changed_notice(
        &self,
        old: &Email,
        new: &Email,
    ) -> Result<OutgoingMail, EmailChangeError> {
        let text = format!(
            "Hello,\n\nthe WildID account that used this address now uses {} instead; mail \
             about the account goes there from now on.\n\n\
             If you did not make this change, someone may have taken over your account: \
             contact the administrators of {} at once and mention the time of this message.\n\n\
             WildID\n",
            new.masked(),
            self.links.home
        );
        mail(old, "The address of your WildID account was changed", text)
    }
}

fn mail(to: &Email, subject: &str, text: String) -> Result<OutgoingMail, EmailChangeError> {
    Ok(OutgoingMail {
        to: to.clone(),
        subject: MailSubject::new(subject)
            .map_err(|e| EmailChangeError::Unavailable(e.to_string()))?,
        text_body: text,
        html_body: None,
    })
}

fn unavailable_random() -> EmailChangeError {
    EmailChangeError::Unavailable("no secure randomness".into())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use wildid_domain::ids::UserId;
    use wildid_domain::token::TokenPolicy;

    use super::*;
    use crate::builtin::SystemClock;
    use crate::clock::Clock;
    use crate::crypto::FieldCipher;
    use crate::repo::QueuedMail;
    use crate::services::accounts::test_world::{accounts, cipher, lookup, opened, user_of, world};

    const OLD: &str = "old.owl@example.org";
    const NEW: &str = "new.owl@example.org";

    fn user() -> User {
        user_of(OLD, 1)
    }

    fn recipient(mail: &QueuedMail) -> String {
        opened(mail).0
    }

    #[tokio::test]
    async fn the_current_address_is_refused_in_any_spelling_and_nothing_is_sent() {
        let accounts = accounts(world());
        let result = accounts
            .request_email_change(&user(), "  OLD.Owl@EXAMPLE.org ", Requester::default())
            .await;
        assert!(matches!(result, Err(EmailChangeError::SameAddress)));
        let result = accounts
            .request_email_change(&user(), "not an address", Requester::default())
            .await;
        assert!(matches!(result, Err(EmailChangeError::InvalidEmail(_))));
    }

    #[tokio::test]
    async fn a_free_address_gets_a_link_bound_to_the_account() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| Ok(None));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&sent);
        w.tokens
            .expect_insert_with_mail()
            .times(1)
            .returning(move |token, mails| {
                seen.lock().unwrap().push((token.clone(), mails.to_vec()));
                Ok(())
            });
        let audited = Arc::clone(&w.audited);
        let accounts = accounts(w);
        accounts
            .request_email_change(&user(), NEW, Requester::default())
            .await
            .unwrap();
        let sent = sent.lock().unwrap();
        let (token, mails) = &sent[0];
        assert_eq!(token.purpose, TokenPurpose::EmailChange);
        assert_eq!(token.user_id, Some(user().id()));
        assert_eq!(token.email_lookup, lookup(NEW));
        assert_eq!(
            token.expires_at - token.created_at,
            TokenPolicy::default().ttl(TokenPurpose::EmailChange)
        );
        assert_eq!(mails.len(), 1);
        assert_eq!(recipient(&mails[0]), NEW);
        assert_eq!(*audited.lock().unwrap(), ["account.email.change_requested"]);
    }

    #[tokio::test]
    async fn an_address_with_an_account_is_told_and_no_link_exists() {
        let mut w = world();
        w.users
            .expect_find_by_email()
            .returning(|_| Ok(Some(user_of(NEW, 2))));
        let queued = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&queued);
        w.outbox.expect_enqueue().times(1).returning(move |mail| {
            seen.lock().unwrap().push(recipient(mail));
            Ok(())
        });
        // No expectation on the token repository: creating a link would panic.
        accounts(w)
            .request_email_change(&user(), NEW, Requester::default())
            .await
            .unwrap();
        assert_eq!(*queued.lock().unwrap(), [NEW]);
    }

    fn stored_link(owner: UserId, raw: &RawToken) -> LoginToken {
        LoginToken::email_change(
            raw.hash(),
            owner,
            lookup(NEW),
            cipher().encrypt(NEW.as_bytes()).unwrap(),
            &TokenPolicy::default(),
            SystemClock.now(),
        )
    }

    #[tokio::test]
    async fn another_accounts_link_is_refused_before_the_database_is_asked_to_change() {
        let raw = RawToken::from_random([5; 32]);
        let mut w = world();
        let token = stored_link(UserId::from_random([2; 16]), &raw);
        w.tokens
            .expect_get()
            .returning(move |_| Ok(Some(token.clone())));
        // No expectation on change_email: calling it would panic.
        let result = accounts(w)
            .confirm_email_change(&user(), raw.encode().expose(), Requester::default())
            .await;
        assert!(matches!(result, Err(EmailChangeError::InvalidLink)));
    }

    #[tokio::test]
    async fn a_taken_address_at_confirmation_is_reported_and_a_good_link_notifies_the_old_address()
    {
        let raw = RawToken::from_random([6; 32]);
        for (answer, expected_ok) in [(Err(RepoError::Duplicate), false), (Ok(true), true)] {
            let mut w = world();
            let token = stored_link(user().id(), &raw);
            w.tokens
                .expect_get()
                .returning(move |_| Ok(Some(token.clone())));
            let notices = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&notices);
            w.users
                .expect_change_email()
                .times(1)
                .return_once(move |id, _, _, notice| {
                    assert_eq!(id, user().id());
                    seen.lock().unwrap().push(recipient(notice));
                    answer
                });
            let audited = Arc::clone(&w.audited);
            let result = accounts(w)
                .confirm_email_change(&user(), raw.encode().expose(), Requester::default())
                .await;
            assert_eq!(*notices.lock().unwrap(), [OLD]);
            if expected_ok {
                assert!(result.is_ok());
                assert_eq!(*audited.lock().unwrap(), ["account.email.changed"]);
            } else {
                assert!(matches!(result, Err(EmailChangeError::AddressTaken)));
                assert!(audited.lock().unwrap().is_empty());
            }
        }
    }
}

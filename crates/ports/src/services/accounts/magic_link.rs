//! Passwordless sign-in: a one-time link by mail, which also creates the account of an
//! address that has none.
//!
//! Asking answers the same whatever the address. The link works while password sign-in is
//! locked (so an attacker cannot lock the owner out), never bypasses a second factor, and is
//! used up atomically: of two concurrent uses, one wins.

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::Email;
use wildid_domain::ids::UserId;
use wildid_domain::mail::{InvalidSubject, MailSubject, OutgoingMail};
use wildid_domain::token::{LoginToken, RawToken, TokenPurpose, TokenState};
use wildid_domain::user::User;

use super::{Accounts, LinkRequestError, Requester};
use crate::RepoError;
use crate::random::random_array;
use crate::services::email_rekey::Located;

/// Why a sign-in link was refused.
#[derive(Debug, thiserror::Error)]
pub enum MagicLinkError {
    /// The link is malformed, unknown, used or expired (or its account is deactivated).
    #[error("this link is invalid, has expired or was already used")]
    InvalidLink,
    /// A new account needs the privacy notice accepted first; the link is still unused.
    #[error("accept the privacy notice to create your account")]
    PrivacyNotAccepted,
    /// The account has a second factor: the code must come with the link.
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    /// The second-factor code was wrong; the link is used up (ask for a new one).
    #[error("the code is wrong; ask for a new sign-in link")]
    WrongCode,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
    /// The credential was accepted but the new session could not be kept.
    #[error(transparent)]
    Session(#[from] crate::services::sessions::SessionError),
}

impl From<RepoError> for MagicLinkError {
    fn from(e: RepoError) -> Self {
        MagicLinkError::Unavailable(e.to_string())
    }
}

/// What a sign-in link leads to, found without using it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagicLinkPreview {
    /// An existing account signs in.
    SignIn {
        /// The account also needs its second factor.
        totp: bool,
    },
    /// A new account is created (the privacy notice must be accepted).
    SignUp,
}

impl Accounts {
    /// Sends a one-time sign-in link to `email` (signing up when the address has no account),
    /// voiding the address's earlier sign-in links. Answers `Ok` the same way whatever the
    /// address; deactivated accounts get no mail.
    ///
    /// # Errors
    /// [`LinkRequestError::InvalidEmail`], [`LinkRequestError::RateLimited`] or a
    /// failing dependency.
    pub async fn request_magic_link(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<(), LinkRequestError> {
        let (
            email,
            Located {
                user: existing,
                lookup,
            },
        ) = self.link_request(email, who).await?;
        if existing.as_ref().is_some_and(|u| !u.is_active()) {
            return Ok(());
        }
        let now = self.ports.clock.now();
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| LinkRequestError::Unavailable("no secure randomness".into()))?,
        );
        let address = self
            .ports
            .cipher
            .encrypt(email.as_str().as_bytes())
            .map_err(|e| LinkRequestError::Unavailable(e.to_string()))?;
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::MagicLink,
            lookup,
            &self.policy.tokens,
            now,
        )
        .with_address(address);
        let queued = self.ports.mail.prepare(
            &self
                .magic_link_mail(&email, &raw, &token)
                .map_err(|e| LinkRequestError::Unavailable(e.to_string()))?,
        )?;
        // A new link voids the earlier ones of this address (ASVS 6.6.2: only the newest works).
        let voided = self
            .ports
            .tokens
            .supersede_with_mail(&token, std::slice::from_ref(&queued))
            .await?;
        let actor = existing
            .as_ref()
            .map_or(Actor::Anonymous, |u| Actor::User(u.id()));
        let details = AuditDetails::new()
            .with(
                "kind",
                if existing.is_some() {
                    "sign_in"
                } else {
                    "sign_up"
                },
            )
            .with("earlier_links_voided", voided.to_string());
        self.audit(
            actor,
            Action::MagicLinkIssued,
            existing.map(|u| u.id()),
            details,
            who,
        )
        .await;
        Ok(())
    }

    /// What a sign-in link would do, without using it (for the confirmation page).
    ///
    /// # Errors
    /// [`MagicLinkError::InvalidLink`] for a link that cannot be used.
    pub async fn preview_magic_link(
        &self,
        raw_token: &str,
    ) -> Result<MagicLinkPreview, MagicLinkError> {
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| MagicLinkError::InvalidLink)?;
        let token = self
            .ports
            .tokens
            .get(&raw.hash())
            .await?
            .filter(|t| t.purpose == TokenPurpose::MagicLink);
        let token = token
            .filter(|t| t.state(self.ports.clock.now()) == TokenState::Usable)
            .ok_or(MagicLinkError::InvalidLink)?;
        match self.ports.users.find_by_email(&token.email_lookup).await? {
            Some(user) if user.is_active() => Ok(MagicLinkPreview::SignIn {
                totp: user.has_totp(),
            }),
            Some(_) => Err(MagicLinkError::InvalidLink),
            None => Ok(MagicLinkPreview::SignUp),
        }
    }

    /// Signs in (or up) with a sign-in link: the link is used up atomically (of two concurrent
    /// uses, one wins). It works while password sign-in is locked, so an attacker cannot lock
    /// the owner out; it does not bypass a second factor. A new account needs the privacy
    /// notice accepted, checked before the link is used.
    ///
    /// # Errors
    /// [`MagicLinkError`].
    pub async fn redeem_magic_link(
        &self,
        raw_token: &str,
        accept_privacy: bool,
        totp_code: Option<&str>,
        who: Requester,
    ) -> Result<User, MagicLinkError> {
        let redeemed = self
            .redeem_checked(raw_token, accept_privacy, totp_code, who)
            .await;
        if let Err(MagicLinkError::InvalidLink) = redeemed {
            let reason = self.refusal_reason(raw_token).await;
            self.audit(
                Actor::Anonymous,
                Action::MagicLinkRefused,
                None,
                AuditDetails::new().with("reason", reason),
                who,
            )
            .await;
        }
        redeemed
    }

    /// Why a sign-in link that was refused is no good, for the audit entry: the reasons of
    /// [`Accounts::link_refusal`], with a good link meaning `inactive_account`.
    async fn refusal_reason(&self, raw_token: &str) -> &'static str {
        match self.link_refusal(raw_token, TokenPurpose::MagicLink).await {
            "usable" => "inactive_account",
            reason => reason,
        }
    }

    async fn redeem_checked(
        &self,
        raw_token: &str,
        accept_privacy: bool,
        totp_code: Option<&str>,
        who: Requester,
    ) -> Result<User, MagicLinkError> {
        match self.preview_magic_link(raw_token).await? {
            MagicLinkPreview::SignUp if !accept_privacy => {
                return Err(MagicLinkError::PrivacyNotAccepted);
            }
            MagicLinkPreview::SignIn { totp: true } if totp_code.is_none() => {
                return Err(MagicLinkError::TotpRequired);
            }
            MagicLinkPreview::SignIn { .. } | MagicLinkPreview::SignUp => {}
        }
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| MagicLinkError::InvalidLink)?;
        let now = self.ports.clock.now();
        let token = self
            .ports
            .tokens
            .consume(&raw.hash(), TokenPurpose::MagicLink, now)
            .await?
            .ok_or(MagicLinkError::InvalidLink)?;
        let user = match self.ports.users.find_by_email(&token.email_lookup).await? {
            Some(user) if user.is_active() => user,
            Some(_) => return Err(MagicLinkError::InvalidLink),
            // No account under the link's digest: made now, or found by the link's address
            // under another pepper of the ring.
            None => self.sign_up_by_link(&token, who).await?,
        };
        if !user.is_active() {
            return Err(MagicLinkError::InvalidLink);
        }
        if user.has_totp() {
            let code = totp_code.unwrap_or_default();
            if !self.second_factor_ok(&user, code, who).await? {
                let _ = self.count_failure(&user, "totp", who).await;
                return Err(MagicLinkError::WrongCode);
            }
        }
        let mut user = user;
        // Opening the link proves the address as well as a verification link would.
        if user.verify_email(now) {
            self.ports.users.update(&user).await?;
        }
        self.ports.users.record_login(user.id(), now, None).await?;
        self.audit(
            Actor::User(user.id()),
            Action::MagicLinkUsed,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        self.audit(
            Actor::User(user.id()),
            Action::LoginSucceeded,
            Some(user.id()),
            AuditDetails::new().with("method", "magic_link"),
            who,
        )
        .await;
        user.record_sign_in(self.policy.lockout.after_success(), now);
        Ok(user)
    }

    /// Creates the account of a sign-in link's address (no password; opening the link proved
    /// the address). The link carries the address, encrypted; the account is looked up by it
    /// under every pepper of the ring first (a link sent before a pepper rotation carries the
    /// older digest), and created under the current pepper's digest.
    async fn sign_up_by_link(
        &self,
        token: &LoginToken,
        who: Requester,
    ) -> Result<User, MagicLinkError> {
        let encrypted = token
            .email_encrypted
            .clone()
            .ok_or(MagicLinkError::InvalidLink)?;
        let email = self
            .ports
            .cipher
            .decrypt(&encrypted)
            .ok()
            .and_then(|plain| String::from_utf8(plain.expose().clone()).ok())
            .and_then(|text| Email::parse(&text).ok())
            .ok_or(MagicLinkError::InvalidLink)?;
        let Located { user, lookup } = self.locate(&email).await?;
        if let Some(user) = user {
            return Ok(user);
        }
        let now = self.ports.clock.now();
        let id = UserId::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| MagicLinkError::Unavailable("no secure randomness".into()))?,
        );
        let mut user = User::new(id, lookup, encrypted, now);
        user.verify_email(now);
        match self.ports.users.insert(&user).await {
            Ok(()) => {}
            // Created concurrently by another link of the same address: use that account.
            Err(RepoError::Duplicate) => {
                return self
                    .locate(&email)
                    .await?
                    .user
                    .ok_or(MagicLinkError::InvalidLink);
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Actor::User(id),
            Action::UserRegistered,
            Some(id),
            AuditDetails::new().with("method", "magic_link"),
            who,
        )
        .await;
        Ok(user)
    }

    fn magic_link_mail(
        &self,
        to: &Email,
        raw: &RawToken,
        token: &LoginToken,
    ) -> Result<OutgoingMail, InvalidSubject> {
        let link = self.links.magic_link.with_token(raw);
        let text = format!(
            "Hello,\n\nhere is your link to sign in to WildID:\n\n{link}\n\n\
             It works once and expires on {} UTC (in {}).\n\
             If you did not ask for it, ignore this message: nobody can sign in without the link.\n\n\
             WildID\n",
            token.expires_at.format("%Y-%m-%d %H:%M"),
            self.policy.tokens.lifetime_text(TokenPurpose::MagicLink),
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Your sign-in link for WildID")?,
            text_body: text,
            html_body: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::services::accounts::test_world::{accounts, opened, user_of, world};

    #[tokio::test]
    async fn a_link_goes_to_any_address_and_leads_to_the_named_page() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| Ok(None));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&sent);
        w.tokens
            .expect_supersede_with_mail()
            .times(1)
            .returning(move |token, mails| {
                seen.lock()
                    .unwrap()
                    .push((token.clone(), opened(&mails[0])));
                Ok(2)
            });
        let audited = Arc::clone(&w.audited);
        accounts(w)
            .request_magic_link("new.one@example.org", Requester::default())
            .await
            .unwrap();
        let sent = sent.lock().unwrap();
        let (token, (to, text)) = &sent[0];
        assert_eq!(token.purpose, TokenPurpose::MagicLink);
        assert!(
            token.email_encrypted.is_some(),
            "a sign-up link carries its address"
        );
        assert_eq!(to, "new.one@example.org");
        assert!(
            text.contains("https://wildid.example.org/link?token="),
            "{text}"
        );
        assert_eq!(*audited.lock().unwrap(), ["auth.magic_link.issued"]);
    }

    #[tokio::test]
    async fn counters_that_cannot_be_kept_stop_the_mail_and_say_unavailable_not_too_many() {
        let mut w = world();
        w.counters_fail = true;
        // No expectation on the users, tokens or outbox: nothing is looked up or sent.
        let refused = accounts(w)
            .request_magic_link("someone@example.org", Requester::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, LinkRequestError::Unavailable(why) if why.contains("disk is full")),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_deactivated_account_gets_no_link_and_the_same_answer() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| {
            let mut user = user_of("gone@example.org", 2);
            user.deactivate();
            Ok(Some(user))
        });
        // No expectation on the token repository: a link would panic.
        accounts(w)
            .request_magic_link("gone@example.org", Requester::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_sign_up_link_without_the_privacy_notice_is_refused_and_stays_usable() {
        let raw = RawToken::from_random([9; 32]);
        let mut w = world();
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::MagicLink,
            crate::services::accounts::test_world::lookup("new.one@example.org"),
            &wildid_domain::token::TokenPolicy::default(),
            chrono::Utc::now(),
        );
        w.tokens
            .expect_get()
            .returning(move |_| Ok(Some(token.clone())));
        w.users.expect_find_by_email().returning(|_| Ok(None));
        // No expectation on consume: using the link up would panic.
        let refused = accounts(w)
            .redeem_magic_link(raw.encode().expose(), false, None, Requester::default())
            .await;
        assert!(matches!(refused, Err(MagicLinkError::PrivacyNotAccepted)));
    }

    #[tokio::test]
    async fn refused_links_are_audited_with_why_and_nothing_else_changes() {
        let policy = wildid_domain::token::TokenPolicy::default();
        let issued = |n: u8, at| {
            let raw = RawToken::from_random([n; 32]);
            let token = LoginToken::issue(
                raw.hash(),
                TokenPurpose::MagicLink,
                crate::services::accounts::test_world::lookup("ada@example.org"),
                &policy,
                at,
            );
            (raw.encode().expose().to_owned(), token)
        };
        let (expired_raw, expired) = issued(1, chrono::Utc::now() - chrono::Duration::days(2));
        let (used_raw, mut used) = issued(2, chrono::Utc::now());
        used.used_at = Some(chrono::Utc::now());
        let unknown_raw = RawToken::from_random([3; 32]).encode().expose().to_owned();
        let known = [expired, used];
        let mut w = world();
        w.tokens
            .expect_get()
            .returning(move |hash| Ok(known.iter().find(|t| t.hash == *hash).cloned()));
        // No expectation on consume or on the users: a refused link reaches neither.
        let audited = Arc::clone(&w.audited);
        let accounts = accounts(w);
        for raw in [
            expired_raw.as_str(),
            used_raw.as_str(),
            unknown_raw.as_str(),
            "not a link",
        ] {
            let refused = accounts
                .redeem_magic_link(raw, true, None, Requester::default())
                .await;
            assert!(matches!(refused, Err(MagicLinkError::InvalidLink)), "{raw}");
        }
        assert_eq!(*audited.lock().unwrap(), ["auth.magic_link.refused"; 4]);
        assert_eq!(accounts.refusal_reason(&expired_raw).await, "expired");
        assert_eq!(accounts.refusal_reason(&used_raw).await, "used");
        assert_eq!(accounts.refusal_reason(&unknown_raw).await, "unknown");
        assert_eq!(accounts.refusal_reason("not a link").await, "malformed");
    }
}

//! An admin appointed from the server's shell (`wildid admin create --email`): on a fresh
//! install nobody can reach the admin console yet, so the operator, who holds the database
//! and the keys anyway, creates the account and hands its owner a one-time sign-in link.
//!
//! The link is the ordinary sign-in link (same lifetime, used up atomically, voiding the
//! address's earlier ones), returned instead of mailed: a fresh install often has no mail
//! transport yet. Opening it proves the address; the admin pages then ask for a second factor
//! before anything else, as for every admin.

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::ids::UserId;
use wildid_domain::role::Role;
use wildid_domain::token::{LoginToken, RawToken, TokenPurpose};
use wildid_domain::user::User;

use super::{Accounts, Requester};
use crate::RepoError;
use crate::random::random_array;
use crate::services::email_rekey::Located;

/// A sign-in link for an admin, to hand over by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminLink {
    /// The page that uses the link, with its token (a secret: show it to the operator only).
    pub url: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Whether the account was created now (`false`: an admin account that existed).
    pub created: bool,
}

/// Why no admin link was made. Nothing is stored then.
#[derive(Debug, thiserror::Error)]
pub enum AdminLinkError {
    /// The address is malformed.
    #[error("the address is not valid: {0}")]
    InvalidEmail(#[from] EmailError),
    /// The address belongs to an account of another role: appointing it is a role change
    /// (`wildid users set-role`), which also ends its sessions.
    #[error(
        "that address has a {0} account; make it an admin with `wildid users set-role EMAIL admin`"
    )]
    NotAnAdmin(Role),
    /// The address belongs to a deactivated account.
    #[error("that address has a deactivated account; reactivate it first")]
    Deactivated,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for AdminLinkError {
    fn from(e: RepoError) -> Self {
        AdminLinkError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Creates an admin account for `email` (no password; the address is proven when the link
    /// is opened) and returns a one-time sign-in link for it. For an address whose account is
    /// an admin already (say the first link expired unused), only a new link is made. The
    /// account's earlier sign-in links stop working. Audited with the system as actor; the
    /// link itself is never logged.
    ///
    /// # Errors
    /// [`AdminLinkError`]; nothing is stored then (except that, when the link cannot be stored
    /// after the account was created, the account stays and running the command again makes
    /// the link).
    pub async fn admin_sign_in_link(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<AdminLink, AdminLinkError> {
        let email = Email::parse(email)?;
        let Located { user, lookup } = self.locate(&email).await?;
        let now = self.ports.clock.now();
        let (user, created) = match user {
            Some(user) if !user.is_active() => return Err(AdminLinkError::Deactivated),
            Some(user) if user.role() != Role::Admin => {
                return Err(AdminLinkError::NotAnAdmin(user.role()));
            }
            Some(user) => (user, false),
            None => (self.new_admin(&email, who).await?, true),
        };
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| AdminLinkError::Unavailable("no secure randomness".into()))?,
        );
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::MagicLink,
            lookup,
            &self.policy.tokens,
            now,
        );
        let voided = self.ports.tokens.supersede_with_mail(&token, &[]).await?;
        self.audit(
            Actor::System,
            Action::MagicLinkIssued,
            Some(user.id()),
            AuditDetails::new()
                .with("kind", "admin_by_operator")
                .with("earlier_links_voided", voided.to_string()),
            who,
        )
        .await;
        Ok(AdminLink {
            url: self.links.magic_link.with_token(&raw),
            expires_at: token.expires_at,
            created,
        })
    }

    /// Stores a new active admin account for `email`.
    async fn new_admin(&self, email: &Email, who: Requester) -> Result<User, AdminLinkError> {
        let now = self.ports.clock.now();
        let id = UserId::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| AdminLinkError::Unavailable("no secure randomness".into()))?,
        );
        let encrypted = self
            .ports
            .cipher
            .encrypt(email.as_str().as_bytes())
            .map_err(|e| AdminLinkError::Unavailable(e.to_string()))?;
        let mut user = User::new(id, self.ports.email_index.lookup(email), encrypted, now);
        user.set_role(Role::Admin);
        self.ports.users.insert(&user).await?;
        self.audit(
            Actor::System,
            Action::UserRegistered,
            Some(id),
            AuditDetails::new()
                .with("method", "operator")
                .with("role", Role::Admin.as_str()),
            who,
        )
        .await;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::services::accounts::test_world::{SITE, accounts, user_of, world};

    #[tokio::test]
    async fn a_new_address_becomes_an_admin_account_with_a_link_that_is_not_mailed() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| Ok(None));
        let stored = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&stored);
        w.users.expect_insert().times(1).returning(move |user| {
            keep.lock().unwrap().push(user.clone());
            Ok(())
        });
        let issued = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&issued);
        w.tokens
            .expect_supersede_with_mail()
            .times(1)
            .returning(move |token, mails| {
                assert!(mails.is_empty(), "the link is handed over, not mailed");
                seen.lock().unwrap().push(token.clone());
                Ok(0)
            });
        let audited = Arc::clone(&w.audited);
        let link = accounts(w)
            .admin_sign_in_link(" First.Admin@Example.org ", Requester::default())
            .await
            .unwrap();
        let user = stored.lock().unwrap()[0].clone();
        assert_eq!(user.role(), Role::Admin);
        assert!(user.is_active() && user.password_hash().is_none());
        assert_eq!(
            user.email_verified_at(),
            None,
            "the link proves the address"
        );
        let token = issued.lock().unwrap()[0].clone();
        assert_eq!(token.purpose, TokenPurpose::MagicLink);
        assert_eq!(token.email_lookup, user.email_lookup());
        assert!(link.created);
        assert_eq!(link.expires_at, token.expires_at);
        let raw = link
            .url
            .strip_prefix(&format!("{SITE}/link?token="))
            .expect("the sign-in link page");
        assert_eq!(RawToken::parse(raw).unwrap().hash(), token.hash);
        assert_eq!(
            *audited.lock().unwrap(),
            ["user.registered", "auth.magic_link.issued"]
        );
    }

    #[tokio::test]
    async fn an_admin_account_gets_a_new_link_and_no_second_account() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| {
            let mut admin = user_of("first.admin@example.org", 1);
            admin.set_role(Role::Admin);
            Ok(Some(admin))
        });
        // No expectation on insert: a second account would panic.
        w.tokens
            .expect_supersede_with_mail()
            .times(1)
            .returning(|_, _| Ok(1));
        let link = accounts(w)
            .admin_sign_in_link("first.admin@example.org", Requester::default())
            .await
            .unwrap();
        assert!(!link.created);
    }

    #[tokio::test]
    async fn other_accounts_and_bad_addresses_are_refused_and_nothing_is_stored() {
        for (address, state) in [
            ("visitor@example.org", "visitor"),
            ("gone@example.org", "deactivated"),
            ("not an address", "none"),
        ] {
            let mut w = world();
            let state = state.to_owned();
            w.users.expect_find_by_email().returning(move |_| {
                let mut user = user_of("someone@example.org", 3);
                if state == "deactivated" {
                    user.set_role(Role::Admin);
                    user.deactivate();
                }
                Ok(Some(user))
            });
            // No expectation on insert or on the tokens: storing anything would panic.
            let refused = accounts(w)
                .admin_sign_in_link(address, Requester::default())
                .await
                .unwrap_err();
            match address {
                "visitor@example.org" => {
                    assert!(matches!(refused, AdminLinkError::NotAnAdmin(Role::Visitor)));
                    assert!(refused.to_string().contains("wildid users set-role"));
                }
                "gone@example.org" => assert!(matches!(refused, AdminLinkError::Deactivated)),
                _ => assert!(matches!(refused, AdminLinkError::InvalidEmail(_))),
            }
        }
    }
}

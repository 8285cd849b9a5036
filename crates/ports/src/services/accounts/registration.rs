//! Creating an account with a password.
//!
//! Registering a taken address queues a notice to its owner and answers like a new one, with
//! the same hashing work, so the answer never tells whether the address has an account. The
//! account starts unverified; the verification link goes out in the same transaction that
//! stores it (see [`super::verification`]).

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::ids::UserId;
use wildid_domain::mail::{InvalidSubject, MailSubject, OutgoingMail};
use wildid_domain::password::PasswordProblem;
use wildid_domain::secret::SecretString;
use wildid_domain::user::User;

use super::{Accounts, Requester, related_words};
use crate::RepoError;
use crate::random::random_array;
use crate::services::mail::MailQueueError;

/// A registration form.
pub struct Registration {
    /// The address as typed.
    pub email: String,
    /// The chosen password.
    pub password: SecretString,
    /// The privacy notice was accepted.
    pub accept_privacy: bool,
}

/// Why a registration was refused. Nothing here says whether the address has an account.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The privacy notice must be accepted.
    #[error("accept the privacy notice to create an account")]
    PrivacyNotAccepted,
    /// The address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// The password breaks the policy.
    #[error("{0}")]
    WeakPassword(#[from] PasswordProblem),
    /// Too many messages requested.
    #[error("too many requests")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for RegisterError {
    fn from(e: RepoError) -> Self {
        RegisterError::Unavailable(e.to_string())
    }
}

impl From<MailQueueError> for RegisterError {
    fn from(e: MailQueueError) -> Self {
        RegisterError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Creates an account (unverified) and sends the verification link; or, when the address
    /// has an account already, sends its owner a notice. Both answer `Ok`.
    ///
    /// # Errors
    /// [`RegisterError`] for bad input, throttling or a failing dependency; nothing is stored.
    pub async fn register(&self, form: Registration, who: Requester) -> Result<(), RegisterError> {
        if !form.accept_privacy {
            return Err(RegisterError::PrivacyNotAccepted);
        }
        let email = Email::parse(&form.email)?;
        self.policy.password.check_shape(&form.password, &email)?;
        let related = related_words(&email);
        self.policy
            .password
            .check_score(self.ports.strength.score(&form.password, &related))?;
        let lookup = self.ports.email_index.lookup(&email);
        self.throttle_mail(lookup.as_bytes(), who)
            .await?
            .map_err(|retry_after| RegisterError::RateLimited { retry_after })?;
        // Same work on both paths: the hash is computed whether or not the address is taken.
        let hash = self
            .ports
            .hasher
            .hash(&form.password)
            .await
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let now = self.ports.clock.now();
        if let Some(existing) = self.locate(&email).await?.user {
            self.ports
                .mail
                .enqueue(
                    &self
                        .existing_account_notice(&email)
                        .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
                )
                .await?;
            self.audit(
                Actor::Anonymous,
                Action::RegisterExistingAddress,
                Some(existing.id()),
                AuditDetails::new(),
                who,
            )
            .await;
            return Ok(());
        }
        let id = UserId::from_random(
            random_array(self.ports.random.as_ref()).map_err(|_| no_randomness())?,
        );
        let encrypted = self
            .ports
            .cipher
            .encrypt(email.as_str().as_bytes())
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let mut user = User::new(id, lookup, encrypted, now);
        user.set_password(hash);
        let (token, queued) = self
            .verification_link(&email, lookup, now)
            .map_err(RegisterError::Unavailable)?;
        match self
            .ports
            .users
            .insert_with_token(&user, &token, &queued)
            .await
        {
            Ok(()) => {}
            // Registered concurrently under the same address: answer as for a taken address.
            Err(RepoError::Duplicate) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Actor::User(id),
            Action::UserRegistered,
            Some(id),
            AuditDetails::new().with("method", "password"),
            who,
        )
        .await;
        Ok(())
    }

    fn existing_account_notice(&self, to: &Email) -> Result<OutgoingMail, InvalidSubject> {
        let text = format!(
            "Hello,\n\nsomeone (perhaps you) tried to create a WildID account with this address, which already has one.\n\n\
             To sign in, go to {}. You can also ask for a one-time sign-in link there.\n\
             If it was not you, you can ignore this message: nothing was changed.\n\nWildID\n",
            self.links.sign_in
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Your WildID account")?,
            text_body: text,
            html_body: None,
        })
    }
}

fn no_randomness() -> RegisterError {
    RegisterError::Unavailable("no secure randomness".into())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::password::PasswordCheck;
    use crate::services::accounts::test_world::{accounts, opened, user_of, world};
    use wildid_domain::token::{RawToken, TokenPurpose};
    use wildid_domain::user::PasswordHash;

    fn form(email: &str, accept_privacy: bool) -> Registration {
        Registration {
            email: email.into(),
            password: SecretString::new("otter gravel lantern".into()),
            accept_privacy,
        }
    }

    fn strong(w: &mut crate::services::accounts::test_world::World) {
        w.strength.expect_score().returning(|_, _| 4);
        w.hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("$argon2id$v=19$test".into())));
        w.hasher
            .expect_verify()
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
    }

    #[tokio::test]
    async fn refusals_store_nothing_and_send_nothing() {
        // No expectation on any repository: storing or sending would panic.
        let mut w = world();
        w.strength.expect_score().returning(|_, _| 0);
        let accounts = accounts(w);
        let who = Requester::default();
        let refused = accounts.register(form("ada@example.org", false), who).await;
        assert!(matches!(refused, Err(RegisterError::PrivacyNotAccepted)));
        let refused = accounts.register(form("not an address", true), who).await;
        assert!(matches!(refused, Err(RegisterError::InvalidEmail(_))));
        let refused = accounts.register(form("ada@example.org", true), who).await;
        assert!(matches!(refused, Err(RegisterError::WeakPassword(_))));
    }

    #[tokio::test]
    async fn a_new_address_is_stored_with_its_verification_link_in_one_step() {
        let mut w = world();
        strong(&mut w);
        w.users.expect_find_by_email().returning(|_| Ok(None));
        let stored = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&stored);
        w.users
            .expect_insert_with_token()
            .times(1)
            .returning(move |user, token, mail| {
                seen.lock()
                    .unwrap()
                    .push((user.clone(), token.clone(), opened(mail)));
                Ok(())
            });
        let audited = Arc::clone(&w.audited);
        accounts(w)
            .register(form("ada@example.org", true), Requester::default())
            .await
            .unwrap();
        let stored = stored.lock().unwrap();
        let (user, token, (to, text)) = &stored[0];
        assert!(user.password_hash().is_some() && user.email_verified_at().is_none());
        assert_eq!(token.purpose, TokenPurpose::EmailVerification);
        assert_eq!(token.email_lookup, user.email_lookup());
        assert_eq!(to, "ada@example.org");
        // The link leads to the page the HTTP adapter named, with the token whose hash is kept.
        let link = text
            .split_whitespace()
            .find(|w| w.starts_with("https://wildid.example.org/confirm-address?token="))
            .expect("a link to the verification page");
        let raw = RawToken::parse(link.rsplit('=').next().unwrap()).unwrap();
        assert!(raw.hash().ct_eq(&token.hash));
        assert_eq!(*audited.lock().unwrap(), ["user.registered"]);
    }

    #[tokio::test]
    async fn a_taken_address_answers_the_same_and_tells_its_owner() {
        let mut w = world();
        strong(&mut w);
        w.users
            .expect_find_by_email()
            .returning(|_| Ok(Some(user_of("ada@example.org", 1))));
        let told = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&told);
        w.outbox.expect_enqueue().times(1).returning(move |mail| {
            seen.lock().unwrap().push(opened(mail));
            Ok(())
        });
        let audited = Arc::clone(&w.audited);
        // No insert expected: a second account would panic.
        accounts(w)
            .register(form("ada@example.org", true), Requester::default())
            .await
            .unwrap();
        let told = told.lock().unwrap();
        assert_eq!(told[0].0, "ada@example.org");
        assert!(
            told[0].1.contains("https://wildid.example.org/enter"),
            "{}",
            told[0].1
        );
        assert_eq!(*audited.lock().unwrap(), ["auth.register.existing_address"]);
    }
}

//! Signing in with a password, and confirming it is still the same person before a
//! sensitive change (re-authentication).
//!
//! An unknown address behaves like an account: the same hashing work, and "locked" after as
//! many failures, so the answers never tell whether the address has an account. Failures
//! count toward the account's lockout with a compare-and-swap, so concurrent failures all
//! count.

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::lockout::FailureOutcome;
use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::secret::SecretString;
use wildid_domain::user::User;

use super::{Accounts, Requester};
use crate::RepoError;
use crate::password::PasswordCheck;
use crate::services::email_rekey::Located;

/// Sign-in credentials.
pub struct Credentials {
    /// The address as typed (any case, surrounding spaces allowed).
    pub email: String,
    /// The password.
    pub password: SecretString,
    /// The second-factor code, when the account has one.
    pub totp_code: Option<String>,
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// Longer than any password could be.
    #[error("the password is longer than {max} characters")]
    PasswordTooLong {
        /// The limit.
        max: usize,
    },
    /// Too many attempts from this client address.
    #[error("too many sign-in attempts")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// Wrong address or password (never says which).
    #[error("the email address or password is wrong")]
    InvalidCredentials,
    /// Too many failures: password sign-in is locked for a while (a sign-in link still works).
    #[error("too many failed attempts")]
    Locked {
        /// When password sign-in opens again.
        until: Timestamp,
    },
    /// The password is right but the address was never confirmed.
    #[error("confirm your email address first")]
    EmailNotVerified,
    /// The account has a second factor: ask for the code.
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
    /// The credential was accepted but the new session could not be kept.
    #[error(transparent)]
    Session(#[from] crate::services::sessions::SessionError),
}

impl From<RepoError> for LoginError {
    fn from(e: RepoError) -> Self {
        LoginError::Unavailable(e.to_string())
    }
}

/// Why a re-authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    /// The password or the code is wrong (never says which).
    #[error("the password or code is wrong")]
    WrongCredentials,
    /// Too many failures: locked for a while.
    #[error("too many failed attempts")]
    Locked {
        /// When it opens again.
        until: Timestamp,
    },
    /// The account has a second factor: the code must come with the password.
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
    /// The credential was accepted but the new session could not be kept.
    #[error(transparent)]
    Session(#[from] crate::services::sessions::SessionError),
}

impl From<RepoError> for ReauthError {
    fn from(e: RepoError) -> Self {
        ReauthError::Unavailable(e.to_string())
    }
}

/// What a counted failure answers.
pub(super) enum Failure {
    /// Counted; not locked (yet).
    Wrong,
    /// Locked until then.
    Locked(Timestamp),
    /// The counter could not be kept.
    Unavailable(String),
}

impl From<Failure> for LoginError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Wrong => LoginError::InvalidCredentials,
            Failure::Locked(until) => LoginError::Locked { until },
            Failure::Unavailable(cause) => LoginError::Unavailable(cause),
        }
    }
}

impl From<Failure> for ReauthError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Wrong => ReauthError::WrongCredentials,
            Failure::Locked(until) => ReauthError::Locked { until },
            Failure::Unavailable(cause) => ReauthError::Unavailable(cause),
        }
    }
}

impl Accounts {
    /// Password sign-in. Returns the (active, verified) user on success; the caller starts the
    /// session.
    ///
    /// # Errors
    /// [`LoginError`]; its variants never tell whether the address has an account, except
    /// that a right password on an unverified account is told so, with a way to resend.
    pub async fn login(
        &self,
        credentials: Credentials,
        who: Requester,
    ) -> Result<User, LoginError> {
        if let Some(ip) = who.ip {
            let key = self
                .ports
                .digest
                .digest("login-ip", ip.to_string().as_bytes());
            let now = self.ports.clock.now();
            if let RateDecision::Limited { retry_after } = self
                .ports
                .rate_limits
                .hit(&key, &self.policy.login_per_ip, now)
                .await?
            {
                tracing::warn!("sign-in attempts throttled for a client address");
                return Err(LoginError::RateLimited {
                    retry_after: retry_after.num_seconds(),
                });
            }
        }
        let email = Email::parse(&credentials.email)?;
        if credentials.password.expose().chars().count() > self.policy.password.max_chars() {
            return Err(LoginError::PasswordTooLong {
                max: self.policy.password.max_chars(),
            });
        }
        let Located { user, lookup } = self.locate(&email).await?;
        let Some(user) = user else {
            return Err(self
                .unknown_account_failure(lookup.as_bytes(), &credentials.password, who)
                .await
                .into());
        };
        let now = self.ports.clock.now();
        if let Some(until) = self.policy.lockout.locked_until(&user.lockout(), now) {
            self.audit(
                Actor::User(user.id()),
                Action::LoginRefusedLocked,
                Some(user.id()),
                AuditDetails::new(),
                who,
            )
            .await;
            return Err(LoginError::Locked { until });
        }
        let check = self
            .ports
            .hasher
            .verify(&credentials.password, user.password_hash().cloned())
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))?;
        let needs_rehash = match check {
            PasswordCheck::Match { needs_rehash } if user.is_active() => needs_rehash,
            PasswordCheck::Match { .. } | PasswordCheck::Mismatch => {
                return Err(self.count_failure(&user, "password", who).await.into());
            }
        };
        if user.email_verified_at().is_none() {
            self.audit(
                Actor::User(user.id()),
                Action::LoginRefusedUnverified,
                Some(user.id()),
                AuditDetails::new(),
                who,
            )
            .await;
            return Err(LoginError::EmailNotVerified);
        }
        if user.has_totp() {
            let Some(code) = credentials.totp_code.as_deref() else {
                return Err(LoginError::TotpRequired);
            };
            if !self.second_factor_ok(&user, code, who).await? {
                return Err(self.count_failure(&user, "totp", who).await.into());
            }
        }
        let rehash = if needs_rehash {
            self.ports.hasher.hash(&credentials.password).await.ok()
        } else {
            None
        };
        self.ports
            .users
            .record_login(user.id(), now, rehash)
            .await?;
        self.audit(
            Actor::User(user.id()),
            Action::LoginSucceeded,
            Some(user.id()),
            AuditDetails::new().with("method", "password"),
            who,
        )
        .await;
        let mut user = user;
        user.record_sign_in(self.policy.lockout.after_success(), now);
        Ok(user)
    }

    /// Confirms that the signed-in `user` is at the keyboard (before a sensitive change):
    /// the password, and the second factor when enrolled. Failures count toward the lockout.
    ///
    /// # Errors
    /// [`ReauthError`].
    pub async fn reauthenticate(
        &self,
        user: &User,
        password: &SecretString,
        totp_code: Option<&str>,
        who: Requester,
    ) -> Result<(), ReauthError> {
        let now = self.ports.clock.now();
        if let Some(until) = self.policy.lockout.locked_until(&user.lockout(), now) {
            return Err(ReauthError::Locked { until });
        }
        let check = self
            .ports
            .hasher
            .verify(password, user.password_hash().cloned())
            .await
            .map_err(|e| ReauthError::Unavailable(e.to_string()))?;
        if check == PasswordCheck::Mismatch {
            return Err(self.count_failure(user, "password", who).await.into());
        }
        if user.has_totp() {
            let Some(code) = totp_code else {
                return Err(ReauthError::TotpRequired);
            };
            if !self.second_factor_ok(user, code, who).await? {
                return Err(self.count_failure(user, "totp", who).await.into());
            }
        }
        self.audit(
            Actor::User(user.id()),
            Action::Reauthenticated,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Counts a failed attempt on a real account (compare-and-swap, so concurrent failures
    /// all count) and returns what to answer.
    pub(super) async fn count_failure(&self, user: &User, factor: &str, who: Requester) -> Failure {
        let mut current = user.lockout();
        loop {
            let now = self.ports.clock.now();
            let (next, outcome) = self.policy.lockout.after_failure(&current, now);
            match self
                .ports
                .users
                .swap_lockout(user.id(), current, next)
                .await
            {
                Ok(true) => {
                    self.audit(
                        Actor::User(user.id()),
                        Action::LoginFailed,
                        Some(user.id()),
                        AuditDetails::new().with("factor", factor),
                        who,
                    )
                    .await;
                    return match outcome {
                        FailureOutcome::Counted { .. } => Failure::Wrong,
                        FailureOutcome::Locked(until) => {
                            self.audit(
                                Actor::User(user.id()),
                                Action::Lockout,
                                Some(user.id()),
                                AuditDetails::new(),
                                who,
                            )
                            .await;
                            Failure::Locked(until)
                        }
                        FailureOutcome::AlreadyLocked(until) => Failure::Locked(until),
                    };
                }
                Ok(false) => match self.ports.users.get(user.id()).await {
                    Ok(fresh) => current = fresh.lockout(),
                    Err(e) => return Failure::Unavailable(e.to_string()),
                },
                Err(e) => return Failure::Unavailable(e.to_string()),
            }
        }
    }

    /// An unknown address behaves like an account: a dummy verification, and "locked" after
    /// as many failures.
    async fn unknown_account_failure(
        &self,
        lookup: &[u8; 32],
        password: &SecretString,
        who: Requester,
    ) -> Failure {
        let now = self.ports.clock.now();
        let limit = match RateLimit::new(
            self.policy.lockout.max_failures().saturating_sub(1).max(1),
            self.policy.lockout.lock_for(),
        ) {
            Ok(limit) => limit,
            Err(e) => return Failure::Unavailable(e.to_string()),
        };
        let key = self.ports.digest.digest("login-fail-unknown", lookup);
        let decision = match self.ports.rate_limits.hit(&key, &limit, now).await {
            Ok(d) => d,
            Err(e) => return Failure::Unavailable(e.to_string()),
        };
        self.audit(
            Actor::Anonymous,
            Action::LoginFailed,
            None,
            AuditDetails::new().with("factor", "password"),
            who,
        )
        .await;
        match decision {
            RateDecision::Limited { retry_after } => Failure::Locked(now + retry_after),
            RateDecision::Allowed { .. } => {
                let _ = self.ports.hasher.verify(password, None).await;
                Failure::Wrong
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::services::accounts::test_world::{accounts, world};
    use wildid_domain::user::PasswordHash;

    fn credentials(email: &str) -> Credentials {
        Credentials {
            email: email.into(),
            password: SecretString::new("not the password".into()),
            totp_code: None,
        }
    }

    #[tokio::test]
    async fn an_unknown_address_spends_a_dummy_verification_and_answers_as_a_wrong_password() {
        let mut w = world();
        w.users.expect_find_by_email().returning(|_| Ok(None));
        let verified = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&verified);
        w.hasher
            .expect_verify()
            .times(1)
            .returning(move |_, stored| {
                seen.lock().unwrap().push(stored.is_none());
                Ok(PasswordCheck::Mismatch)
            });
        let audited = Arc::clone(&w.audited);
        let refused = accounts(w)
            .login(credentials("nobody@example.org"), Requester::default())
            .await;
        assert!(matches!(refused, Err(LoginError::InvalidCredentials)));
        assert_eq!(
            *verified.lock().unwrap(),
            [true],
            "the dummy hash was verified"
        );
        assert_eq!(*audited.lock().unwrap(), ["auth.login.failed"]);
    }

    #[tokio::test]
    async fn a_wrong_password_at_re_authentication_counts_toward_the_lockout() {
        let mut w = world();
        w.hasher
            .expect_verify()
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
        w.users
            .expect_swap_lockout()
            .times(1)
            .returning(|_, _, _| Ok(true));
        let mut user = crate::services::accounts::test_world::user_of("ada@example.org", 1);
        user.set_password(PasswordHash::new("$argon2id$x".into()));
        let refused = accounts(w)
            .reauthenticate(
                &user,
                &SecretString::new("wrong".into()),
                None,
                Requester::default(),
            )
            .await;
        assert!(matches!(refused, Err(ReauthError::WrongCredentials)));
    }

    #[tokio::test]
    async fn an_overlong_password_is_refused_before_any_lookup() {
        let mut typed = credentials("ada@example.org");
        typed.password = SecretString::new("x".repeat(10_000));
        // No expectation on the user repository or the hasher: asking would panic.
        let refused = accounts(world()).login(typed, Requester::default()).await;
        assert!(matches!(refused, Err(LoginError::PasswordTooLong { .. })));
    }
}

//! Finishing a sign-in: a credential the account flows accepted becomes a session.
//!
//! Every way in (a password, a sign-in link, re-authentication before a sensitive change, the
//! session refreshed after a credential changed) ends the same way: the account flow checks
//! the credential, records the sign-in and writes its audit entry; then the session id that
//! came with the request is replaced by a new one (so an id planted before the sign-in is
//! worth nothing after it), keeping the request-limit trust the browser earned. [`SignIns`]
//! does both steps, so no adapter can check a credential and forget to rotate the session; the
//! adapter only hands the new token to the browser.

use wildid_domain::ids::UserId;
use wildid_domain::secret::SecretString;
use wildid_domain::session::Session;
use wildid_domain::user::User;

use super::accounts::{Accounts, Credentials, LoginError, MagicLinkError, ReauthError, Requester};
use super::sessions::{ClientInfo, SessionError, SessionService, Started};

/// Where a sign-in happens: the session that came with the request (replaced by the new one)
/// and the browser it comes from.
#[derive(Debug, Clone)]
pub struct SignInPlace {
    /// The session the request presented, if any; it dies when the new one starts.
    pub current: Option<Session>,
    /// The browser: the new session is bound to its fingerprint.
    pub client: ClientInfo,
    /// The client address and request id the audit entries record.
    pub who: Requester,
}

/// A finished sign-in: the signed-in user and the new session, whose token goes into the
/// browser's cookie and nowhere else.
pub struct SignedIn {
    /// The user as signed in (lockout cleared, last sign-in recorded).
    pub user: User,
    /// The new session and its token.
    pub started: Started,
}

/// The sign-in use case over the account flows and the session store.
#[derive(Clone)]
pub struct SignIns {
    accounts: Accounts,
    sessions: SessionService,
}

impl SignIns {
    /// Sign-ins checked by `accounts`, kept by `sessions`.
    pub fn new(accounts: Accounts, sessions: SessionService) -> Self {
        Self { accounts, sessions }
    }

    /// Signs in with a password (and second factor): see [`Accounts::login`].
    ///
    /// # Errors
    /// [`LoginError`]; [`LoginError::Session`] when the new session cannot be kept (the
    /// sign-in was recorded, the old session is untouched).
    pub async fn with_password(
        &self,
        credentials: Credentials,
        at: &SignInPlace,
    ) -> Result<SignedIn, LoginError> {
        let user = self.accounts.login(credentials, at.who).await?;
        Ok(self.start(user, at).await?)
    }

    /// Signs in (or up) with a sign-in link: see [`Accounts::redeem_magic_link`].
    ///
    /// # Errors
    /// [`MagicLinkError`]; [`MagicLinkError::Session`] when the new session cannot be kept.
    pub async fn with_link(
        &self,
        raw_token: &str,
        accept_privacy: bool,
        totp_code: Option<&str>,
        at: &SignInPlace,
    ) -> Result<SignedIn, MagicLinkError> {
        let user = self
            .accounts
            .redeem_magic_link(raw_token, accept_privacy, totp_code, at.who)
            .await?;
        Ok(self.start(user, at).await?)
    }

    /// Confirms that the signed-in `user` is at the keyboard (see
    /// [`Accounts::reauthenticate`]); the new session counts as freshly authenticated.
    ///
    /// # Errors
    /// [`ReauthError`]; [`ReauthError::Session`] when the new session cannot be kept.
    pub async fn reauthenticate(
        &self,
        user: User,
        password: &SecretString,
        totp_code: Option<&str>,
        at: &SignInPlace,
    ) -> Result<SignedIn, ReauthError> {
        self.accounts
            .reauthenticate(&user, password, totp_code, at.who)
            .await?;
        Ok(self.start(user, at).await?)
    }

    /// After a credential of `user` changed (password, second factor, address): the user is
    /// read again and the session id replaced, as at every change of privilege.
    ///
    /// # Errors
    /// [`SessionError`] when the user cannot be read or the session kept.
    pub async fn refresh(&self, user: UserId, at: &SignInPlace) -> Result<SignedIn, SessionError> {
        let user = self.sessions.reload_user(user).await?;
        self.start(user, at).await
    }

    async fn start(&self, user: User, at: &SignInPlace) -> Result<SignedIn, SessionError> {
        let started = self
            .sessions
            .sign_in(at.current.as_ref(), &user, &at.client)
            .await?;
        Ok(SignedIn { user, started })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use wildid_domain::session::{Fingerprint, SessionPolicy};
    use wildid_domain::trust::TrustState;
    use wildid_domain::user::PasswordHash;

    use super::*;
    use crate::builtin::{OsRandom, SystemClock};
    use crate::clock::Clock;
    use crate::password::PasswordCheck;
    use crate::repo::{MockAuditLog, MockSessionRepository, MockUserRepository};
    use crate::services::accounts::test_world::{World, accounts, user_of, world};
    use crate::services::audit::AuditTrail;
    use crate::services::fixtures::{anonymous_session, session_of};

    /// What the session store was asked to do: (replaced key, new session).
    type Replaced = Arc<Mutex<Vec<(wildid_domain::session::SessionKey, Session)>>>;

    fn place(current: Option<Session>) -> SignInPlace {
        SignInPlace {
            current,
            client: ClientInfo {
                fingerprint: Fingerprint::from_headers("ua", "en", "gzip"),
                coarse_ip: None,
                device: None,
                request_id: None,
                network: None,
            },
            who: Requester::default(),
        }
    }

    /// Sign-ins over `w`, whose session store records replacements; `users` answers
    /// [`SessionService::reload_user`].
    fn sign_ins(w: World, users: MockUserRepository) -> (SignIns, Replaced) {
        let replaced: Replaced = Arc::default();
        let seen = Arc::clone(&replaced);
        let mut store = MockSessionRepository::new();
        store.expect_replace().returning(move |old, new| {
            seen.lock().unwrap().push((*old, new.clone()));
            Ok(())
        });
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .returning(|_| Err(crate::RepoError::Other("not kept in this test".into())));
        let sessions = SessionService::new(
            Arc::new(store),
            Arc::new(users),
            AuditTrail::new(Arc::new(audit)),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
            SessionPolicy::default(),
        );
        (SignIns::new(accounts(w), sessions), replaced)
    }

    fn verified_user(address: &str, n: u8) -> User {
        let mut user = user_of(address, n);
        user.set_password(PasswordHash::new("$argon2id$x".into()));
        user.verify_email(SystemClock.now());
        user
    }

    fn credentials(password: &str) -> Credentials {
        Credentials {
            email: "ada@example.org".into(),
            password: SecretString::new(password.into()),
            totp_code: None,
        }
    }

    #[tokio::test]
    async fn a_password_sign_in_replaces_the_session_and_keeps_its_trust() {
        let mut w = world();
        w.users
            .expect_find_by_email()
            .returning(|_| Ok(Some(verified_user("ada@example.org", 1))));
        w.hasher.expect_verify().returning(|_, _| {
            Ok(PasswordCheck::Match {
                needs_rehash: false,
            })
        });
        w.users
            .expect_record_login()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let audited = Arc::clone(&w.audited);
        let (sign_ins, replaced) = sign_ins(w, MockUserRepository::new());
        let mut before = anonymous_session(9);
        before.set_trust(TrustState {
            request_count: 7,
            is_trusted: true,
            captcha_passed_at: Some(SystemClock.now()),
            ..TrustState::default()
        });

        let signed = sign_ins
            .with_password(credentials("right"), &place(Some(before.clone())))
            .await
            .unwrap();

        let replaced = replaced.lock().unwrap();
        assert_eq!(replaced.len(), 1, "one replacement");
        let (old, new) = &replaced[0];
        assert_eq!(
            *old,
            before.key(),
            "the presented session is the one replaced"
        );
        assert_ne!(new.key(), before.key(), "under a new id");
        assert_eq!(
            signed.started.token.key(),
            new.key(),
            "the token names the new session"
        );
        assert_eq!(new.user_id(), Some(signed.user.id()));
        assert!(new.authenticated_at().is_some());
        assert_eq!(new.trust(), before.trust(), "the earned trust is kept");
        assert_eq!(*audited.lock().unwrap(), ["auth.login.succeeded"]);
    }

    #[tokio::test]
    async fn a_refused_password_touches_no_session() {
        let mut w = world();
        w.users
            .expect_find_by_email()
            .returning(|_| Ok(Some(verified_user("ada@example.org", 1))));
        w.hasher
            .expect_verify()
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
        w.users.expect_swap_lockout().returning(|_, _, _| Ok(true));
        let (sign_ins, replaced) = sign_ins(w, MockUserRepository::new());

        let refused = sign_ins
            .with_password(credentials("wrong"), &place(Some(anonymous_session(9))))
            .await;

        assert!(matches!(refused, Err(LoginError::InvalidCredentials)));
        assert!(replaced.lock().unwrap().is_empty(), "no session replaced");
    }

    #[tokio::test]
    async fn re_authentication_replaces_the_session_only_when_the_password_is_right() {
        let checks = Arc::new(Mutex::new(vec![
            PasswordCheck::Mismatch,
            PasswordCheck::Match {
                needs_rehash: false,
            },
        ]));
        let mut w = world();
        w.hasher
            .expect_verify()
            .returning(move |_, _| Ok(checks.lock().unwrap().remove(0)));
        w.users.expect_swap_lockout().returning(|_, _, _| Ok(true));
        let (sign_ins, replaced) = sign_ins(w, MockUserRepository::new());
        let user = verified_user("ada@example.org", 1);
        let current = session_of(3, user.id());
        let at = place(Some(current));

        let refused = sign_ins
            .reauthenticate(user.clone(), &SecretString::new("wrong".into()), None, &at)
            .await;
        assert!(matches!(refused, Err(ReauthError::WrongCredentials)));
        assert!(replaced.lock().unwrap().is_empty());

        let confirmed = sign_ins
            .reauthenticate(user, &SecretString::new("right".into()), None, &at)
            .await
            .unwrap();
        let replaced = replaced.lock().unwrap();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].1.key(), confirmed.started.session.key());
        assert!(confirmed.started.session.authenticated_at().is_some());
    }

    #[tokio::test]
    async fn a_refresh_reads_the_user_again_and_replaces_the_session() {
        let fresh = verified_user("ada@example.org", 1);
        let id = fresh.id();
        let mut users = MockUserRepository::new();
        let answer = fresh.clone();
        users
            .expect_get()
            .times(1)
            .returning(move |_| Ok(answer.clone()));
        let (sign_ins, replaced) = sign_ins(world(), users);
        let current = session_of(4, id);

        let signed = sign_ins
            .refresh(id, &place(Some(current.clone())))
            .await
            .unwrap();

        assert_eq!(signed.user.id(), id);
        let replaced = replaced.lock().unwrap();
        assert_eq!(replaced[0].0, current.key());
        assert_ne!(replaced[0].1.key(), current.key());
    }
}

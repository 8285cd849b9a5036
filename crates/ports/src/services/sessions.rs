//! Sessions: resuming the cookie's session on every request (fingerprint, timeouts, the user
//! still active), starting anonymous ones when state is needed, rotating the id at sign-in and
//! privilege changes, ending and listing them, and purging expired ones.

mod management;
#[cfg(test)]
mod randomness_tests;
#[cfg(test)]
mod timeout_tests;

use std::sync::Arc;

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord, ClientNetwork, Origin};
use wildid_domain::ids::{RequestId, UserId};
use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::session::{
    CsrfToken, Fingerprint, Session, SessionKey, SessionPolicy, SessionToken, SessionValidity,
};
use wildid_domain::trust::TrustState;
use wildid_domain::user::User;

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::KeyedDigest;
use crate::random::{SecureRandom, random_array};
use crate::repo::{RateLimitStore, SessionRepository, UserRepository};
use crate::services::audit::AuditTrail;

/// Activity is written back at most this often, so a busy user costs one write a minute, not
/// one per request (the idle timeout is accurate to within this interval).
pub const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// What the server knows of the browser making a request.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Digest of its identifying headers.
    pub fingerprint: Fingerprint,
    /// Coarse network, for the sessions page.
    pub coarse_ip: Option<String>,
    /// Browser and OS, for the sessions page.
    pub device: Option<String>,
    /// The request, for audit entries.
    pub request_id: Option<RequestId>,
    /// The client's network as request limits count it (`limits::network_of`), if known.
    pub network: Option<String>,
}

impl ClientInfo {
    /// Where the request came from, for audit entries: its id and the client's coarse
    /// network (`None` outside a request).
    pub fn origin(&self) -> Option<Origin> {
        self.request_id.map(|request| Origin {
            request,
            client: self
                .coarse_ip
                .as_deref()
                .and_then(|network| ClientNetwork::parse(network).ok()),
        })
    }
}

/// The session found for a request.
#[derive(Debug, Clone)]
pub enum Resumed {
    /// No usable session (none presented, unknown, expired, or ended by the rules).
    None,
    /// An anonymous session.
    Anonymous(Session),
    /// A signed-in session and its (active) user, freshly loaded.
    SignedIn(Session, Box<User>),
}

impl Resumed {
    /// The session, if any.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Resumed::None => None,
            Resumed::Anonymous(s) | Resumed::SignedIn(s, _) => Some(s),
        }
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&User> {
        match self {
            Resumed::SignedIn(_, u) => Some(u),
            Resumed::None | Resumed::Anonymous(_) => None,
        }
    }
}

/// A session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store failed.
    #[error("session store: {0}")]
    Store(#[from] RepoError),
    /// No randomness for a new token.
    #[error("no secure randomness for a session token")]
    Random,
    /// This network started too many anonymous sessions lately.
    #[error("too many new sessions from this network")]
    TooMany {
        /// Seconds until a new one may start.
        retry_after: i64,
    },
}

/// A new session and the cookie value that names it.
pub struct Started {
    /// Goes into the cookie, nowhere else.
    pub token: SessionToken,
    /// What was stored.
    pub session: Session,
}

/// The session use cases.
#[derive(Clone)]
pub struct SessionService {
    sessions: Arc<dyn SessionRepository>,
    users: Arc<dyn UserRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    policy: SessionPolicy,
    anonymous_cap: Option<AnonymousCap>,
}

/// At most `limit` new anonymous sessions per client network, counted in `store`.
#[derive(Clone)]
struct AnonymousCap {
    store: Arc<dyn RateLimitStore>,
    digest: Arc<dyn KeyedDigest>,
    limit: RateLimit,
}

impl SessionService {
    /// Over its ports.
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        users: Arc<dyn UserRepository>,
        audit: AuditTrail,
        clock: Arc<dyn Clock>,
        random: Arc<dyn SecureRandom>,
        policy: SessionPolicy,
    ) -> Self {
        Self {
            sessions,
            users,
            audit,
            clock,
            random,
            policy,
            anonymous_cap: None,
        }
    }

    /// Caps the anonymous sessions a client network may start: at most `limit` (counted in
    /// `store`, keyed by `digest`), so a flood of cookie-less requests cannot fill the store.
    #[must_use]
    pub fn with_anonymous_cap(
        mut self,
        store: Arc<dyn RateLimitStore>,
        digest: Arc<dyn KeyedDigest>,
        limit: RateLimit,
    ) -> Self {
        self.anonymous_cap = Some(AnonymousCap {
            store,
            digest,
            limit,
        });
        self
    }

    /// The timeouts.
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// Whether `session` authenticated recently enough for a sensitive change.
    pub fn is_fresh(&self, session: &Session) -> bool {
        self.policy.is_fresh(session, self.clock.now())
    }

    /// Finds the session named by `token` and applies the rules: a different browser
    /// fingerprint, the idle timeout or the absolute lifetime end it (it is deleted); a
    /// signed-in session whose user is gone or deactivated ends too. The user is
    /// reloaded on every call.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn resume(
        &self,
        token: &SessionToken,
        client: &ClientInfo,
    ) -> Result<Resumed, SessionError> {
        let key = token.key();
        let Some(session) = self.sessions.get(&key).await? else {
            return Ok(Resumed::None);
        };
        let now = self.clock.now();
        match self.policy.check(&session, &client.fingerprint, now) {
            SessionValidity::Active => {}
            ended => {
                self.sessions.delete(&key).await?;
                if ended == SessionValidity::FingerprintMismatch {
                    let actor = session.user_id().map_or(Actor::Anonymous, Actor::User);
                    self.audit_event(
                        actor,
                        Action::SessionEnded,
                        "fingerprint_mismatch",
                        &session,
                        client,
                        now,
                    )
                    .await;
                }
                return Ok(Resumed::None);
            }
        }
        let resumed = match session.user_id() {
            None => Resumed::Anonymous(session),
            Some(user_id) => match self.users.get(user_id).await {
                Ok(user) if user.is_active() => Resumed::SignedIn(session, Box::new(user)),
                Ok(_) | Err(RepoError::NotFound) => {
                    self.sessions.delete(&key).await?;
                    self.audit_event(
                        Actor::User(user_id),
                        Action::SessionEnded,
                        "account_inactive",
                        &session,
                        client,
                        now,
                    )
                    .await;
                    return Ok(Resumed::None);
                }
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(session) = resumed.session()
            && (now - session.last_seen_at()).num_seconds() >= TOUCH_INTERVAL_SECONDS
        {
            match self.sessions.touch(&key, now).await {
                Ok(()) | Err(RepoError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(resumed)
    }

    /// Starts an anonymous session (when a page needs a CSRF token or a counter).
    ///
    /// # Errors
    /// [`SessionError::TooMany`] beyond the cap of the client's network (see
    /// [`SessionService::with_anonymous_cap`]); otherwise when no token can be drawn or stored.
    pub async fn start_anonymous(&self, client: &ClientInfo) -> Result<Started, SessionError> {
        if let (Some(cap), Some(network)) = (&self.anonymous_cap, &client.network) {
            let key = cap.digest.digest("anonymous-sessions", network.as_bytes());
            if let RateDecision::Limited { retry_after } =
                cap.store.hit(&key, &cap.limit, self.clock.now()).await?
            {
                tracing::warn!(
                    security_event = "anonymous_session_cap",
                    "too many new sessions from one network"
                );
                return Err(SessionError::TooMany {
                    retry_after: retry_after.num_seconds(),
                });
            }
        }
        let started = self.fresh(None, TrustState::default(), client)?;
        self.sessions.insert(&started.session).await?;
        Ok(started)
    }

    /// Signs `user` in: a new session id replaces the current one (which dies), keeping the
    /// adaptive-limit state. Call it at every privilege change too.
    ///
    /// # Errors
    /// [`SessionError`] when no token can be drawn or stored.
    pub async fn sign_in(
        &self,
        current: Option<&Session>,
        user: &User,
        client: &ClientInfo,
    ) -> Result<Started, SessionError> {
        let trust = current.map(|s| s.trust()).unwrap_or_default();
        let started = self.fresh(Some(user.id()), trust, client)?;
        match current {
            Some(old) => self.sessions.replace(&old.key(), &started.session).await?,
            None => self.sessions.insert(&started.session).await?,
        }
        Ok(started)
    }

    /// Ends a session (logout).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn end(&self, session: &Session, client: &ClientInfo) -> Result<(), SessionError> {
        self.sessions.delete(&session.key()).await?;
        if let Some(user) = session.user_id() {
            self.audit_event(
                Actor::User(user),
                Action::Logout,
                "",
                session,
                client,
                self.clock.now(),
            )
            .await;
        }
        Ok(())
    }

    fn fresh(
        &self,
        user_id: Option<UserId>,
        trust: TrustState,
        client: &ClientInfo,
    ) -> Result<Started, SessionError> {
        let token = SessionToken::from_random(
            random_array(self.random.as_ref()).map_err(|_| SessionError::Random)?,
        );
        let csrf = CsrfToken::from_random(
            random_array(self.random.as_ref()).map_err(|_| SessionError::Random)?,
        );
        let now = self.clock.now();
        // A signed-in session starts authenticated at its creation.
        let session = match user_id {
            None => Session::new_anonymous(token.key(), client.fingerprint, csrf, now),
            Some(user) => Session::new_signed_in(token.key(), user, client.fingerprint, csrf, now),
        }
        .with_trust(trust)
        .with_device(client.coarse_ip.clone(), client.device.clone());
        Ok(Started { token, session })
    }

    async fn audit_event(
        &self,
        actor: Actor,
        action: Action,
        reason: &str,
        session: &Session,
        client: &ClientInfo,
        now: Timestamp,
    ) {
        let mut details = AuditDetails::new().with("fingerprint", session.fingerprint().to_hex());
        if !reason.is_empty() {
            details = details.with("reason", reason);
        }
        let record = AuditRecord::new(now, actor, action)
            .details(details)
            .origin(client.origin());
        self.record(record).await;
    }

    async fn record(&self, record: AuditRecord) {
        self.audit.record_or_log(record).await;
    }
}

/// How often a compare-and-swap of a session's trust state is retried against concurrent
/// requests of the same session.
pub(crate) const TRUST_CAS_ROUNDS: usize = 8;

/// The stored trust state of session `key`.
pub(crate) async fn stored_trust(
    sessions: &dyn SessionRepository,
    key: &SessionKey,
) -> Result<TrustState, RepoError> {
    Ok(sessions.get(key).await?.ok_or(RepoError::NotFound)?.trust())
}

/// Applies `change` to the trust state of session `key` by compare-and-swap, starting from
/// `current` (what the caller last saw) and reloading when a concurrent request changed it
/// first; returns the state written (`current` itself when `change` changes nothing).
pub(crate) async fn update_trust(
    sessions: &dyn SessionRepository,
    key: &SessionKey,
    mut current: TrustState,
    change: impl Fn(&mut TrustState),
) -> Result<TrustState, RepoError> {
    for _ in 0..TRUST_CAS_ROUNDS {
        let mut next = current;
        change(&mut next);
        if next == current || sessions.swap_trust(key, &current, &next).await? {
            return Ok(next);
        }
        current = stored_trust(sessions, key).await?;
    }
    Err(RepoError::Unavailable(
        "the session's trust state kept changing".into(),
    ))
}

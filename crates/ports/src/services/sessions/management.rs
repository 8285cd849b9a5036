//! A person's sessions as they see and manage them (listing, ending one, ending the others),
//! the user re-read after a change, and the periodic purge of expired sessions.

use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord, Origin};
use wildid_domain::ids::UserId;
use wildid_domain::session::{Session, SessionKey};
use wildid_domain::user::User;

use super::{ClientInfo, SessionError, SessionService};

impl SessionService {
    /// The current state of a user (after a change to it).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn reload_user(&self, user: UserId) -> Result<User, SessionError> {
        Ok(self.users.get(user).await?)
    }

    /// `user`'s sessions, most recently active first.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn list(&self, user: UserId) -> Result<Vec<Session>, SessionError> {
        Ok(self.sessions.list_for_user(user).await?)
    }

    /// Ends one of `user`'s sessions; a key that is not theirs changes nothing. Returns whether
    /// a session was ended.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn revoke(
        &self,
        user: UserId,
        key: &SessionKey,
        client: &ClientInfo,
    ) -> Result<bool, SessionError> {
        let Some(session) = self
            .sessions
            .get(key)
            .await?
            .filter(|s| s.user_id() == Some(user))
        else {
            return Ok(false);
        };
        self.sessions.delete(key).await?;
        self.audit_event(
            Actor::User(user),
            Action::SessionRevoked,
            "one",
            &session,
            client,
            self.clock.now(),
        )
        .await;
        Ok(true)
    }

    /// Ends all of `user`'s sessions except `keep`; returns how many.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn revoke_others(
        &self,
        actor: Actor,
        user: UserId,
        keep: Option<SessionKey>,
        origin: Option<Origin>,
    ) -> Result<u64, SessionError> {
        let ended = self.sessions.delete_for_user(user, keep).await?;
        let record = AuditRecord::new(self.clock.now(), actor, Action::SessionRevoked)
            .target(user.to_string())
            .details(
                AuditDetails::new()
                    .with("scope", if keep.is_some() { "others" } else { "all" })
                    .with("count", ended.to_string()),
            )
            .origin(origin);
        self.record(record).await;
        Ok(ended)
    }

    /// Deletes expired sessions; returns how many (the periodic job).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn purge_expired(&self) -> Result<u64, SessionError> {
        let now = self.clock.now();
        Ok(self
            .sessions
            .purge_expired(
                now - self.policy.idle_timeout(),
                now - self.policy.anonymous_lifetime(),
                now - self.policy.absolute_lifetime(),
            )
            .await?)
    }
}

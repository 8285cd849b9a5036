//! The server-side session itself: what it holds, the ways it starts and changes, and
//! [`SessionRecord`], the form storage writes and [`Session::restore`] checks on the way back.

use super::{CsrfToken, Fingerprint, SessionKey};
use crate::Timestamp;
use crate::ids::UserId;
use crate::trust::TrustState;

/// A rule of [`Session`] that a record breaks.
///
/// An authentication older than the session is not refused: nothing in the session's own
/// flows makes one (a sign-in starts a new session authenticated at its creation), but
/// stored rows may carry an older one and are still read as "not fresh".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSession {
    /// The session says when someone authenticated but nobody is signed in.
    #[error("an anonymous session cannot have been authenticated")]
    AuthenticatedWithoutUser,
    /// The last activity is earlier than the session's creation.
    #[error("a session cannot be seen before it was created")]
    SeenBeforeCreated,
}

/// A server-side session.
///
/// Its fields (a [`SessionRecord`]) are private: a session starts with
/// [`Session::new_anonymous`] or [`Session::new_signed_in`], or is rebuilt by
/// [`Session::restore`], and always keeps the rules of [`InvalidSession`]: only a signed-in
/// session has an authentication time, and it is never last seen before it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session(SessionRecord);

impl Session {
    /// A new anonymous session stored under `key`, bound to the browser `fingerprint`,
    /// created and last seen at `now`, with a fresh trust state and no device description.
    pub fn new_anonymous(
        key: SessionKey,
        fingerprint: Fingerprint,
        csrf: CsrfToken,
        now: Timestamp,
    ) -> Self {
        Self(SessionRecord {
            key,
            user_id: None,
            fingerprint,
            csrf,
            created_at: now,
            last_seen_at: now,
            authenticated_at: None,
            trust: TrustState::default(),
            coarse_ip: None,
            device: None,
        })
    }

    /// A new session of `user`, who authenticated at `now` (when it is created); otherwise
    /// as [`Session::new_anonymous`].
    pub fn new_signed_in(
        key: SessionKey,
        user: UserId,
        fingerprint: Fingerprint,
        csrf: CsrfToken,
        now: Timestamp,
    ) -> Self {
        Self(SessionRecord {
            user_id: Some(user),
            authenticated_at: Some(now),
            ..Self::new_anonymous(key, fingerprint, csrf, now).0
        })
    }

    /// The same session with the trust state `trust` (carried over from an earlier session,
    /// or the state a concurrent request stored).
    #[must_use]
    pub fn with_trust(mut self, trust: TrustState) -> Self {
        self.0.trust = trust;
        self
    }

    /// The same session described on the sessions page by `coarse_ip` and `device`.
    #[must_use]
    pub fn with_device(mut self, coarse_ip: Option<String>, device: Option<String>) -> Self {
        self.0.coarse_ip = coarse_ip;
        self.0.device = device;
        self
    }

    /// Replaces the trust state.
    pub fn set_trust(&mut self, trust: TrustState) {
        self.0.trust = trust;
    }

    /// Records activity at `now`. A `now` before the creation (a clock stepped back) counts
    /// as the creation instant, so the session is never seen before it was created.
    pub fn touch(&mut self, now: Timestamp) {
        self.0.last_seen_at = now.max(self.0.created_at);
    }

    /// Digest of the cookie token: the stored key.
    pub fn key(&self) -> SessionKey {
        self.0.key
    }

    /// The signed-in user, if any.
    pub fn user_id(&self) -> Option<UserId> {
        self.0.user_id
    }

    /// The browser it is bound to.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.fingerprint
    }

    /// Anti-CSRF token.
    pub fn csrf(&self) -> &CsrfToken {
        &self.0.csrf
    }

    /// Creation time.
    pub fn created_at(&self) -> Timestamp {
        self.0.created_at
    }

    /// Last request served (at or after the creation).
    pub fn last_seen_at(&self) -> Timestamp {
        self.0.last_seen_at
    }

    /// Last time the user proved who they are (for re-authentication before sensitive
    /// changes); `None` for every anonymous session.
    pub fn authenticated_at(&self) -> Option<Timestamp> {
        self.0.authenticated_at
    }

    /// Rate-limit and CAPTCHA trust state.
    pub fn trust(&self) -> TrustState {
        self.0.trust
    }

    /// Coarse client address (IPv4 /24, IPv6 /48) shown on the sessions page.
    pub fn coarse_ip(&self) -> Option<&str> {
        self.0.coarse_ip.as_deref()
    }

    /// Short device description shown on the sessions page.
    pub fn device(&self) -> Option<&str> {
        self.0.device.as_deref()
    }

    /// Rebuilds a stored session.
    ///
    /// # Errors
    /// [`InvalidSession`] naming the first rule the record breaks.
    pub fn restore(record: SessionRecord) -> Result<Self, InvalidSession> {
        if record.authenticated_at.is_some() && record.user_id.is_none() {
            return Err(InvalidSession::AuthenticatedWithoutUser);
        }
        if record.last_seen_at < record.created_at {
            return Err(InvalidSession::SeenBeforeCreated);
        }
        Ok(Self(record))
    }

    /// A copy of every field, for writing the session; [`Session::restore`] of it gives back
    /// an equal session.
    pub fn to_record(&self) -> SessionRecord {
        self.0.clone()
    }

    /// Every field, for writing the session (see [`Session::to_record`]).
    pub fn into_record(self) -> SessionRecord {
        self.0
    }
}

/// Every field of a [`Session`], public, for storage adapters (and tests) to write and
/// rebuild sessions. Nothing is checked until [`Session::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Digest of the cookie token.
    pub key: SessionKey,
    /// The signed-in user, if any.
    pub user_id: Option<UserId>,
    /// The browser it is bound to.
    pub fingerprint: Fingerprint,
    /// Anti-CSRF token.
    pub csrf: CsrfToken,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last request served.
    pub last_seen_at: Timestamp,
    /// Last time the user proved who they are.
    pub authenticated_at: Option<Timestamp>,
    /// Rate-limit and CAPTCHA trust state.
    pub trust: TrustState,
    /// Coarse client address.
    pub coarse_ip: Option<String>,
    /// Short device description.
    pub device: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionToken;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(secs: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
            + chrono::TimeDelta::seconds(secs)
    }

    fn valid() -> SessionRecord {
        Session::new_signed_in(
            SessionToken::from_random([3; 32]).key(),
            UserId::from_random([1; 16]),
            Fingerprint::from_headers("UA", "en", "gzip"),
            CsrfToken::from_random([4; 32]),
            at(0),
        )
        .with_device(
            Some("203.0.113.0/24".into()),
            Some("Firefox on Linux".into()),
        )
        .into_record()
    }

    #[test]
    fn a_valid_record_is_restored_as_it_was() {
        let session = Session::restore(valid()).unwrap();
        assert_eq!(session.authenticated_at(), Some(at(0)));
        assert_eq!(session.device(), Some("Firefox on Linux"));
        assert_eq!(session.into_record(), valid());
    }

    #[test]
    fn an_authenticated_anonymous_session_is_refused() {
        let mut record = valid();
        record.user_id = None;
        assert_eq!(
            Session::restore(record.clone()),
            Err(InvalidSession::AuthenticatedWithoutUser)
        );
        record.authenticated_at = None;
        assert!(Session::restore(record).is_ok());
    }

    #[test]
    fn a_session_seen_before_it_was_created_is_refused() {
        let mut record = valid();
        record.last_seen_at = at(-1);
        assert_eq!(
            Session::restore(record.clone()),
            Err(InvalidSession::SeenBeforeCreated)
        );
        record.last_seen_at = at(0);
        assert!(Session::restore(record).is_ok());
    }

    #[test]
    fn an_authentication_older_than_the_session_is_kept() {
        let mut record = valid();
        record.authenticated_at = Some(at(-3600));
        assert_eq!(
            Session::restore(record.clone()).unwrap().into_record(),
            record
        );
    }

    #[test]
    fn touching_never_goes_before_the_creation() {
        let mut session = Session::restore(valid()).unwrap();
        session.touch(at(90));
        assert_eq!(session.last_seen_at(), at(90));
        session.touch(at(-90));
        assert_eq!(session.last_seen_at(), at(0));
    }

    prop_compose! {
        fn records()(
            key in any::<[u8; 32]>(),
            user in proptest::option::of(any::<[u8; 16]>()),
            fingerprint in any::<[u8; 16]>(),
            csrf in any::<[u8; 32]>(),
            created in -1_000_000_000i64..1_000_000_000,
            seen_after in 0i64..1_000_000,
            authenticated in proptest::option::of(-1_000_000_000i64..1_000_000_000),
            trust in (any::<u32>(), proptest::option::of(0i64..1_000_000), any::<bool>(), any::<bool>()),
            coarse_ip in proptest::option::of("[0-9./]{1,18}"),
            device in proptest::option::of("[A-Za-z ]{1,20}"),
        ) -> SessionRecord {
            let user_id = user.map(UserId::from_random);
            let (request_count, window, rate_limited, is_trusted) = trust;
            SessionRecord {
                key: SessionKey::from_bytes(key),
                user_id,
                fingerprint: Fingerprint::from_bytes(fingerprint),
                csrf: CsrfToken::from_bytes(csrf),
                created_at: at(created),
                last_seen_at: at(created + seen_after),
                authenticated_at: authenticated.filter(|_| user_id.is_some()).map(at),
                trust: TrustState {
                    request_count,
                    window_started_at: window.map(at),
                    rate_limited,
                    is_trusted,
                    captcha_passed_at: window.map(|w| at(w + 1)),
                },
                coarse_ip,
                device,
            }
        }
    }

    proptest! {
        /// Storage loses nothing: a valid record comes back from restore unchanged.
        #[test]
        fn record_restore_record_is_identity(record in records()) {
            let session = Session::restore(record.clone()).unwrap();
            prop_assert_eq!(session.to_record(), record.clone());
            prop_assert_eq!(session.into_record(), record);
        }
    }
}

//! Server-side sessions: an opaque cookie token, stored only as its digest, bound to a browser
//! fingerprint, with idle and absolute timeouts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::SecretString;
use crate::{Duration, InvalidPolicy, Timestamp};

mod state;

pub use state::{InvalidSession, Session, SessionRecord};

const TOKEN_BYTES: usize = 32;
const ENCODED_LEN: usize = 43;

/// The text is not a session or CSRF token of the right shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct MalformedSessionToken;

fn decode_32(raw: &str) -> Result<[u8; TOKEN_BYTES], MalformedSessionToken> {
    if raw.len() != ENCODED_LEN {
        return Err(MalformedSessionToken);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| MalformedSessionToken)?;
    bytes.try_into().map_err(|_| MalformedSessionToken)
}

/// The session identifier carried by the cookie: 256 random bits. Never stored or logged.
pub struct SessionToken([u8; TOKEN_BYTES]);

impl SessionToken {
    /// A token from 32 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// Parses a cookie value.
    ///
    /// # Errors
    /// [`MalformedSessionToken`] for anything that is not 43 URL-safe base64 characters.
    pub fn parse(raw: &str) -> Result<Self, MalformedSessionToken> {
        decode_32(raw).map(Self)
    }

    /// The cookie value.
    pub fn encode(&self) -> SecretString {
        SecretString::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// The digest under which the session is stored.
    pub fn key(&self) -> SessionKey {
        SessionKey(Sha256::digest(self.0).into())
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// SHA-256 of a session token: the stored key. A stolen database yields no usable cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// Rebuilds a stored key.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The synchronizer (anti-CSRF) token of a session.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken([u8; TOKEN_BYTES]);

impl CsrfToken {
    /// A token from 32 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// Rebuilds a stored token.
    pub fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8; TOKEN_BYTES] {
        &self.0
    }

    /// The form put in pages and headers.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Whether `presented` is this token, compared in constant time. Malformed input is `false`.
    pub fn matches(&self, presented: &str) -> bool {
        match decode_32(presented) {
            Ok(bytes) => self.0.ct_eq(&bytes).into(),
            Err(_) => false,
        }
    }
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(***)")
    }
}

/// A truncated SHA-256 of the browser's `User-Agent`, `Accept-Language` and `Accept-Encoding`
/// headers. Raw header values are never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// Computes the fingerprint. Fields are length-prefixed, so no two header sets collide by
    /// shifting text from one header into another.
    pub fn from_headers(user_agent: &str, accept_language: &str, accept_encoding: &str) -> Self {
        let mut hasher = Sha256::new();
        for part in [user_agent, accept_language, accept_encoding] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        let mut truncated = [0u8; 16];
        truncated.copy_from_slice(&digest[..16]);
        Self(truncated)
    }

    /// Rebuilds a stored fingerprint.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Short hex form for audit entries (not secret, not personal).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// How recent an authentication must be before a sensitive change.
pub const FRESH_AUTH_MINUTES: i64 = 10;

/// How long a session lives: its idle timeout, its absolute lifetime, and the shorter lifetime
/// of an anonymous session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    idle_timeout: Duration,
    absolute_lifetime: Duration,
    anonymous_lifetime: Duration,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 7 days absolute; anonymous sessions live at most 1 hour.
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(30),
            absolute_lifetime: Duration::days(7),
            anonymous_lifetime: Duration::hours(1),
        }
    }
}

impl SessionPolicy {
    /// A policy with the given timeouts.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when a timeout is not positive or the idle timeout exceeds the lifetime.
    pub fn new(
        idle_timeout: Duration,
        absolute_lifetime: Duration,
        anonymous_lifetime: Duration,
    ) -> Result<Self, InvalidPolicy> {
        if [idle_timeout, absolute_lifetime, anonymous_lifetime]
            .iter()
            .any(|d| *d <= Duration::zero())
        {
            return Err(InvalidPolicy("session timeouts must be positive"));
        }
        if idle_timeout > absolute_lifetime {
            return Err(InvalidPolicy(
                "the idle timeout cannot exceed the absolute lifetime",
            ));
        }
        Ok(Self {
            idle_timeout,
            absolute_lifetime,
            anonymous_lifetime,
        })
    }

    /// Idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Whether the session's last authentication is recent enough for a sensitive change
    /// (email, password, second factor): within [`FRESH_AUTH_MINUTES`].
    pub fn is_fresh(&self, session: &Session, now: Timestamp) -> bool {
        session
            .authenticated_at()
            .is_some_and(|at| now - at <= Duration::minutes(FRESH_AUTH_MINUTES) && at <= now)
    }

    /// Absolute lifetime of an anonymous session.
    pub fn anonymous_lifetime(&self) -> Duration {
        self.anonymous_lifetime
    }

    /// Absolute lifetime of a signed-in session.
    pub fn absolute_lifetime(&self) -> Duration {
        self.absolute_lifetime
    }

    /// The instant a session stops being valid if it sees no further activity.
    pub fn expires_at(&self, session: &Session) -> Timestamp {
        let lifetime = if session.user_id().is_some() {
            self.absolute_lifetime
        } else {
            self.anonymous_lifetime
        };
        std::cmp::min(
            session.last_seen_at() + self.idle_timeout,
            session.created_at() + lifetime,
        )
    }

    /// Whether `session` may serve a request from a browser with `presented` fingerprint at `now`.
    pub fn check(
        &self,
        session: &Session,
        presented: &Fingerprint,
        now: Timestamp,
    ) -> SessionValidity {
        if !bool::from(session.fingerprint().0.ct_eq(&presented.0)) {
            SessionValidity::FingerprintMismatch
        } else if now >= session.last_seen_at() + self.idle_timeout {
            SessionValidity::IdleExpired
        } else if now >= self.expires_at(session) {
            SessionValidity::LifetimeExpired
        } else {
            SessionValidity::Active
        }
    }
}

/// The outcome of [`SessionPolicy::check`]. Anything but `Active` ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionValidity {
    /// Still valid: within both timeouts, from the browser it was made for.
    Active,
    /// No activity for longer than the idle timeout.
    IdleExpired,
    /// Older than its absolute lifetime.
    LifetimeExpired,
    /// Presented by a different browser than the one it was created for.
    FingerprintMismatch,
}

/// The coarse form of a client address shown on the sessions page: the IPv4 /24 or the IPv6
/// /48 network ([`crate::audit::ClientNetwork`], the same form audit entries record), enough to recognise
/// "home" or "office" without storing the exact address.
pub fn coarse_ip(ip: core::net::IpAddr) -> String {
    crate::audit::ClientNetwork::of(ip).as_str().to_owned()
}

/// A short description of a browser from its `User-Agent` ("Firefox on Linux"), for the
/// sessions page. Unknown agents become "Unknown browser"; nothing else of the header is kept.
pub fn device_summary(user_agent: &str) -> String {
    let ua = user_agent.to_ascii_lowercase();
    let browser = if ua.contains("edg/") {
        "Edge"
    } else if ua.contains("firefox/") {
        "Firefox"
    } else if ua.contains("chrome/") || ua.contains("chromium/") || ua.contains("headlesschrome/") {
        "Chrome"
    } else if ua.contains("safari/") {
        "Safari"
    } else if ua.is_empty() {
        return "Unknown browser".to_owned();
    } else {
        "Other browser"
    };
    let os = if ua.contains("android") {
        "Android"
    } else if ua.contains("iphone") || ua.contains("ipad") {
        "iOS"
    } else if ua.contains("windows") {
        "Windows"
    } else if ua.contains("mac os") || ua.contains("macintosh") {
        "macOS"
    } else if ua.contains("linux") {
        "Linux"
    } else {
        return browser.to_owned();
    };
    format!("{browser} on {os}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::trust::TrustState;
    use chrono::TimeZone;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    fn session(user: bool) -> Session {
        Session::restore(SessionRecord {
            key: SessionToken::from_random([3; 32]).key(),
            user_id: user.then(|| UserId::from_random([1; 16])),
            fingerprint: Fingerprint::from_headers("UA", "en", "gzip"),
            csrf: CsrfToken::from_random([4; 32]),
            created_at: t0(),
            last_seen_at: t0(),
            authenticated_at: None,
            trust: TrustState::default(),
            coarse_ip: None,
            device: None,
        })
        .unwrap()
    }

    #[test]
    fn fingerprint_separates_fields() {
        assert_ne!(
            Fingerprint::from_headers("ab", "c", ""),
            Fingerprint::from_headers("a", "bc", "")
        );
        assert_eq!(
            Fingerprint::from_headers("a", "b", "c"),
            Fingerprint::from_headers("a", "b", "c")
        );
    }

    #[test]
    fn idle_absolute_and_fingerprint_rules() {
        let policy = SessionPolicy::default();
        let fp = Fingerprint::from_headers("UA", "en", "gzip");
        let mut s = session(true);
        assert_eq!(
            policy.check(&s, &fp, t0() + Duration::minutes(29)),
            SessionValidity::Active
        );
        assert_eq!(
            policy.check(&s, &fp, t0() + Duration::minutes(30)),
            SessionValidity::IdleExpired
        );
        let other = Fingerprint::from_headers("UA2", "en", "gzip");
        assert_eq!(
            policy.check(&s, &other, t0()),
            SessionValidity::FingerprintMismatch
        );
        s.touch(t0() + Duration::days(7) - Duration::minutes(1));
        assert_eq!(
            policy.check(&s, &fp, t0() + Duration::days(7)),
            SessionValidity::LifetimeExpired
        );
        let mut anon = session(false);
        anon.touch(t0() + Duration::minutes(59));
        assert_eq!(
            policy.check(&anon, &fp, t0() + Duration::minutes(61)),
            SessionValidity::LifetimeExpired
        );
    }

    #[test]
    fn coarse_addresses_and_devices() {
        assert_eq!(coarse_ip("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(
            coarse_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(
            coarse_ip("::ffff:192.0.2.9".parse().unwrap()),
            "192.0.2.0/24"
        );
        assert_eq!(
            device_summary(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            ),
            "Firefox on Linux"
        );
        assert_eq!(
            device_summary("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
            "Safari on iOS"
        );
        assert_eq!(device_summary(""), "Unknown browser");
    }

    #[test]
    fn tokens_parse_and_compare() {
        let csrf = CsrfToken::from_random([8; 32]);
        assert!(csrf.matches(&csrf.encode()));
        assert!(!csrf.matches(&CsrfToken::from_random([9; 32]).encode()));
        assert!(!csrf.matches("garbage"));
        let token = SessionToken::from_random([5; 32]);
        let back = SessionToken::parse(token.encode().expose()).unwrap();
        assert_eq!(back.key(), token.key());
        assert!(SessionToken::parse("x").is_err());
        assert!(
            SessionPolicy::new(Duration::days(8), Duration::days(7), Duration::hours(1)).is_err()
        );
    }
}

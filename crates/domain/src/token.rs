//! Single-use tokens sent by mail: sign-in links, email verification links and address-change
//! links.
//!
//! The raw token is 256 bits from a CSPRNG, shown once (in the mail) and never stored: the
//! database keeps only its SHA-256 ([`TokenHash`]). A token is usable until it expires or is
//! consumed, whichever comes first; consuming is a one-way transition.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::UserId;
use crate::secret::SecretString;
use crate::user::{EmailLookup, EncryptedField};

use crate::{Duration, InvalidPolicy, Timestamp};

/// Length of a raw token in bytes (256 bits).
pub const TOKEN_BYTES: usize = 32;
const ENCODED_LEN: usize = 43;

/// What a token may be used for. A token of one purpose is never accepted for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Passwordless sign-in (and sign-up) link.
    MagicLink,
    /// Proves ownership of the address given at registration.
    EmailVerification,
    /// Proves ownership of the new address of an account moving to it; carries the account's
    /// id and the new address (see [`LoginToken::email_change`]).
    EmailChange,
}

impl TokenPurpose {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::MagicLink => "magic_link",
            TokenPurpose::EmailVerification => "email_verification",
            TokenPurpose::EmailChange => "email_change",
        }
    }

    /// Inverse of [`TokenPurpose::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "magic_link" => Some(TokenPurpose::MagicLink),
            "email_verification" => Some(TokenPurpose::EmailVerification),
            "email_change" => Some(TokenPurpose::EmailChange),
            _ => None,
        }
    }
}

/// A raw token as it travels in a link. Never stored, never logged.
pub struct RawToken([u8; TOKEN_BYTES]);

/// The text presented is not a token of the right shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the link is malformed")]
pub struct MalformedToken;

impl RawToken {
    /// A token from 32 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// Parses the URL-safe base64 form (43 characters, no padding).
    ///
    /// # Errors
    /// [`MalformedToken`] for any other shape.
    pub fn parse(raw: &str) -> Result<Self, MalformedToken> {
        if raw.len() != ENCODED_LEN {
            return Err(MalformedToken);
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| MalformedToken)?;
        let array: [u8; TOKEN_BYTES] = bytes.try_into().map_err(|_| MalformedToken)?;
        Ok(Self(array))
    }

    /// The form used in links.
    pub fn encode(&self) -> SecretString {
        SecretString::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// The digest under which the token is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl std::fmt::Debug for RawToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawToken(***)")
    }
}

/// SHA-256 of a raw token: the only form a token is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Rebuilds a stored digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Token lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    magic_link_ttl: Duration,
    verification_ttl: Duration,
}

impl Default for TokenPolicy {
    /// Seed values: magic links live 15 minutes, verification links 24 hours.
    fn default() -> Self {
        Self {
            magic_link_ttl: Duration::minutes(15),
            verification_ttl: Duration::hours(24),
        }
    }
}

impl TokenPolicy {
    /// A policy with the given lifetimes.
    ///
    /// # Errors
    /// [`InvalidPolicy`] when a lifetime is not positive or longer than 7 days.
    pub fn new(
        magic_link_ttl: Duration,
        verification_ttl: Duration,
    ) -> Result<Self, InvalidPolicy> {
        for ttl in [magic_link_ttl, verification_ttl] {
            if ttl <= Duration::zero() || ttl > Duration::days(7) {
                return Err(InvalidPolicy(
                    "token lifetimes must be between 1 second and 7 days",
                ));
            }
        }
        Ok(Self {
            magic_link_ttl,
            verification_ttl,
        })
    }

    /// The lifetime of `purpose` in words, for messages: "15 minutes", "1 hour", "24 hours".
    pub fn lifetime_text(&self, purpose: TokenPurpose) -> String {
        let minutes = self.ttl(purpose).num_minutes().max(1);
        let (n, unit) = if minutes % 60 == 0 {
            (minutes / 60, "hour")
        } else {
            (minutes, "minute")
        };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }

    /// How long a token of `purpose` stays usable. Address-change links prove ownership of an
    /// address like verification links, and live as long.
    pub fn ttl(&self, purpose: TokenPurpose) -> Duration {
        match purpose {
            TokenPurpose::MagicLink => self.magic_link_ttl,
            TokenPurpose::EmailVerification | TokenPurpose::EmailChange => self.verification_ttl,
        }
    }
}

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    /// Digest of the raw token (the key).
    pub hash: TokenHash,
    /// What it may be used for.
    pub purpose: TokenPurpose,
    /// Whose address it was sent to (for an address change: the new address).
    pub email_lookup: EmailLookup,
    /// The account an address-change link belongs to; `None` for the other purposes.
    pub user_id: Option<UserId>,
    /// The address itself, encrypted with the key ring: sign-in links carry it so that the
    /// first use can create the account (passwordless sign-up).
    pub email_encrypted: Option<EncryptedField>,
    /// When it was created.
    pub created_at: Timestamp,
    /// The first instant at which it is no longer usable.
    pub expires_at: Timestamp,
    /// When it was consumed, if it was.
    pub used_at: Option<Timestamp>,
}

/// Where a token stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Can be consumed.
    Usable,
    /// Was consumed already.
    Used,
    /// Lifetime is over.
    Expired,
}

/// Why a token cannot be consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    /// Consumed before.
    #[error("this link has already been used")]
    AlreadyUsed,
    /// Lifetime over.
    #[error("this link has expired")]
    Expired,
}

impl LoginToken {
    /// A fresh token issued at `now` under `policy`. Address-change links are built with
    /// [`LoginToken::email_change`], which also records their account and new address.
    pub fn issue(
        hash: TokenHash,
        purpose: TokenPurpose,
        email_lookup: EmailLookup,
        policy: &TokenPolicy,
        now: Timestamp,
    ) -> Self {
        Self {
            hash,
            purpose,
            email_lookup,
            user_id: None,
            email_encrypted: None,
            created_at: now,
            expires_at: now + policy.ttl(purpose),
            used_at: None,
        }
    }

    /// An address-change link: account `user` moves to the address whose lookup is
    /// `new_lookup` and whose ciphertext is `new_encrypted` once the link is used. The only
    /// way to build a token of purpose [`TokenPurpose::EmailChange`], so such a token always
    /// names its account and its new address.
    pub fn email_change(
        hash: TokenHash,
        user: UserId,
        new_lookup: EmailLookup,
        new_encrypted: EncryptedField,
        policy: &TokenPolicy,
        now: Timestamp,
    ) -> Self {
        let mut token = Self::issue(hash, TokenPurpose::EmailChange, new_lookup, policy, now);
        token.user_id = Some(user);
        token.email_encrypted = Some(new_encrypted);
        token
    }

    /// With the (encrypted) address it was sent to.
    #[must_use]
    pub fn with_address(mut self, email_encrypted: EncryptedField) -> Self {
        self.email_encrypted = Some(email_encrypted);
        self
    }

    /// The token's state at `now`. A used token stays used after it would have expired.
    pub fn state(&self, now: Timestamp) -> TokenState {
        if self.used_at.is_some() {
            TokenState::Used
        } else if now >= self.expires_at {
            TokenState::Expired
        } else {
            TokenState::Usable
        }
    }

    /// Consumes the token at `now`.
    ///
    /// # Errors
    /// [`TokenRejected`] when it is not usable; the token is then unchanged.
    pub fn consume(&mut self, now: Timestamp) -> Result<(), TokenRejected> {
        match self.state(now) {
            TokenState::Usable => {
                self.used_at = Some(now);
                Ok(())
            }
            TokenState::Used => Err(TokenRejected::AlreadyUsed),
            TokenState::Expired => Err(TokenRejected::Expired),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    fn token(policy: &TokenPolicy) -> LoginToken {
        let raw = RawToken::from_random([9; 32]);
        LoginToken::issue(
            raw.hash(),
            TokenPurpose::MagicLink,
            EmailLookup::from_bytes([1; 32]),
            policy,
            t0(),
        )
    }

    #[test]
    fn raw_tokens_round_trip_and_hash_stably() {
        let raw = RawToken::from_random([42; 32]);
        let encoded = raw.encode();
        assert_eq!(encoded.expose().len(), 43);
        let back = RawToken::parse(encoded.expose()).unwrap();
        assert!(back.hash().ct_eq(&raw.hash()));
        assert_eq!(format!("{raw:?}"), "RawToken(***)");
        assert!(RawToken::parse("short").is_err());
        assert!(RawToken::parse(&"!".repeat(43)).is_err());
    }

    #[test]
    fn fifteen_minutes_then_expired() {
        let policy = TokenPolicy::default();
        let mut t = token(&policy);
        assert_eq!(t.state(t0() + Duration::minutes(14)), TokenState::Usable);
        assert_eq!(
            t.consume(t0() + Duration::minutes(15)),
            Err(TokenRejected::Expired)
        );
        assert_eq!(t.used_at, None);
    }

    #[test]
    fn lifetimes_read_naturally() {
        let policy = TokenPolicy::default();
        assert_eq!(policy.lifetime_text(TokenPurpose::MagicLink), "15 minutes");
        assert_eq!(
            policy.lifetime_text(TokenPurpose::EmailVerification),
            "24 hours"
        );
        let policy = TokenPolicy::new(Duration::minutes(1), Duration::hours(1)).unwrap();
        assert_eq!(policy.lifetime_text(TokenPurpose::MagicLink), "1 minute");
        assert_eq!(policy.lifetime_text(TokenPurpose::EmailChange), "1 hour");
        assert!(TokenPolicy::new(Duration::zero(), Duration::hours(1)).is_err());
    }

    #[test]
    fn purposes_round_trip() {
        for p in [
            TokenPurpose::MagicLink,
            TokenPurpose::EmailVerification,
            TokenPurpose::EmailChange,
        ] {
            assert_eq!(TokenPurpose::from_name(p.as_str()), Some(p));
        }
        assert_eq!(TokenPurpose::from_name("admin"), None);
    }

    #[test]
    fn an_address_change_link_names_its_account_and_new_address() {
        let policy = TokenPolicy::default();
        let t = LoginToken::email_change(
            RawToken::from_random([3; 32]).hash(),
            UserId::from_random([4; 16]),
            EmailLookup::from_bytes([5; 32]),
            EncryptedField::new("gAAAA-new".into()),
            &policy,
            t0(),
        );
        assert_eq!(t.purpose, TokenPurpose::EmailChange);
        assert_eq!(t.user_id, Some(UserId::from_random([4; 16])));
        assert!(t.email_encrypted.is_some());
        assert_eq!(t.expires_at, t0() + Duration::hours(24));
    }

    proptest! {
        /// Whatever sequence of attempts, at most one consumption succeeds, only before expiry,
        /// and the recorded use time is that of the successful one.
        #[test]
        fn consumed_at_most_once(offsets in prop::collection::vec(0i64..2000, 1..20)) {
            let policy = TokenPolicy::default();
            let mut t = token(&policy);
            let mut successes = Vec::new();
            for secs in offsets {
                let now = t0() + Duration::seconds(secs);
                let before = t.clone();
                match t.consume(now) {
                    Ok(()) => {
                        prop_assert!(now < before.expires_at);
                        successes.push(now);
                    }
                    Err(_) => prop_assert_eq!(&t, &before),
                }
            }
            prop_assert!(successes.len() <= 1);
            prop_assert_eq!(t.used_at, successes.first().copied());
        }
    }
}

//! User accounts.
//!
//! An account is found by a keyed digest of its address ([`EmailLookup`]) and keeps the address
//! itself only encrypted ([`EncryptedField`]), so a copy of the database reveals no address.

use crate::Timestamp;
use crate::ids::UserId;
use crate::lockout::LockoutState;
use crate::role::Role;
use crate::text::PlainText;

/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;

/// Keyed HMAC-SHA256 of a normalised email address: how accounts are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmailLookup([u8; 32]);

impl EmailLookup {
    /// Rebuilds a stored digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A value encrypted with the key ring (a Fernet token). Opaque to the domain.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedField(String);

impl EncryptedField {
    /// Wraps ciphertext produced by a key ring.
    pub fn new(ciphertext: String) -> Self {
        Self(ciphertext)
    }

    /// The ciphertext.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EncryptedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptedField(..)")
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$m=...`). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by a password hasher.
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable identifier.
    pub id: UserId,
    /// Lookup digest of the normalised address (unique).
    pub email_lookup: EmailLookup,
    /// The address, encrypted with the key ring.
    pub email_encrypted: EncryptedField,
    /// What the user may do.
    pub role: Role,
    /// Deactivated accounts cannot sign in and are signed out on their next request.
    pub active: bool,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the address was proven, if it was (magic-link sign-in proves it too).
    pub email_verified_at: Option<Timestamp>,
    /// When the privacy notice was accepted.
    pub privacy_accepted_at: Option<Timestamp>,
    /// Password hash, for accounts that set a password.
    pub password_hash: Option<PasswordHash>,
    /// The TOTP secret, encrypted with the key ring, once enrolment is confirmed.
    pub totp_secret: Option<EncryptedField>,
    /// The last TOTP time step accepted (replay protection).
    pub totp_last_step: Option<i64>,
    /// Failed-attempt counters.
    pub lockout: LockoutState,
    /// Last successful sign-in.
    pub last_login_at: Option<Timestamp>,
    /// The name the user chose to be shown by (cleaned plain text of at most
    /// [`DISPLAY_NAME_MAX_CHARS`]), if any.
    pub display_name: Option<PlainText>,
}

impl User {
    /// A new visitor account created at `now` for an address whose privacy notice was accepted.
    pub fn new(
        id: UserId,
        email_lookup: EmailLookup,
        email_encrypted: EncryptedField,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            email_lookup,
            email_encrypted,
            role: Role::Visitor,
            active: true,
            created_at: now,
            email_verified_at: None,
            privacy_accepted_at: Some(now),
            password_hash: None,
            totp_secret: None,
            totp_last_step: None,
            lockout: LockoutState::default(),
            last_login_at: None,
            display_name: None,
        }
    }

    /// Whether a second factor is enrolled.
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn new_accounts_are_active_visitors_without_secrets_in_debug() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut user = User::new(
            UserId::from_random([1; 16]),
            EmailLookup::from_bytes([2; 32]),
            EncryptedField::new("gAAAAA-ciphertext".into()),
            now,
        );
        user.password_hash = Some(PasswordHash::new("$argon2id$v=19$secret".into()));
        assert_eq!(user.role, Role::Visitor);
        assert!(user.active);
        assert!(!user.has_totp());
        let debug = format!("{user:?}");
        assert!(
            !debug.contains("ciphertext") && !debug.contains("argon2id"),
            "{debug}"
        );
    }
}

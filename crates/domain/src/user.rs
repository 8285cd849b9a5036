//! User accounts.
//!
//! An account is found by a keyed digest of its address ([`EmailLookup`]) and keeps the address
//! itself only encrypted ([`EncryptedField`]), so a copy of the database reveals no address.

use crate::Timestamp;
use crate::ids::UserId;
use crate::lockout::LockoutState;
use crate::role::Role;
use crate::text::PlainText;

mod record;

pub use record::{InvalidUser, UserRecord};

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
///
/// Its fields (a [`UserRecord`]) are private so that every account either comes from
/// [`User::new`] or passed the checks of [`User::restore`], and changes only through the named
/// transitions below, each of which keeps those checks true (see [`InvalidUser`] for the
/// rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User(UserRecord);

impl User {
    /// A new visitor account created at `now` for an address whose privacy notice was accepted:
    /// active, unverified, without password, second factor, sign-in or display name.
    pub fn new(
        id: UserId,
        email_lookup: EmailLookup,
        email_encrypted: EncryptedField,
        now: Timestamp,
    ) -> Self {
        Self(UserRecord {
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
        })
    }

    /// Stable identifier.
    pub fn id(&self) -> UserId {
        self.0.id
    }

    /// Lookup digest of the normalised address (unique among accounts).
    pub fn email_lookup(&self) -> EmailLookup {
        self.0.email_lookup
    }

    /// The address, encrypted with the key ring.
    pub fn email_encrypted(&self) -> &EncryptedField {
        &self.0.email_encrypted
    }

    /// What the user may do.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// Whether the account may sign in; deactivated accounts cannot and are signed out on
    /// their next request.
    pub fn is_active(&self) -> bool {
        self.0.active
    }

    /// When the account was created.
    pub fn created_at(&self) -> Timestamp {
        self.0.created_at
    }

    /// When the address was proven, if it was (magic-link sign-in proves it too).
    pub fn email_verified_at(&self) -> Option<Timestamp> {
        self.0.email_verified_at
    }

    /// When the privacy notice was accepted, if it was.
    pub fn privacy_accepted_at(&self) -> Option<Timestamp> {
        self.0.privacy_accepted_at
    }

    /// The password hash, for accounts that set a password.
    pub fn password_hash(&self) -> Option<&PasswordHash> {
        self.0.password_hash.as_ref()
    }

    /// The TOTP secret, encrypted with the key ring, once enrolment is confirmed.
    pub fn totp_secret(&self) -> Option<&EncryptedField> {
        self.0.totp_secret.as_ref()
    }

    /// The last TOTP time step accepted (replay protection), if any.
    pub fn totp_last_step(&self) -> Option<i64> {
        self.0.totp_last_step
    }

    /// Failed-attempt counters.
    pub fn lockout(&self) -> LockoutState {
        self.0.lockout
    }

    /// Last successful sign-in, if any.
    pub fn last_login_at(&self) -> Option<Timestamp> {
        self.0.last_login_at
    }

    /// The name the user chose to be shown by (cleaned plain text of at most
    /// [`DISPLAY_NAME_MAX_CHARS`]), if any.
    pub fn display_name(&self) -> Option<&PlainText> {
        self.0.display_name.as_ref()
    }

    /// Whether a second factor is enrolled.
    pub fn has_totp(&self) -> bool {
        self.0.totp_secret.is_some()
    }

    /// Marks the address proven at `at`. An address proven before keeps its first date;
    /// returns whether anything changed (so the caller knows whether to store the account).
    pub fn verify_email(&mut self, at: Timestamp) -> bool {
        if self.0.email_verified_at.is_some() {
            return false;
        }
        self.0.email_verified_at = Some(at);
        true
    }

    /// Sets (or replaces) the password.
    pub fn set_password(&mut self, hash: PasswordHash) {
        self.0.password_hash = Some(hash);
    }

    /// Records a successful sign-in at `at`, leaving the failed-attempt counters at
    /// `lockout` (what the lockout policy says after a success).
    pub fn record_sign_in(&mut self, lockout: LockoutState, at: Timestamp) {
        self.0.lockout = lockout;
        self.0.last_login_at = Some(at);
    }

    /// Replaces the failed-attempt counters.
    pub fn set_lockout(&mut self, lockout: LockoutState) {
        self.0.lockout = lockout;
    }

    /// Enrols the second factor: the encrypted `secret` and the time `step` of the code that
    /// confirmed it (which cannot be used again). Replaces an earlier enrolment.
    pub fn enable_totp(&mut self, secret: EncryptedField, step: i64) {
        self.0.totp_secret = Some(secret);
        self.0.totp_last_step = Some(step);
    }

    /// Removes the second factor and its replay state.
    pub fn disable_totp(&mut self) {
        self.0.totp_secret = None;
        self.0.totp_last_step = None;
    }

    /// Gives the user `role`.
    pub fn set_role(&mut self, role: Role) {
        self.0.role = role;
    }

    /// Deactivates the account: it can no longer sign in.
    pub fn deactivate(&mut self) {
        self.0.active = false;
    }

    /// Lets a deactivated account sign in again.
    pub fn reactivate(&mut self) {
        self.0.active = true;
    }

    /// Sets or clears the display name.
    ///
    /// # Errors
    /// [`InvalidUser::DisplayNameTooLong`] for a name longer than [`DISPLAY_NAME_MAX_CHARS`]
    /// (the account is unchanged).
    pub fn set_display_name(&mut self, name: Option<PlainText>) -> Result<(), InvalidUser> {
        record::check_display_name(name.as_ref())?;
        self.0.display_name = name;
        Ok(())
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
        user.set_password(PasswordHash::new("$argon2id$v=19$secret".into()));
        assert_eq!(user.role(), Role::Visitor);
        assert!(user.is_active());
        assert!(!user.has_totp());
        let debug = format!("{user:?}");
        assert!(
            !debug.contains("ciphertext") && !debug.contains("argon2id"),
            "{debug}"
        );
    }
}

//! Cryptographic ports: field encryption with a rotating key ring, and the keyed email index.

use wildid_domain::email::Email;
use wildid_domain::secret::SecretBytes;
use wildid_domain::user::{EmailLookup, EncryptedField};

/// Encryption or decryption failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// No key of the ring authenticates this ciphertext (wrong key, or tampered data).
    #[error("ciphertext cannot be decrypted with any key of the ring")]
    Undecryptable,
    /// Encryption could not be performed.
    #[error("encryption failed")]
    Failed,
}

/// Authenticated encryption of single fields at rest (email addresses, TOTP secrets,
/// visit mappings), with key rotation.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait FieldCipher: Send + Sync {
    /// Encrypts with the newest key. Two encryptions of the same plaintext differ.
    ///
    /// # Errors
    /// [`CipherError::Failed`] only if the platform cannot encrypt.
    fn encrypt(&self, plaintext: &[u8]) -> Result<EncryptedField, CipherError>;

    /// Decrypts with whichever key of the ring made the ciphertext.
    ///
    /// # Errors
    /// [`CipherError::Undecryptable`] when no key authenticates it: it MUST never return
    /// unauthenticated plaintext.
    fn decrypt(&self, field: &EncryptedField) -> Result<SecretBytes, CipherError>;

    /// Whether the field was made with a key other than the newest (and should be re-encrypted).
    fn needs_rotation(&self, field: &EncryptedField) -> bool;

    /// A short name of the newest key, the same on every process sharing it and different for
    /// another key; it reveals nothing about the key (safe to store and show).
    fn key_id(&self) -> String;

    /// How many keys the ring holds (the newest and older ones still decrypting).
    fn key_count(&self) -> usize;
}

/// The keyed digest under which accounts are looked up by address.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait EmailIndex: Send + Sync {
    /// HMAC-SHA256 of the normalised address under the server's pepper. Deterministic: the
    /// same address always gives the same lookup on every server sharing the pepper.
    fn lookup(&self, email: &Email) -> EmailLookup;

    /// The address's digests under the older peppers still in the ring, newest first (none
    /// outside a rotation). An account whose digest was made under one of them is still found
    /// until the re-keying walk has moved it to [`lookup`](Self::lookup).
    fn previous_lookups(&self, email: &Email) -> Vec<EmailLookup>;
}

/// Keyed digests of identifiers that must not be stored in clear (client addresses in
/// rate-limit counters, for example).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait KeyedDigest: Send + Sync {
    /// HMAC-SHA256 of `value` for `purpose` under a server secret. The same inputs always give
    /// the same digest; different purposes never collide.
    fn digest(&self, purpose: &str, value: &[u8]) -> [u8; 32];
}

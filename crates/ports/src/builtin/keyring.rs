//! Field encryption with a Fernet key ring ([`FernetKeyRing`], the [`FieldCipher`] port):
//! personal data at rest (addresses, queued mail, visit mappings) is sealed with the newest
//! key and opened with any key of the ring, so keys rotate without a stop.

use fernet::{Fernet, MultiFernet};
use wildid_domain::secret::{SecretBytes, SecretString};
use wildid_domain::user::EncryptedField;

use crate::crypto::{CipherError, FieldCipher};

/// The configured keys do not form a usable ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    /// No key at all.
    #[error("the key ring needs at least one Fernet key")]
    Empty,
    /// Key number `0` (counting from 1, newest first) is not a Fernet key.
    #[error("key {0} of the ring is not a Fernet key (32 bytes, URL-safe base64)")]
    Malformed(usize),
}

/// A Fernet key ring (AES-128-CBC with HMAC-SHA256, encrypt-then-MAC): encrypts with the
/// newest key, decrypts with any key of the ring, so keys rotate by putting a new key first and
/// re-encrypting what [`FieldCipher::needs_rotation`] points out.
#[derive(Clone)]
pub struct FernetKeyRing {
    newest: Fernet,
    all: MultiFernet,
    len: usize,
    newest_id: String,
}

impl std::fmt::Debug for FernetKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FernetKeyRing({} keys)", self.len)
    }
}

impl FernetKeyRing {
    /// A ring of `keys`, newest first.
    ///
    /// # Errors
    /// [`KeyRingError`] naming the first malformed key.
    pub fn new(keys: &[SecretString]) -> Result<Self, KeyRingError> {
        let fernets = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Fernet::new(k.expose().trim()).ok_or(KeyRingError::Malformed(i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let newest = fernets.first().cloned().ok_or(KeyRingError::Empty)?;
        let len = fernets.len();
        let newest_id = keys
            .first()
            .map(|k| key_id(k.expose().trim()))
            .unwrap_or_default();
        Ok(Self {
            newest,
            all: MultiFernet::new(fernets),
            len,
            newest_id,
        })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a ring has at least one key.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The first 8 bytes of SHA-256 over a fixed label and the key, in hex: a name for the key
/// (a digest of 256 random bits tells nothing about them).
fn key_id(key: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(b"wildid field key id\0")
        .chain_update(key.as_bytes())
        .finalize();
    hex::encode(&digest[..8])
}

impl FieldCipher for FernetKeyRing {
    fn encrypt(&self, plaintext: &[u8]) -> Result<EncryptedField, CipherError> {
        Ok(EncryptedField::new(self.all.encrypt(plaintext)))
    }

    fn decrypt(&self, field: &EncryptedField) -> Result<SecretBytes, CipherError> {
        self.all
            .decrypt(field.as_str())
            .map(SecretBytes::new)
            .map_err(|_| CipherError::Undecryptable)
    }

    fn needs_rotation(&self, field: &EncryptedField) -> bool {
        self.newest.decrypt(field.as_str()).is_err()
    }

    fn key_id(&self) -> String {
        self.newest_id.clone()
    }

    fn key_count(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretString {
        SecretString::new(Fernet::generate_key())
    }

    #[test]
    fn rotation_keeps_old_data_readable() {
        let (old, new) = (key(), key());
        let before = FernetKeyRing::new(std::slice::from_ref(&old)).unwrap();
        let field = before.encrypt(b"ann@example.org").unwrap();
        let after = FernetKeyRing::new(&[new.clone(), old.clone()]).unwrap();
        assert_eq!(after.decrypt(&field).unwrap().expose(), b"ann@example.org");
        assert!(after.needs_rotation(&field));
        let rotated = after
            .encrypt(after.decrypt(&field).unwrap().expose())
            .unwrap();
        assert!(!after.needs_rotation(&rotated));
        assert_ne!(rotated, field);
        // The key's name follows the newest key, and is not the key.
        let again = FernetKeyRing::new(&[new.clone(), old.clone()]).unwrap();
        assert_eq!(again.key_id(), after.key_id());
        assert_ne!(after.key_id(), before.key_id());
        assert_eq!(after.key_id().len(), 16);
        assert!(!old.expose().contains(&before.key_id()));
        assert_eq!((before.key_count(), after.key_count()), (1, 2));
    }

    #[test]
    fn tampering_and_foreign_keys_are_refused() {
        use base64::Engine as _;
        let ring = FernetKeyRing::new(&[key()]).unwrap();
        let other = FernetKeyRing::new(&[key()]).unwrap();
        let field = ring.encrypt(b"secret").unwrap();
        assert_eq!(
            other.decrypt(&field).map(|_| ()),
            Err(CipherError::Undecryptable)
        );
        // Every byte is authenticated (ASVS 11.3.3): the version, time stamp, IV, ciphertext
        // and tag. Flip one bit anywhere in the token and it no longer opens.
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(field.as_str())
            .unwrap();
        for at in 0..bytes.len() {
            let mut forged = bytes.clone();
            forged[at] ^= 0x01;
            let forged = base64::engine::general_purpose::URL_SAFE.encode(&forged);
            assert!(
                ring.decrypt(&EncryptedField::new(forged)).is_err(),
                "a change at byte {at} was not noticed"
            );
        }
        // A fresh IV each time: one value never gives the same ciphertext twice.
        assert_ne!(
            ring.encrypt(b"secret").unwrap(),
            ring.encrypt(b"secret").unwrap()
        );
        assert_eq!(
            FernetKeyRing::new(&[]).map(|_| ()),
            Err(KeyRingError::Empty)
        );
        assert_eq!(
            FernetKeyRing::new(&[key(), SecretString::new("not-a-key".into())]).map(|_| ()),
            Err(KeyRingError::Malformed(2))
        );
    }
}

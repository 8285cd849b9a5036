//! Keyed digests: [`HmacEmailIndex`] finds an account by its address without storing the
//! address in clear (HMAC-SHA256 under a secret pepper), and [`HmacDigest`] gives the same kind
//! of keyed, non-reversible identifier for other values (networks for the rate limits).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wildid_domain::email::Email;
use wildid_domain::secret::SecretBytes;
use wildid_domain::user::EmailLookup;

use crate::crypto::EmailIndex;

/// The pepper is shorter than 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the email pepper must be at least 32 bytes")]
pub struct PepperTooShort;

/// HMAC-SHA256 of the normalised address under a secret pepper. Without the pepper a copy of
/// the database cannot be searched for a known address.
///
/// A ring, as the field key is: the current pepper makes every new digest; older peppers
/// (during a rotation) are only tried when looking an account up, until the re-keying walk
/// (`services::email_rekey`) has moved every stored digest to the current one.
pub struct HmacEmailIndex {
    pepper: SecretBytes,
    previous: Vec<SecretBytes>,
}

impl std::fmt::Debug for HmacEmailIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacEmailIndex(***, {} previous)", self.previous.len())
    }
}

impl HmacEmailIndex {
    /// An index keyed by `pepper` alone.
    ///
    /// # Errors
    /// [`PepperTooShort`] under 32 bytes.
    pub fn new(pepper: SecretBytes) -> Result<Self, PepperTooShort> {
        Self::with_previous(pepper, Vec::new())
    }

    /// An index whose digests are made under `pepper` and whose lookups also try `previous`
    /// (newest first), during a rotation.
    ///
    /// # Errors
    /// [`PepperTooShort`] when any pepper is under 32 bytes.
    pub fn with_previous(
        pepper: SecretBytes,
        previous: Vec<SecretBytes>,
    ) -> Result<Self, PepperTooShort> {
        if std::iter::once(&pepper)
            .chain(&previous)
            .any(|p| p.expose().len() < 32)
        {
            return Err(PepperTooShort);
        }
        Ok(Self { pepper, previous })
    }

    /// How many older peppers the ring holds.
    pub fn previous_count(&self) -> usize {
        self.previous.len()
    }
}

/// The digest of `email` under `pepper`.
fn digest(pepper: &SecretBytes, email: &Email) -> EmailLookup {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an all-zero digest
    // rather than panic if it ever did.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(pepper.expose()) else {
        return EmailLookup::from_bytes([0; 32]);
    };
    mac.update(b"wildid-email-v1:");
    mac.update(email.as_str().as_bytes());
    EmailLookup::from_bytes(mac.finalize().into_bytes().into())
}

impl EmailIndex for HmacEmailIndex {
    fn lookup(&self, email: &Email) -> EmailLookup {
        digest(&self.pepper, email)
    }

    fn previous_lookups(&self, email: &Email) -> Vec<EmailLookup> {
        self.previous.iter().map(|p| digest(p, email)).collect()
    }
}

/// HMAC-SHA256 keyed digests for counters and other pseudonymous keys.
pub struct HmacDigest {
    key: SecretBytes,
}

impl std::fmt::Debug for HmacDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacDigest(***)")
    }
}

impl HmacDigest {
    /// Keyed by `key` (derive it for this purpose; see `derive_key`).
    pub fn new(key: SecretBytes) -> Self {
        Self { key }
    }
}

impl crate::crypto::KeyedDigest for HmacDigest {
    fn digest(&self, purpose: &str, value: &[u8]) -> [u8; 32] {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose()) else {
            return [0; 32];
        };
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(value);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_address_same_lookup_other_pepper_other_lookup() {
        let a = HmacEmailIndex::new(SecretBytes::new(vec![1; 32])).unwrap();
        let b = HmacEmailIndex::new(SecretBytes::new(vec![2; 32])).unwrap();
        let e1 = Email::parse(" Ann@Example.org").unwrap();
        let e2 = Email::parse("ann@example.org").unwrap();
        assert_eq!(a.lookup(&e1), a.lookup(&e2));
        assert_ne!(a.lookup(&e1), b.lookup(&e1));
        assert!(HmacEmailIndex::new(SecretBytes::new(vec![1; 31])).is_err());
    }

    #[test]
    fn older_peppers_are_tried_but_never_make_the_digest() {
        let (old, new) = (SecretBytes::new(vec![1; 32]), SecretBytes::new(vec![2; 32]));
        let before = HmacEmailIndex::new(old.clone()).unwrap();
        let ring = HmacEmailIndex::with_previous(new.clone(), vec![old]).unwrap();
        let after = HmacEmailIndex::new(new).unwrap();
        let e = Email::parse("ann@example.org").unwrap();
        assert_eq!(ring.lookup(&e), after.lookup(&e));
        assert_eq!(ring.previous_lookups(&e), vec![before.lookup(&e)]);
        assert!(after.previous_lookups(&e).is_empty());
        assert_eq!(ring.previous_count(), 1);
        assert!(
            HmacEmailIndex::with_previous(
                SecretBytes::new(vec![2; 32]),
                vec![SecretBytes::new(vec![1; 31])]
            )
            .is_err()
        );
    }

    #[test]
    fn digests_separate_purposes() {
        use crate::crypto::KeyedDigest;
        let d = HmacDigest::new(SecretBytes::new(vec![3; 32]));
        assert_eq!(
            d.digest("login-ip", b"1.2.3.4"),
            d.digest("login-ip", b"1.2.3.4")
        );
        assert_ne!(
            d.digest("login-ip", b"1.2.3.4"),
            d.digest("mail-ip", b"1.2.3.4")
        );
        assert_ne!(d.digest("a", b"bc"), d.digest("ab", b"c"));
    }
}

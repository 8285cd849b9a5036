//! Key derivation: one master secret gives an independent key per purpose ([`derive_key`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use wildid_domain::secret::SecretBytes;

/// Derives a 64-byte key for one `purpose` from a master secret (HMAC-SHA512 of the purpose
/// label under the master key). Different purposes give independent keys, so one master
/// secret can sign cookies, CSRF tokens and captcha challenges without key reuse.
pub fn derive_key(master: &SecretBytes, purpose: &str) -> SecretBytes {
    let Ok(mut mac) = <Hmac<Sha512> as KeyInit>::new_from_slice(master.expose()) else {
        // Unreachable: HMAC takes keys of any length.
        return SecretBytes::new(vec![0; 64]);
    };
    mac.update(b"wildid-kdf-v1:");
    mac.update(purpose.as_bytes());
    SecretBytes::new(mac.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_give_independent_stable_keys() {
        let master = SecretBytes::new(vec![5; 64]);
        let a = derive_key(&master, "flash-cookie");
        assert_eq!(a.expose().len(), 64);
        assert_eq!(a.expose(), derive_key(&master, "flash-cookie").expose());
        assert_ne!(a.expose(), derive_key(&master, "csrf").expose());
        assert_ne!(
            a.expose(),
            derive_key(&SecretBytes::new(vec![6; 64]), "flash-cookie").expose()
        );
    }
}

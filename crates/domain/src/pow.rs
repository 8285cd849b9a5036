//! ALTCHA-compatible proof of work, the default CAPTCHA: the server picks a secret number below
//! `max_number` and publishes `challenge = SHA-256(salt ‖ number)` signed with an HMAC; the
//! browser finds the number by trying them all (on average `max_number / 2` hashes) and sends
//! it back. No third party, no tracking, nothing for a person to read.
//!
//! The wire format is ALTCHA's (challenge `{algorithm, challenge, maxnumber, salt, signature}`,
//! solution `{algorithm, challenge, number, salt, signature}`), with the expiry carried in the
//! salt as `?expires=UNIX_SECONDS`, so ALTCHA's widget and libraries interoperate. Written here
//! rather than taken from a crate because the Rust one compares signatures with `!=`, reads
//! the clock itself and trusts the algorithm named by the client; here every comparison is
//! constant-time, time is passed in, and only SHA-256 is accepted.
//!
//! Single use is not this module's business: the CAPTCHA service stores each challenge and
//! deletes it when answered, so a replayed solution finds nothing.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Timestamp;

/// The only algorithm issued and accepted.
pub const ALGORITHM: &str = "SHA-256";

/// Largest `max_number` accepted (a browser needs minutes beyond this).
pub const MAX_DIFFICULTY: u64 = 10_000_000;

/// The HMAC key that signs challenges (derived from the server's master secret). 64 bytes,
/// SHA-256's block size, so HMAC uses it as it is.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PowKey([u8; 64]);

impl PowKey {
    /// A key from 64 secret bytes.
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    fn mac(&self, data: &str) -> Hmac<Sha256> {
        let key = hmac::digest::Key::<Hmac<Sha256>>::from(self.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&key);
        mac.update(data.as_bytes());
        mac
    }
}

impl core::fmt::Debug for PowKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PowKey(***)")
    }
}

/// A challenge as sent to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowChallenge {
    /// Hex SHA-256 of `salt ‖ number`.
    pub challenge: String,
    /// The secret number is at most this.
    pub max_number: u64,
    /// Random hex, then `?expires=UNIX_SECONDS`.
    pub salt: String,
    /// Hex HMAC-SHA256 of `challenge` under the server's key.
    pub signature: String,
}

/// A solution as the browser sends it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowSolution {
    /// Must be [`ALGORITHM`].
    pub algorithm: String,
    /// The challenge being answered.
    pub challenge: String,
    /// The number found.
    pub number: u64,
    /// The challenge's salt.
    pub salt: String,
    /// The challenge's signature.
    pub signature: String,
}

/// Why a solution is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowRejection {
    /// Another algorithm than SHA-256.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature is not ours: the challenge was made up or altered.
    #[error("bad signature")]
    Signature,
    /// The number does not solve the challenge.
    #[error("wrong number")]
    WrongNumber,
    /// The salt carries no expiry, or it has passed.
    #[error("expired")]
    Expired,
}

fn sha256_hex(salt: &str, number: u64) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(number.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl PowChallenge {
    /// A challenge, and the number that solves it (`random` taken modulo `max_number + 1`),
    /// salted with `salt_bytes`, valid until `expires_at`, signed with `key`. `max_number` is
    /// clamped to `1..=`[`MAX_DIFFICULTY`].
    pub fn create(
        key: &PowKey,
        salt_bytes: [u8; 12],
        random: u64,
        max_number: u64,
        expires_at: Timestamp,
    ) -> (Self, u64) {
        let max_number = max_number.clamp(1, MAX_DIFFICULTY);
        let number = random % (max_number + 1);
        let salt = format!(
            "{}?expires={}",
            hex::encode(salt_bytes),
            expires_at.timestamp()
        );
        let challenge = sha256_hex(&salt, number);
        let signature = hex::encode(key.mac(&challenge).finalize().into_bytes());
        let challenge = Self {
            challenge,
            max_number,
            salt,
            signature,
        };
        (challenge, number)
    }

    /// Finds the number by brute force, as the browser does (tests and benchmarks).
    pub fn solve(&self) -> Option<u64> {
        (0..=self.max_number).find(|n| ct_eq(&sha256_hex(&self.salt, *n), &self.challenge))
    }
}

impl PowSolution {
    /// Checks the algorithm, our signature, the expiry in the salt (at `now`) and the number.
    ///
    /// # Errors
    /// The first [`PowRejection`] that applies.
    pub fn verify(&self, key: &PowKey, now: Timestamp) -> Result<(), PowRejection> {
        if self.algorithm != ALGORITHM {
            return Err(PowRejection::Algorithm);
        }
        let signature = hex::decode(&self.signature).map_err(|_| PowRejection::Signature)?;
        key.mac(&self.challenge)
            .verify_slice(&signature)
            .map_err(|_| PowRejection::Signature)?;
        let expires = self
            .salt
            .split_once('?')
            .and_then(|(_, params)| {
                params
                    .split('&')
                    .find_map(|p| p.strip_prefix("expires="))
                    .and_then(|v| v.parse::<i64>().ok())
            })
            .ok_or(PowRejection::Expired)?;
        if now.timestamp() >= expires {
            return Err(PowRejection::Expired);
        }
        if !ct_eq(&sha256_hex(&self.salt, self.number), &self.challenge) {
            return Err(PowRejection::WrongNumber);
        }
        Ok(())
    }
}

impl From<&PowChallenge> for PowSolution {
    /// The solution form of a challenge, with its number still to be filled in.
    fn from(c: &PowChallenge) -> Self {
        Self {
            algorithm: ALGORITHM.to_owned(),
            challenge: c.challenge.clone(),
            number: 0,
            salt: c.salt.clone(),
            signature: c.signature.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Duration;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    fn key() -> PowKey {
        PowKey::from_bytes([7; 64])
    }

    fn issued(number: u64) -> PowChallenge {
        PowChallenge::create(&key(), [1; 12], number, 1000, t0() + Duration::minutes(5)).0
    }

    #[test]
    fn a_solved_challenge_verifies_until_it_expires() {
        let c = issued(421);
        assert!(c.salt.ends_with(&format!(
            "?expires={}",
            (t0() + Duration::minutes(5)).timestamp()
        )));
        let mut s = PowSolution::from(&c);
        s.number = c.solve().unwrap();
        assert_eq!(s.number, 421);
        assert_eq!(s.verify(&key(), t0()), Ok(()));
        assert_eq!(
            s.verify(&key(), t0() + Duration::minutes(5)),
            Err(PowRejection::Expired)
        );
    }

    #[test]
    fn matches_altcha_s_construction() {
        // SHA-256("abc?expires=100" ‖ "5") and its HMAC, computed independently.
        let salt = "abc?expires=100";
        assert_eq!(
            sha256_hex(salt, 5),
            hex::encode(Sha256::digest(b"abc?expires=1005"))
        );
    }

    #[test]
    fn tampering_is_refused() {
        let c = issued(17);
        let good = PowSolution {
            number: 17,
            ..PowSolution::from(&c)
        };
        let now = t0();
        assert_eq!(
            PowSolution {
                number: 18,
                ..good.clone()
            }
            .verify(&key(), now),
            Err(PowRejection::WrongNumber)
        );
        assert_eq!(
            PowSolution {
                algorithm: "SHA-1".into(),
                ..good.clone()
            }
            .verify(&key(), now),
            Err(PowRejection::Algorithm)
        );
        assert_eq!(
            good.verify(&PowKey::from_bytes([8; 64]), now),
            Err(PowRejection::Signature),
            "another server's key"
        );
        // A self-made challenge with a later expiry is not signed by us.
        let forged = PowChallenge::create(
            &PowKey::from_bytes([9; 64]),
            [1; 12],
            17,
            1000,
            t0() + Duration::days(365),
        )
        .0;
        assert_eq!(
            PowSolution {
                number: 17,
                ..PowSolution::from(&forged)
            }
            .verify(&key(), now),
            Err(PowRejection::Signature)
        );
        // Moving the expiry in the salt breaks the challenge digest or the signature.
        let moved = PowSolution {
            salt: good.salt.replace("?expires=", "?expires=9"),
            ..good.clone()
        };
        assert_eq!(moved.verify(&key(), now), Err(PowRejection::WrongNumber));
        assert_eq!(
            PowSolution {
                signature: "zz".into(),
                ..good
            }
            .verify(&key(), now),
            Err(PowRejection::Signature)
        );
    }

    proptest! {
        /// Only the issued number solves a challenge, whatever the difficulty.
        #[test]
        fn only_the_issued_number_verifies(number in 0u64..5000, max in 1u64..5000, other in 0u64..5000) {
            let (c, answer) = PowChallenge::create(&key(), [3; 12], number, max, t0() + Duration::minutes(1));
            prop_assert_eq!(answer, number % (max + 1));
            let s = PowSolution { number: other, ..PowSolution::from(&c) };
            prop_assert_eq!(s.verify(&key(), t0()).is_ok(), other == answer);
            prop_assert!(c.max_number >= answer);
        }
    }
}

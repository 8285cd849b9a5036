//! The second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps, one step
//! of skew either way), as every common authenticator app computes it, with replay protection
//! (a step accepted once is never accepted again), and one-time recovery codes.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

use crate::Timestamp;
use crate::secret::{SecretBytes, SecretString};

/// Bytes of a new TOTP secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// Issuer shown by authenticator apps.
pub const ISSUER: &str = "WildID";
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;

/// A TOTP shared secret. Never printed.
#[derive(Clone)]
pub struct TotpSecret(SecretBytes);

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejected {
    /// Not 6 digits, or not the code of a step within the skew.
    #[error("the code is wrong")]
    Wrong,
    /// The code of a step accepted before (a replay).
    #[error("this code was already used; wait for the next one")]
    Replayed,
}

/// The stored secret has the wrong size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a TOTP secret needs 16 to 64 bytes")]
pub struct InvalidSecret;

impl TotpSecret {
    /// A new secret from 20 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(SecretBytes::new(bytes.to_vec()))
    }

    /// Rebuilds a stored secret.
    ///
    /// # Errors
    /// [`InvalidSecret`] outside 16 to 64 bytes.
    pub fn from_bytes(bytes: SecretBytes) -> Result<Self, InvalidSecret> {
        if (16..=64).contains(&bytes.expose().len()) {
            Ok(Self(bytes))
        } else {
            Err(InvalidSecret)
        }
    }

    /// Reads a base32 secret as an authenticator app would (case and spaces ignored).
    ///
    /// # Errors
    /// [`InvalidSecret`] for characters outside base32 or a wrong size.
    pub fn from_base32(text: &str) -> Result<Self, InvalidSecret> {
        let mut out = Vec::new();
        let mut buffer = 0u32;
        let mut bits = 0;
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
            let value = BASE32
                .iter()
                .position(|b| char::from(*b) == c.to_ascii_uppercase())
                .ok_or(InvalidSecret)?;
            buffer = (buffer << 5) | u32::try_from(value).map_err(|_| InvalidSecret)?;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push(((buffer >> bits) & 0xff) as u8);
            }
        }
        Self::from_bytes(SecretBytes::new(out))
    }

    /// The raw secret (to encrypt for storage).
    pub fn bytes(&self) -> &SecretBytes {
        &self.0
    }

    fn totp(&self, account: &str) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(self.0.expose().clone())
            .with_account_name(account)
            .with_issuer(Some(ISSUER))
            .build()
            .ok()
    }

    /// The secret in base32, as typed into an app by hand.
    pub fn base32(&self) -> SecretString {
        SecretString::new(base32_encode(self.0.expose()))
    }

    /// The `otpauth://` URL an app scans from a QR code. `account` is the user's address (it
    /// cannot contain `:`, which validated addresses never do).
    pub fn otpauth_url(&self, account: &str) -> Option<SecretString> {
        self.totp(account)?.to_url().ok().map(SecretString::new)
    }

    /// Checks `code` at `now`. `last_step` is the step of the last accepted code: that step and
    /// older ones are refused, so no code works twice. Returns the step to remember.
    ///
    /// # Errors
    /// [`CodeRejected`].
    pub fn accept(
        &self,
        code: &str,
        now: Timestamp,
        last_step: Option<i64>,
    ) -> Result<i64, CodeRejected> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(CodeRejected::Wrong);
        }
        let time = u64::try_from(now.timestamp()).map_err(|_| CodeRejected::Wrong)?;
        let totp = self.totp("").ok_or(CodeRejected::Wrong)?;
        let step = totp.check(&code, time).ok_or(CodeRejected::Wrong)?;
        let step = i64::try_from(step).map_err(|_| CodeRejected::Wrong)?;
        if last_step.is_some_and(|last| step <= last) {
            return Err(CodeRejected::Replayed);
        }
        Ok(step)
    }

    /// The code of the step containing `at` (for tests and for showing the setup works).
    pub fn code_at(&self, at: Timestamp) -> Option<String> {
        let time = u64::try_from(at.timestamp()).ok()?;
        Some(self.totp("")?.generate(time).to_string())
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A recovery code as shown to the user once: 16 characters of base32 (80 bits), grouped
/// `xxxx-xxxx-xxxx-xxxx`.
pub struct RecoveryCode(SecretString);

impl RecoveryCode {
    /// A code from 10 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; 10]) -> Self {
        let plain = base32_encode(&bytes).to_ascii_lowercase();
        let grouped = plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        Self(SecretString::new(grouped))
    }

    /// The code as shown.
    pub fn display(&self) -> &str {
        self.0.expose()
    }

    /// The stored form with a 16-byte salt.
    pub fn hash(&self, salt: [u8; 16]) -> RecoveryCodeHash {
        RecoveryCodeHash::compute(self.0.expose(), salt)
    }
}

/// A salted SHA-256 of a recovery code (80-bit codes make a slow hash unnecessary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryCodeHash {
    /// Random, one per code, so equal codes of two accounts do not show.
    pub salt: [u8; 16],
    /// SHA-256 of the salt and the code; compared in constant time.
    pub digest: [u8; 32],
}

impl RecoveryCodeHash {
    fn compute(code: &str, salt: [u8; 16]) -> Self {
        let normalised: String = code
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let mut h = Sha256::new();
        h.update(salt);
        h.update(normalised.as_bytes());
        Self {
            salt,
            digest: h.finalize().into(),
        }
    }

    /// Whether `typed` (any case, with or without dashes and spaces) is this code; constant time.
    pub fn matches(&self, typed: &str) -> bool {
        let other = Self::compute(typed, self.salt);
        self.digest.ct_eq(&other.digest).into()
    }
}

/// Encodes a pending enrolment (user id, secret, time) for a hidden form field; the caller
/// encrypts it with the key ring.
pub fn pending_enrolment(
    user: &crate::ids::UserId,
    secret: &TotpSecret,
    at: Timestamp,
) -> SecretString {
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.bytes().expose());
    SecretString::new(format!("{user}|{secret}|{}", at.timestamp()))
}

/// Decodes what [`pending_enrolment`] made, if it belongs to `user` and is at most
/// `max_age_seconds` old at `now`.
pub fn open_pending_enrolment(
    plain: &str,
    user: &crate::ids::UserId,
    now: Timestamp,
    max_age_seconds: i64,
) -> Option<TotpSecret> {
    let mut parts = plain.split('|');
    let (Some(owner), Some(secret), Some(at), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let at: i64 = at.parse().ok()?;
    if owner != user.to_string()
        || now.timestamp() - at > max_age_seconds
        || at > now.timestamp() + 60
    {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(secret)
        .ok()?;
    TotpSecret::from_bytes(SecretBytes::new(bytes)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use chrono::TimeZone;

    fn t(secs: i64) -> Timestamp {
        chrono::Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// RFC 6238 appendix B, SHA-1 (the 8-digit vectors, last 6 digits).
    #[test]
    fn rfc_6238_vectors() {
        let secret =
            TotpSecret::from_bytes(SecretBytes::new(b"12345678901234567890".to_vec())).unwrap();
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(secret.code_at(t(time)).unwrap(), code, "at {time}");
        }
        assert_eq!(secret.base32().expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let back = TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap();
        assert_eq!(back.bytes().expose(), secret.bytes().expose());
        assert!(TotpSecret::from_base32("not base32!").is_err());
    }

    #[test]
    fn skew_replay_and_garbage() {
        let secret = TotpSecret::from_random([7; 20]);
        let now = t(1_800_000_000);
        let code = secret.code_at(now).unwrap();
        let step = secret.accept(&code, now, None).unwrap();
        assert_eq!(
            secret.accept(&code, now, Some(step)),
            Err(CodeRejected::Replayed)
        );
        let previous = secret
            .code_at(now - chrono::TimeDelta::seconds(30))
            .unwrap();
        assert!(
            secret.accept(&previous, now, None).is_ok(),
            "one step of skew"
        );
        let old = secret
            .code_at(now - chrono::TimeDelta::seconds(90))
            .unwrap();
        assert_eq!(secret.accept(&old, now, None), Err(CodeRejected::Wrong));
        assert_eq!(secret.accept("12345", now, None), Err(CodeRejected::Wrong));
        assert_eq!(secret.accept("abcdef", now, None), Err(CodeRejected::Wrong));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(
            secret
                .accept(&spaced, now + chrono::TimeDelta::seconds(30), None)
                .is_ok()
        );
        let url = secret.otpauth_url("ann@example.org").unwrap();
        assert!(
            url.expose()
                .starts_with("otpauth://totp/WildID:ann%40example.org?secret="),
            "{}",
            url.expose()
        );
        assert_eq!(format!("{secret:?}"), "TotpSecret(***)");
    }

    #[test]
    fn recovery_codes_match_loosely_and_only_themselves() {
        let code = RecoveryCode::from_random([9; 10]);
        assert_eq!(code.display().len(), 19);
        let stored = code.hash([1; 16]);
        assert!(stored.matches(code.display()));
        assert!(stored.matches(&code.display().to_uppercase().replace('-', " ")));
        assert!(!stored.matches(RecoveryCode::from_random([8; 10]).display()));
        assert_ne!(code.hash([2; 16]).digest, stored.digest, "salted");
    }

    #[test]
    fn pending_enrolments_are_bound_to_user_and_time() {
        let user = UserId::from_random([1; 16]);
        let secret = TotpSecret::from_random([3; 20]);
        let plain = pending_enrolment(&user, &secret, t(1000));
        let opened = open_pending_enrolment(plain.expose(), &user, t(1500), 900).unwrap();
        assert_eq!(opened.bytes().expose(), secret.bytes().expose());
        assert!(
            open_pending_enrolment(plain.expose(), &UserId::from_random([2; 16]), t(1500), 900)
                .is_none()
        );
        assert!(open_pending_enrolment(plain.expose(), &user, t(2000), 900).is_none());
    }
}

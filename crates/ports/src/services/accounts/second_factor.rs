//! The second factor: TOTP enrolment and removal, recovery codes, and checking a code at
//! sign-in (each TOTP step accepted once; each recovery code used once, both atomically).

use wildid_domain::audit::{Action, Actor, AuditDetails};
use wildid_domain::ids::UserId;
use wildid_domain::secret::SecretString;
use wildid_domain::totp::{
    CodeRejected, RECOVERY_CODES, RecoveryCode, TotpSecret, open_pending_enrolment,
    pending_enrolment,
};
use wildid_domain::user::{EncryptedField, User};

use super::{Accounts, Requester};
use crate::RepoError;
use crate::random::random_array;

/// What enrolling a second factor shows.
pub struct TotpEnrolment {
    /// The encrypted pending state to send back with the first code.
    pub pending: String,
    /// The secret, for typing into an app by hand.
    pub secret_base32: SecretString,
    /// The `otpauth://` URL, for the QR code.
    pub otpauth_url: SecretString,
}

/// Why a second-factor change failed.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// The enrolment started too long ago or was tampered with.
    #[error("the set-up expired; start again")]
    Expired,
    /// The code does not match the new secret.
    #[error("the code is wrong; check the time on your device and try the next code")]
    WrongCode,
    /// No second factor is enrolled.
    #[error("two-factor authentication is not on")]
    NotEnrolled,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for TotpError {
    fn from(e: RepoError) -> Self {
        TotpError::Unavailable(e.to_string())
    }
}

impl Accounts {
    /// Checks a second-factor code: a TOTP code (each step accepted once, atomically) or one of
    /// the account's unused recovery codes (used up atomically, audited).
    ///
    /// # Errors
    /// [`RepoError`] when storage fails.
    pub(super) async fn second_factor_ok(
        &self,
        user: &User,
        code: &str,
        who: Requester,
    ) -> Result<bool, RepoError> {
        let Some(secret) = self.totp_secret(user) else {
            return Ok(false);
        };
        let now = self.ports.clock.now();
        let typed = code.trim();
        if typed.chars().filter(char::is_ascii_digit).count() == 6 && typed.len() <= 7 {
            return match secret.accept(typed, now, user.totp_last_step()) {
                Ok(step) => {
                    self.ports
                        .users
                        .swap_totp_step(user.id(), user.totp_last_step(), step)
                        .await
                }
                Err(CodeRejected::Replayed) => {
                    self.audit(
                        Actor::User(user.id()),
                        Action::TotpReplayRefused,
                        Some(user.id()),
                        AuditDetails::new(),
                        who,
                    )
                    .await;
                    Ok(false)
                }
                Err(CodeRejected::Wrong) => Ok(false),
            };
        }
        for stored in self.ports.recovery_codes.unused(user.id()).await? {
            if stored.hash.matches(typed) {
                let used = self
                    .ports
                    .recovery_codes
                    .use_code(user.id(), stored.index, now)
                    .await?;
                if used {
                    let left = self.ports.recovery_codes.unused(user.id()).await?.len();
                    let details = AuditDetails::new().with("remaining", left.to_string());
                    self.audit(
                        Actor::User(user.id()),
                        Action::RecoveryCodeUsed,
                        Some(user.id()),
                        details,
                        who,
                    )
                    .await;
                }
                return Ok(used);
            }
        }
        Ok(false)
    }

    fn totp_secret(&self, user: &User) -> Option<TotpSecret> {
        let field = user.totp_secret()?;
        match self.ports.cipher.decrypt(field).map(TotpSecret::from_bytes) {
            Ok(Ok(secret)) => Some(secret),
            _ => {
                tracing::error!(user = %user.id(), "a TOTP secret cannot be decrypted with the key ring");
                None
            }
        }
    }

    /// Starts enrolling a second factor: a fresh secret, how to show it, and the encrypted
    /// pending state to send back with the first code.
    ///
    /// # Errors
    /// [`TotpError::Unavailable`] when the secret cannot be drawn or encrypted.
    pub fn begin_totp(&self, user: &User) -> Result<TotpEnrolment, TotpError> {
        let bytes = random_array(self.ports.random.as_ref())
            .map_err(|_| TotpError::Unavailable("no secure randomness".into()))?;
        let secret = TotpSecret::from_random(bytes);
        let plain = pending_enrolment(&user.id(), &secret, self.ports.clock.now());
        let pending = self
            .ports
            .cipher
            .encrypt(plain.expose().as_bytes())
            .map_err(|e| TotpError::Unavailable(e.to_string()))?;
        self.enrolment(user, &secret, pending.as_str())
    }

    /// The same enrolment again (after a wrong first code, so the secret the user has already
    /// scanned stays valid), while it is not expired.
    ///
    /// # Errors
    /// [`TotpError::Expired`] when `pending` is too old, another user's or tampered with.
    pub fn resume_totp(&self, user: &User, pending: &str) -> Result<TotpEnrolment, TotpError> {
        let secret = self.open_pending(user, pending)?;
        self.enrolment(user, &secret, pending)
    }

    fn open_pending(&self, user: &User, pending: &str) -> Result<TotpSecret, TotpError> {
        let plain = self
            .ports
            .cipher
            .decrypt(&EncryptedField::new(pending.to_owned()))
            .map_err(|_| TotpError::Expired)?;
        let plain = String::from_utf8(plain.expose().clone()).map_err(|_| TotpError::Expired)?;
        open_pending_enrolment(&plain, &user.id(), self.ports.clock.now(), 15 * 60)
            .ok_or(TotpError::Expired)
    }

    fn enrolment(
        &self,
        user: &User,
        secret: &TotpSecret,
        pending: &str,
    ) -> Result<TotpEnrolment, TotpError> {
        let profile = self
            .profile(user)
            .map_err(|e| TotpError::Unavailable(e.to_string()))?;
        let url = secret
            .otpauth_url(&profile.email)
            .ok_or_else(|| TotpError::Unavailable("otpauth url".into()))?;
        Ok(TotpEnrolment {
            pending: pending.to_owned(),
            secret_base32: secret.base32(),
            otpauth_url: url,
        })
    }

    /// Finishes enrolment when `code` is right for the pending secret (made by
    /// [`Accounts::begin_totp`] for this user within 15 minutes): stores the secret encrypted
    /// and returns 10 new recovery codes, shown once.
    ///
    /// # Errors
    /// [`TotpError`].
    pub async fn confirm_totp(
        &self,
        user: &User,
        pending: &str,
        code: &str,
        who: Requester,
    ) -> Result<Vec<RecoveryCode>, TotpError> {
        let now = self.ports.clock.now();
        let secret = self.open_pending(user, pending)?;
        let step = secret
            .accept(code, now, None)
            .map_err(|_| TotpError::WrongCode)?;
        let encrypted = self
            .ports
            .cipher
            .encrypt(secret.bytes().expose())
            .map_err(|e| TotpError::Unavailable(e.to_string()))?;
        let mut updated = self.ports.users.get(user.id()).await?;
        updated.enable_totp(encrypted, step);
        self.ports.users.update(&updated).await?;
        let codes = self.new_recovery_codes(user.id()).await?;
        self.audit(
            Actor::User(user.id()),
            Action::TotpEnabled,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(codes)
    }

    /// Turns the second factor off (and deletes the recovery codes).
    ///
    /// # Errors
    /// [`TotpError::Unavailable`].
    pub async fn disable_totp(&self, user: &User, who: Requester) -> Result<(), TotpError> {
        let mut updated = self.ports.users.get(user.id()).await?;
        updated.disable_totp();
        self.ports.users.update(&updated).await?;
        self.ports.recovery_codes.delete_all(user.id()).await?;
        self.audit(
            Actor::User(user.id()),
            Action::TotpDisabled,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Replaces every recovery code with 10 new ones, shown once.
    ///
    /// # Errors
    /// [`TotpError::NotEnrolled`] without a second factor.
    pub async fn regenerate_recovery_codes(
        &self,
        user: &User,
        who: Requester,
    ) -> Result<Vec<RecoveryCode>, TotpError> {
        if !user.has_totp() {
            return Err(TotpError::NotEnrolled);
        }
        let codes = self.new_recovery_codes(user.id()).await?;
        self.audit(
            Actor::User(user.id()),
            Action::RecoveryCodesRegenerated,
            Some(user.id()),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(codes)
    }

    async fn new_recovery_codes(&self, user: UserId) -> Result<Vec<RecoveryCode>, TotpError> {
        let random = self.ports.random.as_ref();
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        let mut hashes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let code = RecoveryCode::from_random(
                random_array(random).map_err(|_| TotpError::Unavailable("no randomness".into()))?,
            );
            hashes.push(code.hash(
                random_array(random).map_err(|_| TotpError::Unavailable("no randomness".into()))?,
            ));
            codes.push(code);
        }
        self.ports.recovery_codes.replace_all(user, &hashes).await?;
        Ok(codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::accounts::test_world::{accounts, user_of, world};

    #[tokio::test]
    async fn a_wrong_first_code_keeps_the_enrolment_and_stores_nothing() {
        // No expectation on the repositories: storing a secret would panic.
        let accounts = accounts(world());
        let user = user_of("ada@example.org", 1);
        let enrolment = accounts.begin_totp(&user).unwrap();
        assert!(
            enrolment
                .otpauth_url
                .expose()
                .starts_with("otpauth://totp/")
        );
        // A code that is none of the accepted window's (now, and one step either side).
        let secret = TotpSecret::from_base32(enrolment.secret_base32.expose()).unwrap();
        let now = chrono::Utc::now();
        let window: Vec<_> = [-30, 0, 30]
            .into_iter()
            .filter_map(|s| secret.code_at(now + chrono::Duration::seconds(s)))
            .collect();
        let wrong = (0..4u32)
            .map(|n| format!("{:06}", n * 111_111))
            .find(|c| !window.contains(c))
            .unwrap();
        let refused = accounts
            .confirm_totp(&user, &enrolment.pending, &wrong, Requester::default())
            .await;
        assert!(matches!(refused, Err(TotpError::WrongCode)));
        let again = accounts.resume_totp(&user, &enrolment.pending).unwrap();
        assert_eq!(
            again.secret_base32.expose(),
            enrolment.secret_base32.expose()
        );
    }

    #[tokio::test]
    async fn an_enrolment_is_bound_to_its_account_and_cannot_be_forged() {
        let accounts = accounts(world());
        let enrolment = accounts.begin_totp(&user_of("ada@example.org", 1)).unwrap();
        let other = user_of("bea@example.org", 2);
        assert!(matches!(
            accounts.resume_totp(&other, &enrolment.pending),
            Err(TotpError::Expired)
        ));
        assert!(matches!(
            accounts.resume_totp(&other, "forged"),
            Err(TotpError::Expired)
        ));
    }

    #[tokio::test]
    async fn new_recovery_codes_need_a_second_factor() {
        let refused = accounts(world())
            .regenerate_recovery_codes(&user_of("ada@example.org", 1), Requester::default())
            .await;
        assert!(matches!(refused, Err(TotpError::NotEnrolled)));
    }
}

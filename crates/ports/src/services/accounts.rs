//! Accounts: registration with email verification, password sign-in with lockout and
//! throttling.
//!
//! Every answer that could reveal whether an address has an account is the same either way:
//! registering a taken address queues a notice to its owner and answers like a new one (with
//! the same hashing work), signing in to an unknown address verifies a dummy hash and locks
//! after as many failures as a real account would.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::ids::{RequestId, UserId};
use wildid_domain::lockout::{FailureOutcome, LockoutPolicy};
use wildid_domain::mail::{MailSubject, OutgoingMail};
use wildid_domain::password::{PasswordPolicy, PasswordProblem};
use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::secret::SecretString;
use wildid_domain::token::{LoginToken, RawToken, TokenPolicy, TokenPurpose, TokenState};
use wildid_domain::totp::{
    CodeRejected, RECOVERY_CODES, RecoveryCode, TotpSecret, open_pending_enrolment,
    pending_enrolment,
};
use wildid_domain::user::{EncryptedField, User};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::{EmailIndex, FieldCipher, KeyedDigest};
use crate::password::{PasswordCheck, PasswordHasher, StrengthEstimator};
use crate::random::{SecureRandom, random_array};
use crate::repo::{LoginTokenRepository, RateLimitStore, RecoveryCodeRepository, UserRepository};
use crate::services::audit::AuditTrail;
use crate::services::mail::{MailQueue, MailQueueError};

/// Limits and lifetimes of the account flows.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// Password rules.
    pub password: PasswordPolicy,
    /// Lockout after failures.
    pub lockout: LockoutPolicy,
    /// Token lifetimes.
    pub tokens: TokenPolicy,
    /// Sign-in attempts per client address.
    pub login_per_ip: RateLimit,
    /// Messages (verification, sign-in links) per address.
    pub mail_per_address: RateLimit,
    /// Messages per client address.
    pub mail_per_ip: RateLimit,
}

impl Default for AccountPolicy {
    /// 5 sign-in attempts per minute per address; 5 messages per hour per recipient and 20 per
    /// hour per client.
    fn default() -> Self {
        const MINUTE: NonZeroU32 = nonzero(60);
        const HOUR: NonZeroU32 = nonzero(3600);
        const FIVE: NonZeroU32 = nonzero(5);
        const TWENTY: NonZeroU32 = nonzero(20);
        Self {
            password: PasswordPolicy::default(),
            lockout: LockoutPolicy::default(),
            tokens: TokenPolicy::default(),
            login_per_ip: RateLimit::per_seconds(FIVE, MINUTE),
            mail_per_address: RateLimit::per_seconds(FIVE, HOUR),
            mail_per_ip: RateLimit::per_seconds(TWENTY, HOUR),
        }
    }
}

/// A non-zero constant (zero, impossible here, would become one).
pub const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(v) => v,
        None => NonZeroU32::MIN,
    }
}

/// Who is asking, for throttling and the audit log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Requester {
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Request id.
    pub request_id: Option<RequestId>,
}

/// A registration form.
pub struct Registration {
    /// The address as typed.
    pub email: String,
    /// The chosen password.
    pub password: SecretString,
    /// The privacy notice was accepted.
    pub accept_privacy: bool,
}

/// Why a registration was refused. Nothing here says whether the address has an account.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The privacy notice must be accepted.
    #[error("accept the privacy notice to create an account")]
    PrivacyNotAccepted,
    /// The address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// The password breaks the policy.
    #[error("{0}")]
    WeakPassword(#[from] PasswordProblem),
    /// Too many messages requested.
    #[error("too many requests")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

/// Why a verification link was refused (one answer for unknown, used and expired links).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The link is invalid, used or expired.
    #[error("this link is invalid, has expired or was already used")]
    InvalidLink,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

/// Why a sign-in link was refused.
#[derive(Debug, thiserror::Error)]
pub enum MagicLinkError {
    /// The link is malformed, unknown, used or expired (or its account is deactivated).
    #[error("this link is invalid, has expired or was already used")]
    InvalidLink,
    /// A new account needs the privacy notice accepted first; the link is still unused.
    #[error("accept the privacy notice to create your account")]
    PrivacyNotAccepted,
    /// The account has a second factor: the code must come with the link.
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    /// The second-factor code was wrong; the link is used up (ask for a new one).
    #[error("the code is wrong; ask for a new sign-in link")]
    WrongCode,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for MagicLinkError {
    fn from(e: RepoError) -> Self {
        MagicLinkError::Unavailable(e.to_string())
    }
}

/// What a sign-in link leads to, found without using it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagicLinkPreview {
    /// An existing account signs in.
    SignIn {
        /// The account also needs its second factor.
        totp: bool,
    },
    /// A new account is created (the privacy notice must be accepted).
    SignUp,
}

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

/// Sign-in credentials.
pub struct Credentials {
    /// The address as typed (any case, surrounding spaces allowed).
    pub email: String,
    /// The password.
    pub password: SecretString,
    /// The second-factor code, when the account has one.
    pub totp_code: Option<String>,
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// Longer than any password could be.
    #[error("the password is longer than {max} characters")]
    PasswordTooLong {
        /// The limit.
        max: usize,
    },
    /// Too many attempts from this client address.
    #[error("too many sign-in attempts")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// Wrong address or password (never says which).
    #[error("the email address or password is wrong")]
    InvalidCredentials,
    /// Too many failures: password sign-in is locked for a while (a sign-in link still works).
    #[error("too many failed attempts")]
    Locked {
        /// When password sign-in opens again.
        until: Timestamp,
    },
    /// The password is right but the address was never confirmed.
    #[error("confirm your email address first")]
    EmailNotVerified,
    /// The account has a second factor: ask for the code.
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for RegisterError {
    fn from(e: RepoError) -> Self {
        RegisterError::Unavailable(e.to_string())
    }
}
impl From<MailQueueError> for RegisterError {
    fn from(e: MailQueueError) -> Self {
        RegisterError::Unavailable(e.to_string())
    }
}
impl From<RepoError> for VerifyError {
    fn from(e: RepoError) -> Self {
        VerifyError::Unavailable(e.to_string())
    }
}
impl From<RepoError> for LoginError {
    fn from(e: RepoError) -> Self {
        LoginError::Unavailable(e.to_string())
    }
}

/// The ports the account flows use.
#[derive(Clone)]
pub struct AccountPorts {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Tokens.
    pub tokens: Arc<dyn LoginTokenRepository>,
    /// Counters.
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// Second-factor recovery codes.
    pub recovery_codes: Arc<dyn RecoveryCodeRepository>,

    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Password strength.
    pub strength: Arc<dyn StrengthEstimator>,
    /// Address lookup digests.
    pub email_index: Arc<dyn EmailIndex>,
    /// Digests of counter keys.
    pub digest: Arc<dyn KeyedDigest>,
    /// Field encryption.
    pub cipher: Arc<dyn FieldCipher>,
    /// Outgoing mail.
    pub mail: MailQueue,
    /// Audit log.
    pub audit: AuditTrail,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn SecureRandom>,
}

/// What a user sees of their own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Id.
    pub id: UserId,
    /// The address, decrypted.
    pub email: String,
    /// Role.
    pub role: wildid_domain::role::Role,
    /// Whether the address is confirmed.
    pub email_verified: bool,
    /// Whether a second factor is enrolled.
    pub totp_enabled: bool,
    /// Whether a password is set (accounts made by magic link have none).
    pub has_password: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// The display name, if one is set (cleaned plain text).
    pub display_name: Option<String>,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    pub(super) ports: AccountPorts,
    pub(super) policy: AccountPolicy,
    pub(super) public_url: String,
}

impl Accounts {
    /// Over `ports`; links in mail start with `public_url` (scheme and host, no trailing slash).
    pub fn new(ports: AccountPorts, policy: AccountPolicy, public_url: &str) -> Self {
        Self {
            ports,
            policy,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &AccountPolicy {
        &self.policy
    }

    /// The user's own view of their account (the address is decrypted here).
    ///
    /// # Errors
    /// [`VerifyError::Unavailable`] when the address cannot be decrypted.
    pub fn profile(&self, user: &User) -> Result<Profile, VerifyError> {
        let email = self
            .ports
            .cipher
            .decrypt(&user.email_encrypted)
            .map_err(|e| VerifyError::Unavailable(e.to_string()))
            .and_then(|bytes| {
                String::from_utf8(bytes.expose().clone())
                    .map_err(|_| VerifyError::Unavailable("address is not text".into()))
            })?;
        Ok(Profile {
            id: user.id,
            email,
            role: user.role,
            email_verified: user.email_verified_at.is_some(),
            totp_enabled: user.has_totp(),
            has_password: user.password_hash.is_some(),
            created_at: user.created_at,
            display_name: user.display_name.as_ref().map(|n| n.as_str().to_owned()),
        })
    }

    /// Creates an account (unverified) and sends the verification link; or, when the address
    /// has an account already, sends its owner a notice. Both answer `Ok`.
    ///
    /// # Errors
    /// [`RegisterError`] for bad input, throttling or a failing dependency; nothing is stored.
    pub async fn register(&self, form: Registration, who: Requester) -> Result<(), RegisterError> {
        if !form.accept_privacy {
            return Err(RegisterError::PrivacyNotAccepted);
        }
        let email = Email::parse(&form.email)?;
        self.policy.password.check_shape(&form.password, &email)?;
        let related = related_words(&email);
        self.policy
            .password
            .check_score(self.ports.strength.score(&form.password, &related))?;
        let lookup = self.ports.email_index.lookup(&email);
        self.throttle_mail(lookup.as_bytes(), who)
            .await
            .map_err(|retry_after| RegisterError::RateLimited { retry_after })?;
        // Same work on both paths: the hash is computed whether or not the address is taken.
        let hash = self
            .ports
            .hasher
            .hash(&form.password)
            .await
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let now = self.ports.clock.now();
        if let Some(existing) = self.ports.users.find_by_email(&lookup).await? {
            self.ports
                .mail
                .enqueue(&self.existing_account_notice(&email)?)
                .await?;
            self.audit(
                Actor::Anonymous,
                Action::RegisterExistingAddress,
                Some(existing.id),
                AuditDetails::new(),
                who,
            )
            .await;
            return Ok(());
        }
        let id = UserId::from_random(
            random_array(self.ports.random.as_ref()).map_err(|_| unavailable_random())?,
        );
        let encrypted = self
            .ports
            .cipher
            .encrypt(email.as_str().as_bytes())
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let mut user = User::new(id, lookup, encrypted, now);
        user.password_hash = Some(hash);
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref()).map_err(|_| unavailable_random())?,
        );
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::EmailVerification,
            lookup,
            &self.policy.tokens,
            now,
        );
        let queued = self
            .ports
            .mail
            .prepare(&self.verification_mail(&email, &raw, &token)?)?;
        match self
            .ports
            .users
            .insert_with_token(&user, &token, &queued)
            .await
        {
            Ok(()) => {}
            // Registered concurrently under the same address: answer as for a taken address.
            Err(RepoError::Duplicate) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Actor::User(id),
            Action::UserRegistered,
            Some(id),
            AuditDetails::new().with("method", "password"),
            who,
        )
        .await;
        Ok(())
    }

    /// Confirms an address with the token of a verification link.
    ///
    /// # Errors
    /// [`VerifyError::InvalidLink`] for a malformed, unknown, used or expired link.
    pub async fn verify_email(
        &self,
        raw_token: &str,
        who: Requester,
    ) -> Result<UserId, VerifyError> {
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| VerifyError::InvalidLink)?;
        let now = self.ports.clock.now();
        let token = self
            .ports
            .tokens
            .consume(&raw.hash(), TokenPurpose::EmailVerification, now)
            .await?
            .ok_or(VerifyError::InvalidLink)?;
        let mut user = self
            .ports
            .users
            .find_by_email(&token.email_lookup)
            .await?
            .ok_or(VerifyError::InvalidLink)?;
        if user.email_verified_at.is_none() {
            user.email_verified_at = Some(now);
            self.ports.users.update(&user).await?;
        }
        self.audit(
            Actor::User(user.id),
            Action::EmailVerified,
            Some(user.id),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(user.id)
    }

    /// Sends a new verification link to an unverified account with a password. Answers `Ok`
    /// whatever the address (no enumeration).
    ///
    /// # Errors
    /// [`RegisterError::InvalidEmail`], [`RegisterError::RateLimited`], or a failing dependency.
    pub async fn resend_verification(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<(), RegisterError> {
        let email = Email::parse(email)?;
        let lookup = self.ports.email_index.lookup(&email);
        self.throttle_mail(lookup.as_bytes(), who)
            .await
            .map_err(|retry_after| RegisterError::RateLimited { retry_after })?;
        let Some(user) = self.ports.users.find_by_email(&lookup).await? else {
            return Ok(());
        };
        if user.email_verified_at.is_some() || user.password_hash.is_none() {
            return Ok(());
        }
        let now = self.ports.clock.now();
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref()).map_err(|_| unavailable_random())?,
        );
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::EmailVerification,
            lookup,
            &self.policy.tokens,
            now,
        );
        let queued = self
            .ports
            .mail
            .prepare(&self.verification_mail(&email, &raw, &token)?)?;
        self.ports
            .tokens
            .insert_with_mail(&token, std::slice::from_ref(&queued))
            .await?;
        self.audit(
            Actor::User(user.id),
            Action::VerificationResent,
            Some(user.id),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Sends a one-time sign-in link to `email` (signing up when the address has no account).
    /// Answers `Ok` the same way whatever the address; deactivated accounts get no mail.
    ///
    /// # Errors
    /// [`RegisterError::InvalidEmail`], [`RegisterError::RateLimited`] or a failing dependency.
    pub async fn request_magic_link(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<(), RegisterError> {
        let email = Email::parse(email)?;
        let lookup = self.ports.email_index.lookup(&email);
        self.throttle_mail(lookup.as_bytes(), who)
            .await
            .map_err(|retry_after| RegisterError::RateLimited { retry_after })?;
        let existing = self.ports.users.find_by_email(&lookup).await?;
        if existing.as_ref().is_some_and(|u| !u.active) {
            return Ok(());
        }
        let now = self.ports.clock.now();
        let raw = RawToken::from_random(
            random_array(self.ports.random.as_ref()).map_err(|_| unavailable_random())?,
        );
        let address = self
            .ports
            .cipher
            .encrypt(email.as_str().as_bytes())
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let token = LoginToken::issue(
            raw.hash(),
            TokenPurpose::MagicLink,
            lookup,
            &self.policy.tokens,
            now,
        )
        .with_address(address);
        let queued = self
            .ports
            .mail
            .prepare(&self.magic_link_mail(&email, &raw, &token)?)?;
        self.ports
            .tokens
            .insert_with_mail(&token, std::slice::from_ref(&queued))
            .await?;
        let actor = existing
            .as_ref()
            .map_or(Actor::Anonymous, |u| Actor::User(u.id));
        let details = AuditDetails::new().with(
            "kind",
            if existing.is_some() {
                "sign_in"
            } else {
                "sign_up"
            },
        );
        self.audit(
            actor,
            Action::MagicLinkIssued,
            existing.map(|u| u.id),
            details,
            who,
        )
        .await;
        Ok(())
    }

    /// What a sign-in link would do, without using it (for the confirmation page).
    ///
    /// # Errors
    /// [`MagicLinkError::InvalidLink`] for a link that cannot be used.
    pub async fn preview_magic_link(
        &self,
        raw_token: &str,
    ) -> Result<MagicLinkPreview, MagicLinkError> {
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| MagicLinkError::InvalidLink)?;
        let token = self
            .ports
            .tokens
            .get(&raw.hash())
            .await?
            .filter(|t| t.purpose == TokenPurpose::MagicLink);
        let token = token
            .filter(|t| t.state(self.ports.clock.now()) == TokenState::Usable)
            .ok_or(MagicLinkError::InvalidLink)?;
        match self.ports.users.find_by_email(&token.email_lookup).await? {
            Some(user) if user.active => Ok(MagicLinkPreview::SignIn {
                totp: user.has_totp(),
            }),
            Some(_) => Err(MagicLinkError::InvalidLink),
            None => Ok(MagicLinkPreview::SignUp),
        }
    }

    /// Signs in (or up) with a sign-in link: the link is used up atomically (of two concurrent
    /// uses, one wins). It works while password sign-in is locked, so an attacker cannot lock
    /// the owner out; it does not bypass a second factor. A new account needs the privacy
    /// notice accepted, checked before the link is used.
    ///
    /// # Errors
    /// [`MagicLinkError`].
    pub async fn redeem_magic_link(
        &self,
        raw_token: &str,
        accept_privacy: bool,
        totp_code: Option<&str>,
        who: Requester,
    ) -> Result<User, MagicLinkError> {
        match self.preview_magic_link(raw_token).await? {
            MagicLinkPreview::SignUp if !accept_privacy => {
                return Err(MagicLinkError::PrivacyNotAccepted);
            }
            MagicLinkPreview::SignIn { totp: true } if totp_code.is_none() => {
                return Err(MagicLinkError::TotpRequired);
            }
            MagicLinkPreview::SignIn { .. } | MagicLinkPreview::SignUp => {}
        }
        let raw = RawToken::parse(raw_token.trim()).map_err(|_| MagicLinkError::InvalidLink)?;
        let now = self.ports.clock.now();
        let token = self
            .ports
            .tokens
            .consume(&raw.hash(), TokenPurpose::MagicLink, now)
            .await?
            .ok_or(MagicLinkError::InvalidLink)?;
        let user = match self.ports.users.find_by_email(&token.email_lookup).await? {
            Some(user) if user.active => user,
            Some(_) => return Err(MagicLinkError::InvalidLink),
            None => self.sign_up_by_link(&token, who).await?,
        };
        if user.has_totp() {
            let code = totp_code.unwrap_or_default();
            if !self.second_factor_ok(&user, code, who).await? {
                let _ = self.count_failure(&user, "totp", who).await;
                return Err(MagicLinkError::WrongCode);
            }
        }
        let mut user = user;
        if user.email_verified_at.is_none() {
            // Opening the link proves the address as well as a verification link would.
            user.email_verified_at = Some(now);
            self.ports.users.update(&user).await?;
        }
        self.ports.users.record_login(user.id, now, None).await?;
        self.audit(
            Actor::User(user.id),
            Action::MagicLinkUsed,
            Some(user.id),
            AuditDetails::new(),
            who,
        )
        .await;
        self.audit(
            Actor::User(user.id),
            Action::LoginSucceeded,
            Some(user.id),
            AuditDetails::new().with("method", "magic_link"),
            who,
        )
        .await;
        user.lockout = self.policy.lockout.after_success();
        user.last_login_at = Some(now);
        Ok(user)
    }

    /// Creates the account of a sign-in link's address (no password; opening the link proved
    /// the address). The link carries the address, encrypted.
    async fn sign_up_by_link(
        &self,
        token: &LoginToken,
        who: Requester,
    ) -> Result<User, MagicLinkError> {
        let encrypted = token
            .email_encrypted
            .clone()
            .ok_or(MagicLinkError::InvalidLink)?;
        let now = self.ports.clock.now();
        let id = UserId::from_random(
            random_array(self.ports.random.as_ref())
                .map_err(|_| MagicLinkError::Unavailable("no secure randomness".into()))?,
        );
        let mut user = User::new(id, token.email_lookup, encrypted, now);
        user.email_verified_at = Some(now);
        match self.ports.users.insert(&user).await {
            Ok(()) => {}
            // Created concurrently by another link of the same address: use that account.
            Err(RepoError::Duplicate) => {
                return self
                    .ports
                    .users
                    .find_by_email(&token.email_lookup)
                    .await?
                    .ok_or(MagicLinkError::InvalidLink);
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Actor::User(id),
            Action::UserRegistered,
            Some(id),
            AuditDetails::new().with("method", "magic_link"),
            who,
        )
        .await;
        Ok(user)
    }

    /// Checks a second-factor code: a TOTP code (each step accepted once, atomically) or one of
    /// the account's unused recovery codes (used up atomically, audited).
    ///
    /// # Errors
    /// [`RepoError`] when storage fails.
    pub async fn second_factor_ok(
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
            return match secret.accept(typed, now, user.totp_last_step) {
                Ok(step) => {
                    self.ports
                        .users
                        .swap_totp_step(user.id, user.totp_last_step, step)
                        .await
                }
                Err(CodeRejected::Replayed) => {
                    self.audit(
                        Actor::User(user.id),
                        Action::TotpReplayRefused,
                        Some(user.id),
                        AuditDetails::new(),
                        who,
                    )
                    .await;
                    Ok(false)
                }
                Err(CodeRejected::Wrong) => Ok(false),
            };
        }
        for stored in self.ports.recovery_codes.unused(user.id).await? {
            if stored.hash.matches(typed) {
                let used = self
                    .ports
                    .recovery_codes
                    .use_code(user.id, stored.index, now)
                    .await?;
                if used {
                    let left = self.ports.recovery_codes.unused(user.id).await?.len();
                    let details = AuditDetails::new().with("remaining", left.to_string());
                    self.audit(
                        Actor::User(user.id),
                        Action::RecoveryCodeUsed,
                        Some(user.id),
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
        let field = user.totp_secret.as_ref()?;
        match self.ports.cipher.decrypt(field).map(TotpSecret::from_bytes) {
            Ok(Ok(secret)) => Some(secret),
            _ => {
                tracing::error!(user = %user.id, "a TOTP secret cannot be decrypted with the key ring");
                None
            }
        }
    }

    /// Starts enrolling a second factor: a fresh secret, how to show it, and the encrypted
    /// pending state to send back with the first code.
    ///
    /// # Errors
    /// [`VerifyError::Unavailable`] when the secret cannot be drawn or encrypted.
    pub fn begin_totp(&self, user: &User) -> Result<TotpEnrolment, VerifyError> {
        let bytes = random_array(self.ports.random.as_ref())
            .map_err(|_| VerifyError::Unavailable("no secure randomness".into()))?;
        let secret = TotpSecret::from_random(bytes);
        let plain = pending_enrolment(&user.id, &secret, self.ports.clock.now());
        let pending = self
            .ports
            .cipher
            .encrypt(plain.expose().as_bytes())
            .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
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
            .map_err(|e| TotpError::Unavailable(e.to_string()))
    }

    fn open_pending(&self, user: &User, pending: &str) -> Result<TotpSecret, TotpError> {
        let plain = self
            .ports
            .cipher
            .decrypt(&EncryptedField::new(pending.to_owned()))
            .map_err(|_| TotpError::Expired)?;
        let plain = String::from_utf8(plain.expose().clone()).map_err(|_| TotpError::Expired)?;
        open_pending_enrolment(&plain, &user.id, self.ports.clock.now(), 15 * 60)
            .ok_or(TotpError::Expired)
    }

    fn enrolment(
        &self,
        user: &User,
        secret: &TotpSecret,
        pending: &str,
    ) -> Result<TotpEnrolment, VerifyError> {
        let profile = self.profile(user)?;
        let url = secret
            .otpauth_url(&profile.email)
            .ok_or_else(|| VerifyError::Unavailable("otpauth url".into()))?;
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
        let mut updated = self.ports.users.get(user.id).await?;
        updated.totp_secret = Some(encrypted);
        updated.totp_last_step = Some(step);
        self.ports.users.update(&updated).await?;
        let codes = self.new_recovery_codes(user.id).await?;
        self.audit(
            Actor::User(user.id),
            Action::TotpEnabled,
            Some(user.id),
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
        let mut updated = self.ports.users.get(user.id).await?;
        updated.totp_secret = None;
        updated.totp_last_step = None;
        self.ports.users.update(&updated).await?;
        self.ports.recovery_codes.delete_all(user.id).await?;
        self.audit(
            Actor::User(user.id),
            Action::TotpDisabled,
            Some(user.id),
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
        let codes = self.new_recovery_codes(user.id).await?;
        self.audit(
            Actor::User(user.id),
            Action::RecoveryCodesRegenerated,
            Some(user.id),
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

    /// Password sign-in. Returns the (active, verified) user on success; the caller starts the
    /// session.
    ///
    /// # Errors
    /// [`LoginError`]; its variants never tell whether the address has an account, except
    /// that a right password on an unverified account is told so, with a way to resend.
    pub async fn login(
        &self,
        credentials: Credentials,
        who: Requester,
    ) -> Result<User, LoginError> {
        if let Some(ip) = who.ip {
            let key = self
                .ports
                .digest
                .digest("login-ip", ip.to_string().as_bytes());
            let now = self.ports.clock.now();
            if let RateDecision::Limited { retry_after } = self
                .ports
                .rate_limits
                .hit(&key, &self.policy.login_per_ip, now)
                .await?
            {
                tracing::warn!("sign-in attempts throttled for a client address");
                return Err(LoginError::RateLimited {
                    retry_after: retry_after.num_seconds(),
                });
            }
        }
        let email = Email::parse(&credentials.email)?;
        if credentials.password.expose().chars().count() > self.policy.password.max_chars() {
            return Err(LoginError::PasswordTooLong {
                max: self.policy.password.max_chars(),
            });
        }
        let lookup = self.ports.email_index.lookup(&email);
        let Some(user) = self.ports.users.find_by_email(&lookup).await? else {
            return Err(self
                .unknown_account_failure(lookup.as_bytes(), &credentials.password, who)
                .await);
        };
        let now = self.ports.clock.now();
        if let Some(until) = self.policy.lockout.locked_until(&user.lockout, now) {
            self.audit(
                Actor::User(user.id),
                Action::LoginRefusedLocked,
                Some(user.id),
                AuditDetails::new(),
                who,
            )
            .await;
            return Err(LoginError::Locked { until });
        }
        let check = self
            .ports
            .hasher
            .verify(&credentials.password, user.password_hash.clone())
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))?;
        let needs_rehash = match check {
            PasswordCheck::Match { needs_rehash } if user.active => needs_rehash,
            PasswordCheck::Match { .. } | PasswordCheck::Mismatch => {
                return Err(self.count_failure(&user, "password", who).await);
            }
        };
        if user.email_verified_at.is_none() {
            self.audit(
                Actor::User(user.id),
                Action::LoginRefusedUnverified,
                Some(user.id),
                AuditDetails::new(),
                who,
            )
            .await;
            return Err(LoginError::EmailNotVerified);
        }
        if user.has_totp() {
            let Some(code) = credentials.totp_code.as_deref() else {
                return Err(LoginError::TotpRequired);
            };
            if !self.second_factor_ok(&user, code, who).await? {
                return Err(self.count_failure(&user, "totp", who).await);
            }
        }
        let rehash = if needs_rehash {
            self.ports.hasher.hash(&credentials.password).await.ok()
        } else {
            None
        };
        self.ports.users.record_login(user.id, now, rehash).await?;
        self.audit(
            Actor::User(user.id),
            Action::LoginSucceeded,
            Some(user.id),
            AuditDetails::new().with("method", "password"),
            who,
        )
        .await;
        let mut user = user;
        user.lockout = self.policy.lockout.after_success();
        user.last_login_at = Some(now);
        Ok(user)
    }

    /// Confirms that the signed-in `user` is at the keyboard (before a sensitive change):
    /// the password, and the second factor when enrolled. Failures count toward the lockout.
    ///
    /// # Errors
    /// [`LoginError`] as for sign-in.
    pub async fn reauthenticate(
        &self,
        user: &User,
        password: &SecretString,
        totp_code: Option<&str>,
        who: Requester,
    ) -> Result<(), LoginError> {
        let now = self.ports.clock.now();
        if let Some(until) = self.policy.lockout.locked_until(&user.lockout, now) {
            return Err(LoginError::Locked { until });
        }
        let check = self
            .ports
            .hasher
            .verify(password, user.password_hash.clone())
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))?;
        if check == PasswordCheck::Mismatch {
            return Err(self.count_failure(user, "password", who).await);
        }
        if user.has_totp() {
            let Some(code) = totp_code else {
                return Err(LoginError::TotpRequired);
            };
            if !self.second_factor_ok(user, code, who).await? {
                return Err(self.count_failure(user, "totp", who).await);
            }
        }
        self.audit(
            Actor::User(user.id),
            Action::Reauthenticated,
            Some(user.id),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Sets a new password (after a fresh authentication, checked by the caller).
    ///
    /// # Errors
    /// [`RegisterError::WeakPassword`] for a password the policy refuses; a failing dependency.
    pub async fn change_password(
        &self,
        user: &User,
        new: &SecretString,
        who: Requester,
    ) -> Result<(), RegisterError> {
        let profile = self
            .profile(user)
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let email = Email::parse(&profile.email)?;
        self.policy.password.check_shape(new, &email)?;
        self.policy
            .password
            .check_score(self.ports.strength.score(new, &related_words(&email)))?;
        let hash = self
            .ports
            .hasher
            .hash(new)
            .await
            .map_err(|e| RegisterError::Unavailable(e.to_string()))?;
        let mut updated = self.ports.users.get(user.id).await?;
        updated.password_hash = Some(hash);
        self.ports.users.update(&updated).await?;
        self.audit(
            Actor::User(user.id),
            Action::PasswordChanged,
            Some(user.id),
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Counts a failed attempt on a real account (compare-and-swap, so concurrent failures
    /// all count) and returns the error to answer.
    async fn count_failure(&self, user: &User, factor: &str, who: Requester) -> LoginError {
        let mut current = user.lockout;
        loop {
            let now = self.ports.clock.now();
            let (next, outcome) = self.policy.lockout.after_failure(&current, now);
            match self.ports.users.swap_lockout(user.id, current, next).await {
                Ok(true) => {
                    self.audit(
                        Actor::User(user.id),
                        Action::LoginFailed,
                        Some(user.id),
                        AuditDetails::new().with("factor", factor),
                        who,
                    )
                    .await;
                    return match outcome {
                        FailureOutcome::Counted { .. } => LoginError::InvalidCredentials,
                        FailureOutcome::Locked(until) => {
                            self.audit(
                                Actor::User(user.id),
                                Action::Lockout,
                                Some(user.id),
                                AuditDetails::new(),
                                who,
                            )
                            .await;
                            LoginError::Locked { until }
                        }
                        FailureOutcome::AlreadyLocked(until) => LoginError::Locked { until },
                    };
                }
                Ok(false) => match self.ports.users.get(user.id).await {
                    Ok(fresh) => current = fresh.lockout,
                    Err(e) => return e.into(),
                },
                Err(e) => return e.into(),
            }
        }
    }

    /// An unknown address behaves like an account: a dummy verification, and "locked" after
    /// as many failures.
    async fn unknown_account_failure(
        &self,
        lookup: &[u8; 32],
        password: &SecretString,
        who: Requester,
    ) -> LoginError {
        let now = self.ports.clock.now();
        let limit = match RateLimit::new(
            self.policy.lockout.max_failures().saturating_sub(1).max(1),
            self.policy.lockout.lock_for(),
        ) {
            Ok(limit) => limit,
            Err(e) => return LoginError::Unavailable(e.to_string()),
        };
        let key = self.ports.digest.digest("login-fail-unknown", lookup);
        let decision = match self.ports.rate_limits.hit(&key, &limit, now).await {
            Ok(d) => d,
            Err(e) => return e.into(),
        };
        self.audit(
            Actor::Anonymous,
            Action::LoginFailed,
            None,
            AuditDetails::new().with("factor", "password"),
            who,
        )
        .await;
        match decision {
            RateDecision::Limited { retry_after } => LoginError::Locked {
                until: now + retry_after,
            },
            RateDecision::Allowed { .. } => {
                let _ = self.ports.hasher.verify(password, None).await;
                LoginError::InvalidCredentials
            }
        }
    }

    /// Throttles messages per recipient and per client; `Err(seconds)` when over a limit.
    pub(super) async fn throttle_mail(&self, lookup: &[u8; 32], who: Requester) -> Result<(), i64> {
        let now = self.ports.clock.now();
        let mut keys = vec![(
            self.ports.digest.digest("mail-address", lookup),
            self.policy.mail_per_address,
        )];
        if let Some(ip) = who.ip {
            keys.push((
                self.ports
                    .digest
                    .digest("mail-ip", ip.to_string().as_bytes()),
                self.policy.mail_per_ip,
            ));
        }
        for (key, limit) in keys {
            match self.ports.rate_limits.hit(&key, &limit, now).await {
                Ok(RateDecision::Allowed { .. }) => {}
                Ok(RateDecision::Limited { retry_after }) => return Err(retry_after.num_seconds()),
                // Fail closed: no counter, no mail.
                Err(_) => return Err(60),
            }
        }
        Ok(())
    }

    fn verification_mail(
        &self,
        to: &Email,
        raw: &RawToken,
        token: &LoginToken,
    ) -> Result<OutgoingMail, RegisterError> {
        let link = format!(
            "{}/auth/verify?token={}",
            self.public_url,
            raw.encode().expose()
        );
        let text = format!(
            "Hello,\n\nplease confirm that this address belongs to you by opening this link:\n\n{link}\n\n\
             The link works once and expires on {} UTC (in {}).\n\
             If you did not create a WildID account, ignore this message: nothing happens without the link.\n\n\
             WildID\n",
            token.expires_at.format("%Y-%m-%d %H:%M"),
            self.policy
                .tokens
                .lifetime_text(TokenPurpose::EmailVerification),
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Confirm your email address for WildID")
                .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
            text_body: text,
            html_body: None,
        })
    }

    fn magic_link_mail(
        &self,
        to: &Email,
        raw: &RawToken,
        token: &LoginToken,
    ) -> Result<OutgoingMail, RegisterError> {
        let link = format!(
            "{}/auth/magic?token={}",
            self.public_url,
            raw.encode().expose()
        );
        let text = format!(
            "Hello,\n\nhere is your link to sign in to WildID:\n\n{link}\n\n\
             It works once and expires on {} UTC (in {}).\n\
             If you did not ask for it, ignore this message: nobody can sign in without the link.\n\n\
             WildID\n",
            token.expires_at.format("%Y-%m-%d %H:%M"),
            self.policy.tokens.lifetime_text(TokenPurpose::MagicLink),
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Your sign-in link for WildID")
                .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
            text_body: text,
            html_body: None,
        })
    }

    fn existing_account_notice(&self, to: &Email) -> Result<OutgoingMail, RegisterError> {
        let text = format!(
            "Hello,\n\nsomeone (perhaps you) tried to create a WildID account with this address, which already has one.\n\n\
             To sign in, go to {}/auth/sign-in. You can also ask for a one-time sign-in link there.\n\
             If it was not you, you can ignore this message: nothing was changed.\n\nWildID\n",
            self.public_url
        );
        Ok(OutgoingMail {
            to: to.clone(),
            subject: MailSubject::new("Your WildID account")
                .map_err(|e| RegisterError::Unavailable(e.to_string()))?,
            text_body: text,
            html_body: None,
        })
    }

    pub(super) async fn audit(
        &self,
        actor: Actor,
        action: Action,
        target: Option<UserId>,
        details: AuditDetails,
        who: Requester,
    ) {
        let mut record = AuditRecord::new(self.ports.clock.now(), actor, action)
            .details(details)
            .request(who.request_id);
        if let Some(target) = target {
            record = record.target(target.to_string());
        }
        self.ports.audit.record_or_log(record).await;
    }
}

fn unavailable_random() -> RegisterError {
    RegisterError::Unavailable("no secure randomness".into())
}

/// Words a password must not lean on: the address's parts and the site's name.
fn related_words(email: &Email) -> Vec<String> {
    let mut words = vec![email.local_part().to_owned(), "wildid".to_owned()];
    words.extend(
        email
            .domain()
            .split('.')
            .filter(|p| p.len() > 2)
            .map(str::to_owned),
    );
    words
}

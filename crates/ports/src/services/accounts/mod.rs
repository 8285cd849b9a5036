//! Accounts: the use cases of a person's account, one flow per file.
//!
//! | file | flow | error |
//! |---|---|---|
//! | [`registration`] | create an account with a password | [`RegisterError`] |
//! | [`verification`] | prove the address; send the link again | [`VerifyError`], [`LinkRequestError`] |
//! | [`magic_link`] | sign in (or up) with a link by mail | [`LinkRequestError`], [`MagicLinkError`] |
//! | [`first_admin`] | an admin account and its sign-in link, from the shell | [`AdminLinkError`] |
//! | [`sign_in`] | password sign-in with lockout; re-authentication | [`LoginError`], [`ReauthError`] |
//! | [`second_factor`] | TOTP and recovery codes | [`TotpError`] |
//! | [`password`] | a new password | [`PasswordChangeError`] |
//! | `super::email_change`, `super::profile` | a new address; the profile | their own |
//!
//! Every answer that could reveal whether an address has an account is the same either way.
//! The flows share [`Accounts`] (its ports, policy and the links of [`AccountLinks`]), the mail
//! throttle and the audit helper below. They know no HTTP path: the HTTP adapter, which owns
//! the routes, says where the links in mail lead.

pub mod first_admin;
pub mod magic_link;
pub mod password;
pub mod registration;
pub mod second_factor;
pub mod sign_in;
pub mod verification;

#[cfg(test)]
pub(crate) mod test_world;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord, Origin};
use wildid_domain::email::{Email, EmailError};
use wildid_domain::ids::{RequestId, UserId};
use wildid_domain::lockout::LockoutPolicy;
use wildid_domain::password::PasswordPolicy;
use wildid_domain::rate_limit::{RateDecision, RateLimit};
use wildid_domain::token::{RawToken, TokenPolicy, TokenPurpose, TokenState};

pub use first_admin::{AdminLink, AdminLinkError};
pub use magic_link::{MagicLinkError, MagicLinkPreview};
pub use password::PasswordChangeError;
pub use registration::{RegisterError, Registration};
pub use second_factor::{TotpEnrolment, TotpError};
pub use sign_in::{Credentials, LoginError, ReauthError};
pub use verification::VerifyError;

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::{EmailIndex, FieldCipher, KeyedDigest};
use crate::password::{PasswordHasher, StrengthEstimator};
use crate::random::SecureRandom;
use crate::repo::{LoginTokenRepository, RateLimitStore, RecoveryCodeRepository, UserRepository};
use crate::services::audit::AuditTrail;
use crate::services::email_rekey::{Located, locate};
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
    /// How long an account registered with a password waits for its address to be confirmed
    /// before the maintenance jobs delete it (said in the verification mail; the deletion is
    /// `RetentionPolicy::unverified_accounts`, which the composition root copies here).
    pub unconfirmed_kept: wildid_domain::Duration,
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
            unconfirmed_kept: wildid_domain::retention::RetentionPolicy::default()
                .unverified_accounts(),
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

impl Requester {
    /// Where the request came from, for audit entries: its id and the client's coarse
    /// network (`None` outside a request).
    pub fn origin(&self) -> Option<Origin> {
        self.request_id.map(|request| Origin::new(request, self.ip))
    }
}

/// Why a link asked for by mail (a new verification link, a sign-in link) was not sent: the
/// error of both "mail me a link" use cases, which fail in exactly these ways. Nothing here
/// says whether the address has an account.
#[derive(Debug, thiserror::Error)]
pub enum LinkRequestError {
    /// The address is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// Too many messages requested (per address or per client).
    #[error("too many requests")]
    RateLimited {
        /// Seconds until it is allowed again.
        retry_after: i64,
    },
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for LinkRequestError {
    fn from(e: RepoError) -> Self {
        LinkRequestError::Unavailable(e.to_string())
    }
}

impl From<MailQueueError> for LinkRequestError {
    fn from(e: MailQueueError) -> Self {
        LinkRequestError::Unavailable(e.to_string())
    }
}

/// The absolute address of a page that links in mail lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink(String);

impl PageLink {
    /// `public_url` (scheme and host, a trailing slash is ignored) followed by `path`.
    pub fn new(public_url: &str, path: &str) -> Self {
        Self(format!("{}{path}", public_url.trim_end_matches('/')))
    }

    /// The page's address with `?token=` and the encoded token: the link in a message.
    pub fn with_token(&self, raw: &RawToken) -> String {
        format!("{}?token={}", self.0, raw.encode().expose())
    }

    /// The page's address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PageLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the links in account mail lead. The HTTP adapter, which owns the routes, builds it
/// (`wildid_adapters_http::account_links`); the use cases never spell a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLinks {
    /// The site's home page (named in notices).
    pub home: PageLink,
    /// The page that confirms an address (a verification link adds the token).
    pub verify_email: PageLink,
    /// The page that uses a sign-in link.
    pub magic_link: PageLink,
    /// The sign-in page (named in notices, with no token).
    pub sign_in: PageLink,
    /// The page that confirms a change of address.
    pub confirm_email_change: PageLink,
}

/// The ports the account flows use.
#[derive(Clone)]
pub struct AccountPorts {
    /// The accounts: found by address digest, created with their first token, locked and
    /// unlocked by compare-and-swap.
    pub users: Arc<dyn UserRepository>,
    /// Single-use sign-in and verification links (stored as digests, used up atomically).
    pub tokens: Arc<dyn LoginTokenRepository>,
    /// The shared counters behind the per-address and per-client limits on sign-in and mail.
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
    /// The time every expiry, lockout and audit entry is measured by.
    pub clock: Arc<dyn Clock>,
    /// The source of every token and recovery code (the OS CSPRNG in production).
    pub random: Arc<dyn SecureRandom>,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    pub(super) ports: AccountPorts,
    pub(super) policy: AccountPolicy,
    pub(super) links: AccountLinks,
}

impl Accounts {
    /// Over `ports`; the links in mail lead to `links`.
    pub fn new(ports: AccountPorts, policy: AccountPolicy, links: AccountLinks) -> Self {
        Self {
            ports,
            policy,
            links,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &AccountPolicy {
        &self.policy
    }

    /// Throttles messages per recipient and per client: `Ok(Err(seconds))` when over a limit.
    ///
    /// # Errors
    /// The counters' store failing: no counter, no mail (fail closed), and the caller says the
    /// service is unavailable rather than that the person asked too often.
    pub(super) async fn throttle_mail(
        &self,
        lookup: &[u8; 32],
        who: Requester,
    ) -> Result<Result<(), i64>, RepoError> {
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
            match self.ports.rate_limits.hit(&key, &limit, now).await? {
                RateDecision::Allowed { .. } => {}
                RateDecision::Limited { retry_after } => {
                    return Ok(Err(retry_after.num_seconds()));
                }
            }
        }
        Ok(Ok(()))
    }

    /// The address of a "mail me a link" request, parsed, with its account (if any) and the
    /// digest its link must carry, once the mail throttle lets it through.
    async fn link_request(
        &self,
        email: &str,
        who: Requester,
    ) -> Result<(Email, Located), LinkRequestError> {
        let email = Email::parse(email)?;
        let lookup = self.ports.email_index.lookup(&email);
        self.throttle_mail(lookup.as_bytes(), who)
            .await?
            .map_err(|retry_after| LinkRequestError::RateLimited { retry_after })?;
        let located = self.locate(&email).await?;
        Ok((email, located))
    }

    /// The account of `email` under any pepper of the ring ([`locate`]).
    pub(super) async fn locate(&self, email: &Email) -> Result<Located, RepoError> {
        locate(
            self.ports.users.as_ref(),
            self.ports.email_index.as_ref(),
            email,
        )
        .await
    }

    /// Why a link of `purpose` that was refused is no good, for its audit entry (the person
    /// is told only that the link does not work): `malformed`, `unknown` (no such link, or
    /// one of another purpose), `expired`, `used`, `usable` (the link itself was good: the
    /// caller names what else was wrong), or `unavailable` when the store cannot say.
    pub(super) async fn link_refusal(
        &self,
        raw_token: &str,
        purpose: TokenPurpose,
    ) -> &'static str {
        let Ok(raw) = RawToken::parse(raw_token.trim()) else {
            return "malformed";
        };
        let token = match self.ports.tokens.get(&raw.hash()).await {
            Ok(Some(token)) if token.purpose == purpose => token,
            Ok(_) => return "unknown",
            Err(_) => return "unavailable",
        };
        match token.state(self.ports.clock.now()) {
            TokenState::Expired => "expired",
            TokenState::Used => "used",
            TokenState::Usable => "usable",
        }
    }

    /// Records `action` in the audit log (or, when the log cannot be written, in the
    /// application log: the flow itself goes on).
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
            .origin(who.origin());
        if let Some(target) = target {
            record = record.target(target.to_string());
        }
        self.ports.audit.record_or_log(record).await;
    }
}

/// Words a password must not lean on: the address's parts and the site's name.
pub(super) fn related_words(email: &Email) -> Vec<String> {
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

//! The world the account flows' unit tests run in: mocked repositories (each test states what
//! it expects to be called; anything else panics), the built-in crypto with test keys, and a
//! recorder of audited actions.

use std::sync::{Arc, Mutex};

use wildid_domain::email::Email;
use wildid_domain::ids::UserId;
use wildid_domain::rate_limit::RateDecision;
use wildid_domain::secret::{SecretBytes, SecretString};
use wildid_domain::user::{EmailLookup, User};

use super::{AccountLinks, AccountPolicy, AccountPorts, Accounts, PageLink};
use crate::RepoError;
use crate::builtin::{FernetKeyRing, HmacDigest, HmacEmailIndex, OsRandom, SystemClock};
use crate::clock::Clock;
use crate::crypto::{EmailIndex, FieldCipher};
use crate::mail::MockMailer;
use crate::password::{MockPasswordHasher, MockStrengthEstimator};
use crate::repo::{
    MockAuditLog, MockLoginTokenRepository, MockMailOutbox, MockRateLimitStore,
    MockRecoveryCodeRepository, MockUserRepository, QueuedMail,
};
use crate::services::audit::AuditTrail;
use crate::services::mail::MailQueue;

/// The site the tests' links point at.
pub(crate) const SITE: &str = "https://wildid.example.org";

/// The mocks a test sets expectations on, then hands to [`accounts`].
pub(crate) struct World {
    pub users: MockUserRepository,
    pub tokens: MockLoginTokenRepository,
    pub outbox: MockMailOutbox,
    pub recovery_codes: MockRecoveryCodeRepository,
    pub hasher: MockPasswordHasher,
    pub strength: MockStrengthEstimator,
    /// The audited actions, in order.
    pub audited: Arc<Mutex<Vec<String>>>,
    /// The counters' store fails (every limit then refuses, as unavailable).
    pub counters_fail: bool,
}

pub(crate) fn world() -> World {
    World {
        users: MockUserRepository::new(),
        tokens: MockLoginTokenRepository::new(),
        outbox: MockMailOutbox::new(),
        recovery_codes: MockRecoveryCodeRepository::new(),
        hasher: MockPasswordHasher::new(),
        strength: MockStrengthEstimator::new(),
        audited: Arc::default(),
        counters_fail: false,
    }
}

/// One Fernet key for the whole test run.
pub(crate) fn cipher() -> Arc<FernetKeyRing> {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(fernet::Fernet::generate_key);
    Arc::new(FernetKeyRing::new(&[SecretString::new(key.clone())]).unwrap())
}

fn index() -> HmacEmailIndex {
    HmacEmailIndex::new(SecretBytes::new(vec![7; 32])).unwrap()
}

/// The lookup digest of `address`.
pub(crate) fn lookup(address: &str) -> EmailLookup {
    index().lookup(&Email::parse(address).unwrap())
}

/// An active, unverified account of `address` with id `n`, no password.
pub(crate) fn user_of(address: &str, n: u8) -> User {
    User::new(
        UserId::from_random([n; 16]),
        lookup(address),
        cipher().encrypt(address.as_bytes()).unwrap(),
        SystemClock.now(),
    )
}

/// The links of a server at [`SITE`].
pub(crate) fn links() -> AccountLinks {
    AccountLinks {
        home: PageLink::new(SITE, "/"),
        verify_email: PageLink::new(SITE, "/confirm-address"),
        magic_link: PageLink::new(SITE, "/link"),
        sign_in: PageLink::new(SITE, "/enter"),
        confirm_email_change: PageLink::new(SITE, "/move"),
    }
}

/// The use cases over `w`, with every counter allowing.
pub(crate) fn accounts(w: World) -> Accounts {
    let cipher = cipher();
    let mut audit = MockAuditLog::new();
    let audited = Arc::clone(&w.audited);
    audit.expect_append().returning(move |record| {
        audited
            .lock()
            .unwrap()
            .push(record.action.as_str().to_owned());
        Err(RepoError::Other("not kept in this test".into()))
    });
    let mail = MailQueue::new(
        Arc::new(w.outbox),
        cipher.clone(),
        Arc::new(MockMailer::new()),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
    );
    let mut limits = MockRateLimitStore::new();
    let counters_fail = w.counters_fail;
    limits.expect_hit().returning(move |_, _, _| {
        if counters_fail {
            return Err(RepoError::Unavailable("the database's disk is full".into()));
        }
        Ok(RateDecision::Allowed {
            remaining: 1,
            reset_after: chrono::Duration::minutes(1),
        })
    });
    let ports = AccountPorts {
        users: Arc::new(w.users),
        tokens: Arc::new(w.tokens),
        rate_limits: Arc::new(limits),
        recovery_codes: Arc::new(w.recovery_codes),
        hasher: Arc::new(w.hasher),
        strength: Arc::new(w.strength),
        email_index: Arc::new(index()),
        digest: Arc::new(HmacDigest::new(SecretBytes::new(vec![8; 32]))),
        cipher,
        mail,
        audit: AuditTrail::new(Arc::new(audit)),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
    };
    Accounts::new(ports, AccountPolicy::default(), links())
}

/// A queued message, opened: (recipient, text).
pub(crate) fn opened(mail: &QueuedMail) -> (String, String) {
    let json = cipher().decrypt(&mail.payload).unwrap();
    let value: serde_json::Value = serde_json::from_slice(json.expose()).unwrap();
    (
        value["to"].as_str().unwrap().to_owned(),
        value["text"].as_str().unwrap_or_default().to_owned(),
    )
}

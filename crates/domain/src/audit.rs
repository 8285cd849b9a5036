//! The tamper-evident audit log.
//!
//! Every entry carries the SHA-256 of the entry before it, so the log is a hash chain:
//! editing an entry changes its digest, deleting one leaves a gap in the sequence and a link
//! that points nowhere. [`ChainVerifier`] walks a log and reports the first such break.
//! Entries hold no secrets: details are short, named, cleaned values chosen by the caller.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::ids::{RequestId, UserId};

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The server itself (jobs, start-up).
    System,
    /// A client that is not signed in.
    Anonymous,
    /// A signed-in user.
    User(UserId),
}

/// The stored actor text is not one this module writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit actor")]
pub struct InvalidActor;

impl Actor {
    /// Storage form: `system`, `anonymous` or `user:<uuid>`.
    pub fn to_storage(&self) -> String {
        match self {
            Actor::System => "system".to_owned(),
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::User(id) => format!("user:{id}"),
        }
    }

    /// Inverse of [`Actor::to_storage`].
    ///
    /// # Errors
    /// [`InvalidActor`] for any other text.
    pub fn from_storage(raw: &str) -> Result<Self, InvalidActor> {
        match raw {
            "system" => Ok(Actor::System),
            "anonymous" => Ok(Actor::Anonymous),
            _ => raw
                .strip_prefix("user:")
                .and_then(|id| UserId::parse(id).ok())
                .map(Actor::User)
                .ok_or(InvalidActor),
        }
    }
}

/// Declares [`Action`]: each variant with its doc and its stored text, once.
macro_rules! actions {
    ($($(#[doc = $doc:expr])* $variant:ident => $text:literal,)*) => {
        /// Every action WildID writes to its audit log, so that a misspelt action does not
        /// compile (as a string it would silently be a new action that no one looks for).
        /// [`Action::as_str`] is the stored text, the same as when actions were written as
        /// strings; it converts into an [`AuditAction`]. Code that embeds the domain with
        /// actions of its own builds them with [`AuditAction::new`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stored text (`auth.login.failed`...).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $text,)*
                }
            }
        }
    };
}

actions! {
    /// The server started serving.
    ServerStarted => "server.started",
    /// The server stopped.
    ServerStopped => "server.stopped",
    /// An account was created.
    UserRegistered => "user.registered",
    /// An admin changed an account's role.
    UserRoleChanged => "user.role.changed",
    /// An admin deactivated an account.
    UserDeactivated => "user.deactivated",
    /// An admin reactivated an account.
    UserReactivated => "user.reactivated",
    /// A registration named an address that already has an account (the person was mailed,
    /// the page said nothing different).
    RegisterExistingAddress => "auth.register.existing_address",
    /// An address was verified through its link.
    EmailVerified => "auth.email.verified",
    /// A new verification link was sent.
    VerificationResent => "auth.email.verification_resent",
    /// A sign-in link was sent.
    MagicLinkIssued => "auth.magic_link.issued",
    /// A sign-in link was used.
    MagicLinkUsed => "auth.magic_link.used",
    /// A sign-in succeeded.
    LoginSucceeded => "auth.login.succeeded",
    /// A sign-in failed (wrong password or second factor).
    LoginFailed => "auth.login.failed",
    /// A sign-in was refused because the account is locked.
    LoginRefusedLocked => "auth.login.refused_locked",
    /// A sign-in was refused because the address is not verified.
    LoginRefusedUnverified => "auth.login.refused_unverified",
    /// Too many failures locked the account.
    Lockout => "auth.lockout",
    /// An admin lifted a lockout.
    LockoutLifted => "auth.lockout.lifted",
    /// Two-step sign-in was turned on.
    TotpEnabled => "auth.totp.enabled",
    /// Two-step sign-in was turned off.
    TotpDisabled => "auth.totp.disabled",
    /// A one-time code already used was refused.
    TotpReplayRefused => "auth.totp.replay_refused",
    /// A recovery code was used (and is spent).
    RecoveryCodeUsed => "auth.recovery_code.used",
    /// New recovery codes replaced the old ones.
    RecoveryCodesRegenerated => "auth.recovery_codes.regenerated",
    /// A signed-in person confirmed who they are again.
    Reauthenticated => "auth.reauthenticated",
    /// A password was changed.
    PasswordChanged => "auth.password.changed",
    /// A person signed out.
    Logout => "auth.logout",
    /// A session ended (expired, or its browser changed).
    SessionEnded => "session.ended",
    /// Sessions were ended on request (a person's other devices, or an admin).
    SessionRevoked => "session.revoked",
    /// A display name was changed.
    DisplayNameChanged => "account.display_name_changed",
    /// A change of address was asked for (a link went to the new one).
    EmailChangeRequested => "account.email.change_requested",
    /// An address was changed.
    EmailChanged => "account.email.changed",
    /// A human check was given.
    CaptchaIssued => "captcha.issued",
    /// A human check was passed.
    CaptchaPassed => "captcha.passed",
    /// A human check was failed.
    CaptchaFailed => "captcha.failed",
    /// The malware scan refused an upload.
    UploadInfected => "upload.infected",
    /// An account was deleted with everything in it (by its person, an admin or the
    /// operator: the `by` detail).
    AccountDeleted => "account.deleted",
    /// A person said whether an identification's answer was right (the texts are not kept
    /// in the log).
    FeedbackGiven => "journal.feedback.given",
    /// A person deleted an entry of their journal.
    IdentificationDeleted => "journal.entry.deleted",
    /// A person changed who may see where an animal was seen.
    VisibilityChanged => "journal.visibility.changed",
    /// An admin added a wildlife site.
    SiteAdded => "visits.site.added",
    /// An admin changed a site (name, description, area, open or closed).
    SiteChanged => "visits.site.changed",
    /// An admin added a kind of visit.
    ServiceAdded => "visits.service.added",
    /// An admin changed a kind of visit.
    ServiceChanged => "visits.service.changed",
    /// A visitor booked a visit (the `site` and `service` details).
    BookingMade => "visits.booking.made",
    /// A worker claimed a booking.
    BookingClaimed => "visits.booking.claimed",
    /// An admin handed a booking to another worker (the `worker` detail).
    BookingReassigned => "visits.booking.reassigned",
    /// A worker checked a visitor in.
    VisitorCheckedIn => "visits.booking.checked_in",
    /// A worker completed a visit.
    BookingCompleted => "visits.booking.completed",
    /// A booking was cancelled (by its visitor or an admin).
    BookingCancelled => "visits.booking.cancelled",
    /// A worker or admin reported an exposure at a site (the `site` and how many people were
    /// `notified`; never who).
    ExposureReported => "visits.exposure.reported",
    /// The retention job deleted visit data past its period (the counts per kind).
    RetentionPurged => "retention.purged",
    /// Encrypted values were rewritten under the newest key (the counts, the key's id; values
    /// no key decrypts are counted, never dropped).
    KeysReencrypted => "keys.reencrypted",
}

impl From<Action> for AuditAction {
    fn from(action: Action) -> Self {
        Self(action.as_str().to_owned())
    }
}

/// A dotted action name such as `auth.login.failed`: lower-case letters, digits, `_` and `.`,
/// at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditAction(String);

/// The action name is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit action names use a-z, 0-9, '_' and '.', 1 to 64 characters")]
pub struct InvalidAction;

impl AuditAction {
    /// Validates an action name.
    ///
    /// # Errors
    /// [`InvalidAction`] when it breaks the naming rule.
    pub fn new(name: &str) -> Result<Self, InvalidAction> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidAction)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest detail value kept; longer values are cut.
pub const MAX_DETAIL_CHARS: usize = 256;

/// Named details of an entry, sorted by name. Values are cleaned on insertion: control
/// characters become `\u{FFFD}` (no forged lines in any log viewer) and long values are cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditDetails(BTreeMap<String, String>);

impl AuditDetails {
    /// No details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a detail. Names that break the rule of [`AuditAction`] names are ignored in
    /// release builds and rejected by a debug assertion, because they are programmer errors.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl AsRef<str>) -> Self {
        let valid = AuditAction::new(name).is_ok();
        debug_assert!(valid, "invalid audit detail name {name}");
        if valid {
            self.0.insert(name.to_owned(), clean_value(value.as_ref()));
        }
        self
    }

    /// Rebuilds stored details (values are cleaned again).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k, clean_value(&v)))
                .collect(),
        )
    }

    /// The details, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn clean_value(raw: &str) -> String {
    raw.chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// What a caller records; the log adds the sequence number and chain digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When it happened (kept to the microsecond, the precision every backend stores).
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// To what (a user id, a booking id...), never an email address or a secret.
    pub target: Option<String>,
    /// Named details.
    pub details: AuditDetails,
    /// The HTTP request it came from.
    pub request_id: Option<RequestId>,
}

impl AuditRecord {
    /// A record at `at` (truncated to microseconds) with no target, details or request.
    pub fn new(at: Timestamp, actor: Actor, action: impl Into<AuditAction>) -> Self {
        let action = action.into();
        let micros = at.timestamp_micros();
        let at = chrono::DateTime::from_timestamp_micros(micros).unwrap_or(at);
        Self {
            at,
            actor,
            action,
            target: None,
            details: AuditDetails::new(),
            request_id: None,
        }
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(clean_value(&target.into()));
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn details(mut self, details: AuditDetails) -> Self {
        self.details = details;
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn request(mut self, request_id: Option<RequestId>) -> Self {
        self.request_id = request_id;
        self
    }
}

/// A SHA-256 link of the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The `prev_hash` of the first entry.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// Rebuilds a stored digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses lower- or upper-case hex.
    pub fn from_hex(raw: &str) -> Option<Self> {
        let bytes = hex::decode(raw.trim()).ok()?;
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1 with no gaps.
    pub seq: i64,
    /// The recorded event.
    pub record: AuditRecord,
    /// Digest of the previous entry ([`ChainHash::GENESIS`] for the first).
    pub prev_hash: ChainHash,
    /// Digest of this entry (over `seq`, the record and `prev_hash`).
    pub hash: ChainHash,
}

impl AuditEntry {
    /// The entry that follows `head` (the current last entry, `None` for an empty log).
    pub fn append_to(head: Option<(i64, ChainHash)>, record: AuditRecord) -> Self {
        let (seq, prev_hash) = match head {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, ChainHash::GENESIS),
        };
        let hash = Self::digest(seq, &record, &prev_hash);
        Self {
            seq,
            record,
            prev_hash,
            hash,
        }
    }

    /// The digest of an entry. Every field is length-prefixed so no two different entries
    /// encode alike.
    pub fn digest(seq: i64, record: &AuditRecord, prev_hash: &ChainHash) -> ChainHash {
        fn put(h: &mut Sha256, bytes: &[u8]) {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        let mut h = Sha256::new();
        put(&mut h, b"wildid-audit-v1");
        put(&mut h, &seq.to_be_bytes());
        put(&mut h, &record.at.timestamp_micros().to_be_bytes());
        put(&mut h, record.actor.to_storage().as_bytes());
        put(&mut h, record.action.as_str().as_bytes());
        match &record.target {
            Some(t) => {
                put(&mut h, b"1");
                put(&mut h, t.as_bytes());
            }
            None => put(&mut h, b"0"),
        }
        put(&mut h, &(record.details.0.len() as u64).to_be_bytes());
        for (k, v) in record.details.iter() {
            put(&mut h, k.as_bytes());
            put(&mut h, v.as_bytes());
        }
        match &record.request_id {
            Some(id) => put(&mut h, id.as_uuid().as_bytes()),
            None => put(&mut h, b""),
        }
        put(&mut h, prev_hash.as_bytes());
        ChainHash(h.finalize().into())
    }
}

/// What is wrong at the first break of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// The entry's content no longer matches its digest: it was edited.
    Altered,
    /// The entry does not link to the one before: that one was edited and re-hashed, or
    /// entries were replaced.
    BrokenLink,
    /// Entries are missing before this one (deleted).
    Missing {
        /// The sequence number that should have come next.
        expected_seq: i64,
    },
}

/// The first break found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {problem:?}")]
pub struct ChainBreak {
    /// Sequence number of the first entry found wrong.
    pub seq: i64,
    /// What is wrong.
    pub problem: ChainProblem,
}

/// Walks entries in sequence order and stops at the first break.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    head: Option<(i64, ChainHash)>,
    count: u64,
}

/// A verified chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSummary {
    /// Entries checked.
    pub entries: u64,
    /// The last entry's sequence number and digest: record it elsewhere to detect truncation.
    pub head: Option<(i64, ChainHash)>,
}

impl ChainVerifier {
    /// A verifier at the start of the log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry.
    ///
    /// # Errors
    /// [`ChainBreak`] describing the first problem.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let (expected_seq, expected_prev) = match self.head {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, ChainHash::GENESIS),
        };
        if entry.seq != expected_seq {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::Missing { expected_seq },
            });
        }
        if AuditEntry::digest(entry.seq, &entry.record, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::Altered,
            });
        }
        if entry.prev_hash != expected_prev {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::BrokenLink,
            });
        }
        self.head = Some((entry.seq, entry.hash));
        self.count += 1;
        Ok(())
    }

    /// The sequence number the next entry must have.
    pub fn expected_seq(&self) -> i64 {
        self.head.map_or(1, |(seq, _)| seq + 1)
    }

    /// The summary once every entry was pushed.
    pub fn finish(self) -> ChainSummary {
        ChainSummary {
            entries: self.count,
            head: self.head,
        }
    }
}

#[cfg(test)]
mod action_tests {
    use super::*;

    #[test]
    fn every_action_is_a_valid_distinct_stored_name() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            let stored = AuditAction::from(*action);
            assert_eq!(AuditAction::new(action.as_str()), Ok(stored), "{action:?}");
            assert!(seen.insert(action.as_str()), "{action:?} is stored twice");
        }
        // The stored texts stay what they were when actions were strings.
        assert_eq!(Action::LoginFailed.as_str(), "auth.login.failed");
        assert_eq!(Action::SessionRevoked.as_str(), "session.revoked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn record(i: u32) -> AuditRecord {
        let at = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
            + chrono::TimeDelta::seconds(i.into());
        AuditRecord::new(at, Actor::System, AuditAction::new("test.event").unwrap())
            .target(format!("thing-{i}"))
            .details(AuditDetails::new().with("n", i.to_string()))
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.seq, e.hash));
            out.push(AuditEntry::append_to(head, record(i)));
        }
        out
    }

    fn verify(entries: &[AuditEntry]) -> Result<ChainSummary, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in entries {
            v.push(e)?;
        }
        Ok(v.finish())
    }

    #[test]
    fn intact_chain_verifies() {
        let entries = chain(5);
        let summary = verify(&entries).unwrap();
        assert_eq!(summary.entries, 5);
        assert_eq!(summary.head, Some((5, entries[4].hash)));
    }

    #[test]
    fn detects_edit_rehash_and_deletion() {
        let mut edited = chain(5);
        edited[2].record.target = Some("other".into());
        assert_eq!(
            verify(&edited),
            Err(ChainBreak {
                seq: 3,
                problem: ChainProblem::Altered
            })
        );

        let mut rehashed = chain(5);
        rehashed[2].record.target = Some("other".into());
        rehashed[2].hash = AuditEntry::digest(3, &rehashed[2].record, &rehashed[2].prev_hash);
        assert_eq!(
            verify(&rehashed),
            Err(ChainBreak {
                seq: 4,
                problem: ChainProblem::BrokenLink
            })
        );

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify(&deleted),
            Err(ChainBreak {
                seq: 3,
                problem: ChainProblem::Missing { expected_seq: 2 }
            })
        );
    }

    #[test]
    fn details_are_cleaned_and_actor_round_trips() {
        let d = AuditDetails::new().with("reason", "bad\r\nINFO forged line");
        assert_eq!(
            d.iter().next().unwrap().1,
            "bad\u{FFFD}\u{FFFD}INFO forged line"
        );
        let a = Actor::User(UserId::from_random([1; 16]));
        assert_eq!(Actor::from_storage(&a.to_storage()), Ok(a));
        assert!(Actor::from_storage("user:nope").is_err());
        assert!(AuditAction::new("Auth Login").is_err());
    }

    proptest! {
        /// Changing any single entry anywhere is detected at that entry or the next.
        #[test]
        fn any_single_edit_is_detected(n in 2u32..20, victim in 0usize..20, new_target in "[a-z]{1,8}") {
            let mut entries = chain(n);
            let victim = victim % entries.len();
            prop_assume!(entries[victim].record.target.as_deref() != Some(new_target.as_str()));
            entries[victim].record.target = Some(new_target);
            let err = verify(&entries).unwrap_err();
            prop_assert_eq!(err.seq, entries[victim].seq);
        }
    }
}

//! The actions an audit entry records: [`Action`], every one WildID writes, and
//! [`AuditAction`], the validated dotted name that is stored.

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
    /// An address confirmation link was refused: malformed, unknown, expired, already used,
    /// or for an account that no longer exists (the reason is a detail).
    VerificationRefused => "auth.email.verification_refused",
    /// A sign-in link was sent.
    MagicLinkIssued => "auth.magic_link.issued",
    /// A sign-in link was used.
    MagicLinkUsed => "auth.magic_link.used",
    /// A sign-in link was refused when someone tried to use it: malformed, unknown, expired,
    /// already used, or for an account that is no longer active (the reason is a detail).
    MagicLinkRefused => "auth.magic_link.refused",
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
    /// A signed-in person asked for something of someone else's by its id (a journal entry);
    /// they were answered as if it did not exist (the reason is a detail).
    AccessRefused => "access.refused",
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
    /// An admin had the whole audit chain checked from the console (its outcome in the
    /// details).
    AuditChainChecked => "audit.chain_checked",
    /// Stored address digests were moved to the current email pepper (the counts only).
    EmailIndexRekeyed => "keys.email_rekeyed",
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn malformed_action_names_are_refused() {
        assert!(AuditAction::new("Auth Login").is_err());
    }
}

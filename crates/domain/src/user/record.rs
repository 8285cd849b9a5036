//! A user account as storage holds it: [`UserRecord`] has every field public, and
//! [`User::restore`] turns one back into an account only when the account's rules hold.

use super::{DISPLAY_NAME_MAX_CHARS, EmailLookup, EncryptedField, PasswordHash, User};
use crate::Timestamp;
use crate::ids::UserId;
use crate::lockout::LockoutState;
use crate::role::Role;
use crate::text::PlainText;

/// A rule of [`User`] that a record or a change breaks.
///
/// A TOTP step without a TOTP secret is not refused: the repository's compare-and-swap of
/// the step does not look at the secret, and a step alone is never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUser {
    /// The display name is longer than [`DISPLAY_NAME_MAX_CHARS`] characters.
    #[error("the display name is longer than {DISPLAY_NAME_MAX_CHARS} characters")]
    DisplayNameTooLong,
}

/// Every field of a [`User`], public, for storage adapters (and tests) to write and rebuild
/// accounts. Nothing is checked until [`User::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable identifier.
    pub id: UserId,
    /// Lookup digest of the normalised address.
    pub email_lookup: EmailLookup,
    /// The address, encrypted with the key ring.
    pub email_encrypted: EncryptedField,
    /// What the user may do.
    pub role: Role,
    /// Whether the account may sign in.
    pub active: bool,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the address was proven, if it was.
    pub email_verified_at: Option<Timestamp>,
    /// When the privacy notice was accepted, if it was.
    pub privacy_accepted_at: Option<Timestamp>,
    /// Password hash, for accounts that set a password.
    pub password_hash: Option<PasswordHash>,
    /// The encrypted TOTP secret, once enrolment is confirmed.
    pub totp_secret: Option<EncryptedField>,
    /// The last TOTP time step accepted.
    pub totp_last_step: Option<i64>,
    /// Failed-attempt counters.
    pub lockout: LockoutState,
    /// Last successful sign-in.
    pub last_login_at: Option<Timestamp>,
    /// The display name, if any.
    pub display_name: Option<PlainText>,
}

/// Whether `name` fits a display name.
pub(super) fn check_display_name(name: Option<&PlainText>) -> Result<(), InvalidUser> {
    match name {
        Some(n) if n.as_str().chars().count() > DISPLAY_NAME_MAX_CHARS => {
            Err(InvalidUser::DisplayNameTooLong)
        }
        _ => Ok(()),
    }
}

impl User {
    /// Rebuilds a stored account.
    ///
    /// # Errors
    /// [`InvalidUser`] naming the first rule the record breaks.
    pub fn restore(record: UserRecord) -> Result<Self, InvalidUser> {
        check_display_name(record.display_name.as_ref())?;
        Ok(Self(record))
    }

    /// A copy of every field, for writing the account; [`User::restore`] of it gives back an
    /// equal account.
    pub fn to_record(&self) -> UserRecord {
        self.0.clone()
    }

    /// Every field, for writing the account (see [`User::to_record`]).
    pub fn into_record(self) -> UserRecord {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(secs: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
            + chrono::TimeDelta::seconds(secs)
    }

    fn valid() -> UserRecord {
        let mut user = User::new(
            UserId::from_random([1; 16]),
            EmailLookup::from_bytes([2; 32]),
            EncryptedField::new("gAAAA-address".into()),
            at(0),
        )
        .into_record();
        user.totp_secret = Some(EncryptedField::new("gAAAA-totp".into()));
        user.totp_last_step = Some(7);
        user.display_name = Some(PlainText::new("Ann", DISPLAY_NAME_MAX_CHARS).unwrap());
        user
    }

    #[test]
    fn a_valid_record_is_restored_as_it_was() {
        let user = User::restore(valid()).unwrap();
        assert_eq!(user.id(), UserId::from_random([1; 16]));
        assert!(user.has_totp());
        assert_eq!(user.display_name().map(PlainText::as_str), Some("Ann"));
        assert_eq!(user.into_record(), valid());
    }

    #[test]
    fn a_step_without_a_secret_is_kept() {
        let mut record = valid();
        record.totp_secret = None;
        assert_eq!(User::restore(record.clone()).unwrap().to_record(), record);
    }

    #[test]
    fn a_too_long_display_name_is_refused() {
        let mut record = valid();
        let longest = "é".repeat(DISPLAY_NAME_MAX_CHARS);
        record.display_name = Some(PlainText::new(&longest, DISPLAY_NAME_MAX_CHARS).unwrap());
        assert!(User::restore(record.clone()).is_ok());
        record.display_name = Some(PlainText::new(&format!("{longest}x"), 100).unwrap());
        assert_eq!(
            User::restore(record.clone()),
            Err(InvalidUser::DisplayNameTooLong)
        );
        let mut user = User::restore(valid()).unwrap();
        assert_eq!(
            user.set_display_name(record.display_name),
            Err(InvalidUser::DisplayNameTooLong)
        );
        assert_eq!(
            user.to_record(),
            valid(),
            "a refused change changes nothing"
        );
    }

    #[test]
    fn transitions_keep_the_second_factor_whole() {
        let mut user = User::restore(valid()).unwrap();
        user.disable_totp();
        assert_eq!((user.has_totp(), user.totp_last_step()), (false, None));
        user.enable_totp(EncryptedField::new("gAAAA-new".into()), 9);
        assert_eq!((user.has_totp(), user.totp_last_step()), (true, Some(9)));
        assert!(user.verify_email(at(5)));
        assert!(!user.verify_email(at(6)), "proven once");
        assert_eq!(user.email_verified_at(), Some(at(5)));
    }

    fn opt_time() -> impl Strategy<Value = Option<Timestamp>> {
        proptest::option::of((-1_000_000_000i64..1_000_000_000).prop_map(at))
    }

    prop_compose! {
        fn records()(
            bytes in any::<[u8; 16]>(),
            lookup in any::<[u8; 32]>(),
            role in prop_oneof![Just(Role::Visitor), Just(Role::Worker), Just(Role::Admin)],
            active in any::<bool>(),
            created in -1_000_000_000i64..1_000_000_000,
            times in (opt_time(), opt_time(), opt_time(), opt_time()),
            hash in proptest::option::of("[a-z$=0-9]{1,20}"),
            secret in proptest::option::of("[A-Za-z0-9_-]{1,20}"),
            step in proptest::option::of(any::<i64>()),
            failed_attempts in any::<u32>(),
            name in proptest::option::of("[a-zA-Z é]{1,60}"),
        ) -> UserRecord {
            let (verified, privacy, locked_until, last_login) = times;
            UserRecord {
                id: UserId::from_random(bytes),
                email_lookup: EmailLookup::from_bytes(lookup),
                email_encrypted: EncryptedField::new(format!("gAAAA-{created}")),
                role,
                active,
                created_at: at(created),
                email_verified_at: verified,
                privacy_accepted_at: privacy,
                password_hash: hash.map(PasswordHash::new),
                totp_secret: secret.map(EncryptedField::new),
                totp_last_step: step,
                lockout: LockoutState { failed_attempts, locked_until },
                last_login_at: last_login,
                display_name: name.and_then(|n| PlainText::new(&n, DISPLAY_NAME_MAX_CHARS).ok()),
            }
        }
    }

    proptest! {
        /// Storage loses nothing: a valid record comes back from restore unchanged.
        #[test]
        fn record_restore_record_is_identity(record in records()) {
            let user = User::restore(record.clone()).unwrap();
            prop_assert_eq!(user.to_record(), record.clone());
            prop_assert_eq!(user.into_record(), record);
        }
    }
}

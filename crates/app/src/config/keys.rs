//! The three secrets (`WILDID_SESSION_KEY`, `WILDID_FERNET_KEYS`, `WILDID_EMAIL_PEPPER`, and
//! during a pepper rotation `WILDID_EMAIL_PEPPER_PREVIOUS`), each given as a value or as a file
//! (`*_FILE`). Only read here: `crate::secrets` checks their
//! form, and generates them in development.

use std::path::PathBuf;

use wildid_domain::secret::SecretString;

use super::ConfigError;
use super::helpers::{SecretValue, either, section};

section! {
    /// The secrets as read.
    struct RawKeys {
        session_key: SecretValue,
        session_key_file: Option<PathBuf>,
        fernet_keys: SecretValue,
        fernet_keys_file: Option<PathBuf>,
        email_pepper: SecretValue,
        email_pepper_file: Option<PathBuf>,
        email_pepper_previous: SecretValue,
        email_pepper_previous_file: Option<PathBuf>,
    }
}

/// The three secrets, as given (still unvalidated).
#[derive(Debug, Default)]
pub struct SecretInputs {
    /// `WILDID_SESSION_KEY`.
    pub session_key: Option<SecretString>,
    /// `WILDID_FERNET_KEYS`.
    pub fernet_keys: Option<SecretString>,
    /// `WILDID_EMAIL_PEPPER`.
    pub email_pepper: Option<SecretString>,
    /// `WILDID_EMAIL_PEPPER_PREVIOUS`: older peppers still tried when looking an account up,
    /// during a rotation (comma-separated, newest first).
    pub email_pepper_previous: Option<SecretString>,
}

/// Each secret from its value or its file, not both.
pub(super) fn secrets(raw: RawKeys) -> Result<SecretInputs, ConfigError> {
    Ok(SecretInputs {
        session_key: either("WILDID_SESSION_KEY", raw.session_key, raw.session_key_file)?,
        fernet_keys: either("WILDID_FERNET_KEYS", raw.fernet_keys, raw.fernet_keys_file)?,
        email_pepper: either(
            "WILDID_EMAIL_PEPPER",
            raw.email_pepper,
            raw.email_pepper_file,
        )?,
        email_pepper_previous: either(
            "WILDID_EMAIL_PEPPER_PREVIOUS",
            raw.email_pepper_previous,
            raw.email_pepper_previous_file,
        )?,
    })
}

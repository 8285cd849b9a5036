//! The server's three secrets: the session key (signs cookies; sub-keys are derived from it),
//! the Fernet key ring (encrypts fields at rest) and the email pepper (keys the address index).
//!
//! Production takes them from the environment (or `*_FILE`) only, and refuses to start without
//! them. Development fills in what is missing from `<data dir>/dev-secrets.env`, generating that
//! file (mode 0600) on first start and reusing it afterwards, so sessions and encrypted data
//! survive restarts. An existing file is never overwritten: losing the Fernet key would lose
//! every encrypted address.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use wildid_domain::secret::{SecretBytes, SecretString};
use wildid_ports::builtin::{FernetKeyRing, HmacEmailIndex, KeyRingError};
use wildid_ports::random::SecureRandom;

use crate::config::{ConfigError, SecretInputs, Settings};

/// Bytes of a session key.
pub const SESSION_KEY_BYTES: usize = 64;
/// Bytes of an email pepper.
pub const PEPPER_BYTES: usize = 32;
/// Name of the development secrets file inside the data directory.
pub const DEV_FILE: &str = "dev-secrets.env";

/// Validated secrets.
pub struct Secrets {
    /// Master key for cookies and other signatures.
    pub session_key: SecretBytes,
    /// Fernet keys, newest first.
    pub fernet_keys: Vec<SecretString>,
    /// Key of the email lookup digest.
    pub email_pepper: SecretBytes,
    /// Older peppers still tried when looking an account up (during a rotation), newest first.
    pub email_pepper_previous: Vec<SecretBytes>,
}

impl Secrets {
    /// The address index: digests under the current pepper, lookups also under the older ones.
    ///
    /// # Errors
    /// Never for validated secrets (each pepper is at least 32 bytes); a message otherwise.
    pub fn email_index(&self) -> Result<HmacEmailIndex, String> {
        HmacEmailIndex::with_previous(
            self.email_pepper.clone(),
            self.email_pepper_previous.clone(),
        )
        .map_err(|e| e.to_string())
    }
}

/// Where the secrets came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// All given in the environment or files.
    Given,
    /// Completed from the development file.
    DevFile {
        /// The file.
        path: PathBuf,
        /// Whether it was created by this start.
        generated: bool,
    },
}

/// Resolves and validates the secrets for `settings`. In development this may create the
/// development file (and the data directory).
///
/// # Errors
/// [`ConfigError`] naming the missing or malformed variable.
pub fn resolve(
    settings: &Settings,
    random: &dyn SecureRandom,
) -> Result<(Secrets, Origin), ConfigError> {
    let given = &settings.secrets;
    let all_given =
        given.session_key.is_some() && given.fernet_keys.is_some() && given.email_pepper.is_some();
    if settings.production() || all_given {
        let secrets = validate_inputs(given)?;
        return Ok((secrets, Origin::Given));
    }
    let path = settings.data_dir.join(DEV_FILE);
    let generated = if path.exists() {
        false
    } else {
        write_dev_file(&settings.data_dir, &path, random)?;
        true
    };
    let from_file = read_env_file(&path)?;
    let merged = SecretInputs {
        session_key: given.session_key.clone().or(from_file.session_key),
        fernet_keys: given.fernet_keys.clone().or(from_file.fernet_keys),
        email_pepper: given.email_pepper.clone().or(from_file.email_pepper),
        email_pepper_previous: given
            .email_pepper_previous
            .clone()
            .or(from_file.email_pepper_previous),
    };
    let in_file = |e: ConfigError| match e {
        ConfigError::MissingSecret { var } => ConfigError::Io(format!(
            "{} lacks {var}; remove the file to regenerate it only if no data depends on it",
            path.display()
        )),
        other => other,
    };
    let secrets = validate_inputs(&merged).map_err(|e| match e {
        ConfigError::Several(problems) => {
            ConfigError::Several(problems.into_iter().map(in_file).collect())
        }
        one => in_file(one),
    })?;
    Ok((secrets, Origin::DevFile { path, generated }))
}

/// Fresh secrets in the `KEY=value` form of an environment file.
///
/// # Errors
/// [`ConfigError::Io`] when no randomness is available.
pub fn generate_env(random: &dyn SecureRandom) -> Result<String, ConfigError> {
    let draw = |n: usize| -> Result<Vec<u8>, ConfigError> {
        let mut buf = vec![0u8; n];
        random
            .fill(&mut buf)
            .map_err(|_| ConfigError::Io("no secure randomness available".into()))?;
        Ok(buf)
    };
    Ok(format!(
        "WILDID_SESSION_KEY={}\nWILDID_FERNET_KEYS={}\nWILDID_EMAIL_PEPPER={}\n",
        URL_SAFE_NO_PAD.encode(draw(SESSION_KEY_BYTES)?),
        fernet_key(&draw(32)?),
        URL_SAFE_NO_PAD.encode(draw(PEPPER_BYTES)?),
    ))
}

/// A Fernet key (32 bytes, URL-safe base64 with padding, the format of every Fernet library).
pub fn fernet_key(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Checks the three secrets (and the previous peppers), each on its own: every problem found
/// is reported at once ([`ConfigError::Several`] when there is more than one).
fn validate_inputs(given: &SecretInputs) -> Result<Secrets, ConfigError> {
    let session_key = required(&given.session_key, "WILDID_SESSION_KEY").and_then(|session| {
        decode_key(session, SESSION_KEY_BYTES).ok_or(ConfigError::MalformedSecret {
            var: "WILDID_SESSION_KEY",
            why: "expected at least 64 bytes, base64-encoded",
        })
    });
    let fernet_keys = required(&given.fernet_keys, "WILDID_FERNET_KEYS").and_then(fernet_ring);
    let email_pepper = required(&given.email_pepper, "WILDID_EMAIL_PEPPER").and_then(|pepper| {
        decode_key(pepper, PEPPER_BYTES).ok_or(ConfigError::MalformedSecret {
            var: "WILDID_EMAIL_PEPPER",
            why: "expected at least 32 bytes, base64-encoded",
        })
    });
    let email_pepper_previous = previous_peppers(given, email_pepper.as_ref().ok());
    match (
        session_key,
        fernet_keys,
        email_pepper,
        email_pepper_previous,
    ) {
        (Ok(session_key), Ok(fernet_keys), Ok(email_pepper), Ok(email_pepper_previous)) => {
            Ok(Secrets {
                session_key,
                fernet_keys,
                email_pepper,
                email_pepper_previous,
            })
        }
        (session, fernet, pepper, previous) => {
            let mut problems: Vec<ConfigError> = [session.err(), fernet.err(), pepper.err()]
                .into_iter()
                .flatten()
                .collect();
            problems.extend(previous.err());
            Err(match problems.len() {
                1 => problems.remove(0),
                _ => ConfigError::Several(problems),
            })
        }
    }
}

/// The secret `var`, which must be given.
fn required<'a>(
    value: &'a Option<SecretString>,
    var: &'static str,
) -> Result<&'a SecretString, ConfigError> {
    value.as_ref().ok_or(ConfigError::MissingSecret { var })
}

/// `WILDID_FERNET_KEYS`: one or more comma-separated Fernet keys, newest first.
fn fernet_ring(given: &SecretString) -> Result<Vec<SecretString>, ConfigError> {
    let fernet_keys: Vec<SecretString> = given
        .expose()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| SecretString::new(k.to_owned()))
        .collect();
    FernetKeyRing::new(&fernet_keys).map_err(|e| ConfigError::MalformedSecret {
        var: "WILDID_FERNET_KEYS",
        why: match e {
            KeyRingError::Empty => "expected one or more comma-separated Fernet keys, newest first",
            KeyRingError::Malformed(_) => "a key is not a Fernet key (32 bytes, URL-safe base64)",
        },
    })?;
    Ok(fernet_keys)
}

/// `WILDID_EMAIL_PEPPER_PREVIOUS`: older peppers, none equal to `current` (when it is known).
fn previous_peppers(
    given: &SecretInputs,
    current: Option<&SecretBytes>,
) -> Result<Vec<SecretBytes>, ConfigError> {
    let mut previous = Vec::new();
    for older in given
        .email_pepper_previous
        .iter()
        .flat_map(|list| list.expose().split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let older = decode_key(&SecretString::new(older.to_owned()), PEPPER_BYTES).ok_or(
            ConfigError::MalformedSecret {
                var: "WILDID_EMAIL_PEPPER_PREVIOUS",
                why: "expected comma-separated peppers of at least 32 bytes each, base64-encoded",
            },
        )?;
        if current.is_some_and(|current| older.expose() == current.expose()) {
            return Err(ConfigError::MalformedSecret {
                var: "WILDID_EMAIL_PEPPER_PREVIOUS",
                why: "it holds the current pepper (WILDID_EMAIL_PEPPER); list only older ones",
            });
        }
        previous.push(older);
    }
    Ok(previous)
}

/// Base64 in either alphabet, padded or not, of at least `min` bytes.
fn decode_key(value: &SecretString, min: usize) -> Option<SecretBytes> {
    let text = value.expose().trim().trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| STANDARD.decode(pad(text)))
        .ok()?;
    (bytes.len() >= min).then(|| SecretBytes::new(bytes))
}

fn pad(text: &str) -> String {
    let mut padded = text.to_owned();
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    padded
}

fn write_dev_file(
    data_dir: &Path,
    path: &Path,
    random: &dyn SecureRandom,
) -> Result<(), ConfigError> {
    crate::data_dir::ensure(data_dir).map_err(ConfigError::Io)?;
    let body = format!(
        "# WildID development secrets, generated {}.\n# Not for production: there, set these variables yourself (see `wildid keys generate`).\n{}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
        generate_env(random)?
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| ConfigError::Io(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(body.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ConfigError::Io(format!("cannot write {}: {e}", path.display())))
}

/// Replaces the key ring in the development file at `path` with `ring` (comma-separated,
/// newest first), keeping every other line: the new file is written beside it (mode 0600),
/// synced and renamed over it, so a crash leaves the old file or the new one, never half.
///
/// # Errors
/// [`ConfigError::Io`] naming the file.
pub fn replace_dev_ring(path: &Path, ring: &str) -> Result<(), ConfigError> {
    let io = |what: &str, e: std::io::Error| {
        ConfigError::Io(format!("cannot {what} {}: {e}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|e| io("read", e))?;
    let mut replaced = false;
    let mut body = String::with_capacity(text.len() + ring.len());
    for line in text.lines() {
        if line.trim_start().starts_with("WILDID_FERNET_KEYS=") {
            body.push_str("WILDID_FERNET_KEYS=");
            body.push_str(ring);
            replaced = true;
        } else {
            body.push_str(line);
        }
        body.push('\n');
    }
    if !replaced {
        body.push_str("WILDID_FERNET_KEYS=");
        body.push_str(ring);
        body.push('\n');
    }
    let fresh = path.with_extension("env.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&fresh).map_err(|e| io("write beside", e))?;
    file.write_all(body.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write beside", e))?;
    std::fs::rename(&fresh, path).map_err(|e| io("replace", e))
}

fn read_env_file(path: &Path) -> Result<SecretInputs, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Io(format!("cannot read {}: {e}", path.display())))?;
    let mut inputs = SecretInputs::default();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = Some(SecretString::new(value.trim().to_owned()));
        match key.trim() {
            "WILDID_SESSION_KEY" => inputs.session_key = value,
            "WILDID_FERNET_KEYS" => inputs.fernet_keys = value,
            "WILDID_EMAIL_PEPPER" => inputs.email_pepper = value,
            "WILDID_EMAIL_PEPPER_PREVIOUS" => inputs.email_pepper_previous = value,
            _ => {}
        }
    }
    Ok(inputs)
}

/// Describes where the secrets would come from, validating them, without creating anything
/// (`wildid config check`).
///
/// # Errors
/// [`ConfigError`] as [`resolve`] would report it.
pub fn check(settings: &Settings) -> Result<String, ConfigError> {
    let given = &settings.secrets;
    let all_given =
        given.session_key.is_some() && given.fernet_keys.is_some() && given.email_pepper.is_some();
    if settings.production() || all_given {
        let secrets = validate_inputs(given)?;
        return Ok(format!("given ({})", rings(&secrets)));
    }
    let path = settings.data_dir.join(DEV_FILE);
    if !path.exists() {
        return Ok(format!(
            "development: will be generated at first start in {}",
            path.display()
        ));
    }
    let from_file = read_env_file(&path)?;
    let merged = SecretInputs {
        session_key: given.session_key.clone().or(from_file.session_key),
        fernet_keys: given.fernet_keys.clone().or(from_file.fernet_keys),
        email_pepper: given.email_pepper.clone().or(from_file.email_pepper),
        email_pepper_previous: given
            .email_pepper_previous
            .clone()
            .or(from_file.email_pepper_previous),
    };
    let secrets = validate_inputs(&merged)?;
    Ok(format!(
        "development: from {} ({})",
        path.display(),
        rings(&secrets)
    ))
}

/// How many keys each ring holds (never the keys).
fn rings(secrets: &Secrets) -> String {
    let mut text = format!("{} Fernet key(s)", secrets.fernet_keys.len());
    if !secrets.email_pepper_previous.is_empty() {
        text.push_str(&format!(
            ", {} previous email pepper(s): run `wildid keys rekey-emails`",
            secrets.email_pepper_previous.len()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, load};
    use wildid_ports::builtin::OsRandom;

    fn settings(dir: &Path, production: bool) -> Settings {
        let mut s = load(&Overrides {
            data_dir: Some(dir.to_owned()),
            ..Overrides::default()
        })
        .unwrap();
        s.environment = if production {
            crate::config::Environment::Production
        } else {
            crate::config::Environment::Development
        };
        s.secrets = SecretInputs::default();
        s
    }

    #[test]
    fn development_generates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), false);
        let (first, origin) = resolve(&s, &OsRandom).unwrap();
        assert!(matches!(
            origin,
            Origin::DevFile {
                generated: true,
                ..
            }
        ));
        let path = dir.path().join(DEV_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (second, origin) = resolve(&s, &OsRandom).unwrap();
        assert!(matches!(
            origin,
            Origin::DevFile {
                generated: false,
                ..
            }
        ));
        assert_eq!(first.session_key.expose(), second.session_key.expose());
        assert_eq!(first.email_pepper.expose(), second.email_pepper.expose());
        assert_eq!(
            first.fernet_keys[0].expose(),
            second.fernet_keys[0].expose()
        );
    }

    #[test]
    fn production_never_generates_and_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), true);
        let err = resolve(&s, &OsRandom).err().unwrap().to_string();
        assert!(
            err.contains("WILDID_SESSION_KEY") && err.contains("wildid keys generate"),
            "{err}"
        );
        assert!(!dir.path().join(DEV_FILE).exists());
    }

    #[test]
    fn every_missing_or_malformed_secret_is_named_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), true);
        let err = resolve(&s, &OsRandom).err().unwrap().to_string();
        assert!(err.starts_with("3 problems in the configuration"), "{err}");
        for var in [
            "WILDID_SESSION_KEY is not set",
            "WILDID_FERNET_KEYS is not set",
            "WILDID_EMAIL_PEPPER is not set",
        ] {
            assert!(err.contains(var), "{var}: {err}");
        }
        s.secrets.session_key = Some(SecretString::new("c2hvcnQ".into()));
        s.secrets.email_pepper = Some(SecretString::new("dG9vIHNob3J0".into()));
        s.secrets.email_pepper_previous = Some(SecretString::new("not base64 at all!".into()));
        let err = resolve(&s, &OsRandom).err().unwrap().to_string();
        assert!(err.starts_with("4 problems in the configuration"), "{err}");
        for var in [
            "WILDID_SESSION_KEY is malformed",
            "WILDID_FERNET_KEYS is not set",
            "WILDID_EMAIL_PEPPER is malformed",
            "WILDID_EMAIL_PEPPER_PREVIOUS is malformed",
        ] {
            assert!(err.contains(var), "{var}: {err}");
        }
    }

    #[test]
    fn malformed_values_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), true);
        let env = generate_env(&OsRandom).unwrap();
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_owned()
        };
        s.secrets.session_key = Some(SecretString::new(get("WILDID_SESSION_KEY")));
        s.secrets.fernet_keys = Some(SecretString::new(format!(
            "{},{}",
            get("WILDID_FERNET_KEYS"),
            fernet_key(&[1; 32])
        )));
        s.secrets.email_pepper = Some(SecretString::new("dG9vIHNob3J0".into()));
        let err = resolve(&s, &OsRandom).err().unwrap().to_string();
        assert!(err.starts_with("WILDID_EMAIL_PEPPER is malformed"), "{err}");
        s.secrets.email_pepper = Some(SecretString::new(get("WILDID_EMAIL_PEPPER")));
        let (secrets, origin) = resolve(&s, &OsRandom).unwrap();
        assert_eq!((secrets.fernet_keys.len(), origin), (2, Origin::Given));
        s.secrets.fernet_keys = Some(SecretString::new("nonsense".into()));
        assert!(
            resolve(&s, &OsRandom)
                .err()
                .unwrap()
                .to_string()
                .starts_with("WILDID_FERNET_KEYS is malformed")
        );
    }
}

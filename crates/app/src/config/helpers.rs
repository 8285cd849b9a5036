//! What the sections share: the macro that declares a section's values, secrets given as a
//! value or a file, and the parsing of numbers, lists and origins.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use wildid_domain::secret::SecretString;

use super::ConfigError;

/// Declares a section's values as read: one field per setting, named as its key in the file
/// (in the environment the variable is `WILDID_` and the key in upper case). The struct gets
/// `KEYS`, the section's keys, and `read`, which takes one key's value into its field; so a
/// setting is named once, here, and its checks sit beside it in the section's module.
macro_rules! section {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Default)]
        pub(super) struct $name {
            $($(#[$field_meta])* pub(super) $field: $ty,)*
        }

        impl $name {
            /// This section's keys, as in the file.
            pub(super) const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Takes `key`'s value into its field; `false` when `key` is not this section's.
            pub(super) fn read<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $(stringify!($field) => self.$field = map.next_value()?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}
pub(super) use section;

/// Declares the struct of every section's values (`name: its section's struct`), with `KEYS`
/// (all their keys) and `read` (the section that owns a key takes its value).
macro_rules! sections {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $($section:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Default)]
        pub(super) struct $name {
            $(pub(super) $section: $ty,)*
        }

        impl $name {
            /// Every section's keys, as in the file, in the order of the sections.
            fn keys() -> Vec<&'static str> {
                [$(<$ty>::KEYS),*].concat()
            }

            /// Takes `key`'s value into the section that owns it; `false` if none does.
            fn read<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                Ok($(self.$section.read(key, map)? ||)* false)
            }
        }
    };
}
pub(super) use sections;

/// A secret value read from configuration. Any scalar is accepted and turned into text, and
/// no error message ever repeats it.
#[derive(Default)]
pub(super) struct SecretValue(pub(super) Option<SecretString>);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SecretValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a secret as text")
            }
            fn visit_str<E>(self, v: &str) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_owned()))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<SecretValue, E> {
                Ok(SecretValue(Some(SecretString::new(v.to_string()))))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A secret given directly or as `*_FILE` (the file's content, trailing newline removed).
pub(super) fn either(
    var: &'static str,
    value: SecretValue,
    file: Option<PathBuf>,
) -> Result<Option<SecretString>, ConfigError> {
    match (value.0, file) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            var,
            why: format!("set either {var} or {var}_FILE, not both"),
        }),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => read_secret_file(var, &path).map(Some),
        (None, None) => Ok(None),
    }
}

fn read_secret_file(var: &'static str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        var,
        why: format!("cannot read {var}_FILE ({}): {e}", path.display()),
    })?;
    Ok(SecretString::new(
        text.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

/// An integer setting within bounds, with a default.
pub(super) fn bounded_int(
    var: &'static str,
    value: Option<u64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match i64::try_from(value) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError::Invalid {
            var,
            why: format!("expected {min} to {max}"),
        }),
    }
}

/// The entries of a comma-separated list, trimmed, empty ones left out.
pub(super) fn csv(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Origins in `var` (validated and normalised as the CORS policy and the CSP do).
pub(super) fn parse_origins(
    var: &'static str,
    raw: Option<&str>,
) -> Result<Vec<String>, ConfigError> {
    let policy =
        wildid_adapters_http::CorsPolicy::new(csv(raw.unwrap_or_default())).map_err(|e| {
            ConfigError::Invalid {
                var,
                why: e.to_string(),
            }
        })?;
    Ok(policy.origins().map(str::to_owned).collect())
}

/// `var` is invalid, for the reason `why`.
pub(super) fn invalid<T>(var: &'static str, why: &str) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid {
        var,
        why: why.to_owned(),
    })
}

//! Every section's values as read: the file's keys and the environment's variables go to the
//! section that declares them, and any other key is refused by name.

use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Error as _, MapAccess};

use super::helpers::sections;
use super::{
    accounts, ai, captcha, database, http, journal, keys, limits, logging, mail, map, metrics,
    retention, server, sessions, uploads,
};

sections! {
    /// Every section's values as read.
    struct Raw {
        server: server::RawServer,
        database: database::RawDatabase,
        logging: logging::RawLogging,
        metrics: metrics::RawMetrics,
        mail: mail::RawMail,
        keys: keys::RawKeys,
        http: http::RawHttp,
        map: map::RawMap,
        sessions: sessions::RawSessions,
        limits: limits::RawLimits,
        captcha: captcha::RawCaptcha,
        accounts: accounts::RawAccounts,
        ai: ai::RawIdentification,
        uploads: uploads::RawUploads,
        journal: journal::RawJournal,
        retention: retention::RawRetention,
    }
}

/// Every known key, as in the file (lower case, without `WILDID_`).
pub(super) static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(Raw::keys);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("struct Raw")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                let mut raw = Raw::default();
                while let Some(key) = map.next_key_seed(KnownKey)? {
                    if !raw.read(key, &mut map)? {
                        return Err(A::Error::unknown_field(key, &KEYS));
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_struct("Raw", &KEYS, Visitor)
    }
}

/// A key of [`KEYS`]; any other is refused as an unknown field.
struct KnownKey;

impl<'de> DeserializeSeed<'de> for KnownKey {
    type Value = &'static str;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl serde::de::Visitor<'_> for KnownKey {
    type Value = &'static str;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<&'static str, E> {
        KEYS.iter()
            .find(|k| **k == v)
            .copied()
            .ok_or_else(|| E::unknown_field(v, &KEYS))
    }
}

/// The environment variables read with the `WILDID_` prefix, without it: every key in upper
/// case but `DATABASE_URL`, which is read as it is.
pub(super) fn prefixed_variables() -> Vec<String> {
    KEYS.iter()
        .filter(|k| **k != database::UNPREFIXED)
        .map(|k| k.to_ascii_uppercase())
        .collect()
}

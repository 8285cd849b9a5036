//! The field journal settings (`WILDID_JOURNAL_*`, `WILDID_GEOPRIVACY_OBSCURE_FROM`): how much
//! each person's photos may take, and from which conservation status sightings are obscured on
//! the public map whatever their owner chose.

use wildid_domain::sighting::ConservationStatus;
use wildid_ports::services::journal::JournalSettings;

use super::ConfigError;
use super::helpers::{bounded_int, section};

section! {
    /// The journal values as read.
    struct RawJournal {
        journal_photo_max_bytes: Option<u64>,
        journal_allowance_bytes: Option<u64>,
        geoprivacy_obscure_from: Option<String>,
    }
}

const MIB: i64 = 1024 * 1024;

/// The journal's settings.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable that is out of range or unknown.
pub(super) fn journal(raw: RawJournal) -> Result<JournalSettings, ConfigError> {
    let defaults = JournalSettings::default();
    let photo_max_bytes = bounded_int(
        "WILDID_JOURNAL_PHOTO_MAX_BYTES",
        raw.journal_photo_max_bytes,
        i64::try_from(defaults.photo_max_bytes).unwrap_or(4 * MIB),
        64 * 1024,
        64 * MIB,
    )?
    .unsigned_abs();
    let allowance_bytes = bounded_int(
        "WILDID_JOURNAL_ALLOWANCE_BYTES",
        raw.journal_allowance_bytes,
        i64::try_from(defaults.allowance_bytes).unwrap_or(512 * MIB),
        64 * 1024,
        1024 * 1024 * MIB,
    )?
    .unsigned_abs();
    if allowance_bytes < photo_max_bytes {
        return Err(ConfigError::Invalid {
            var: "WILDID_JOURNAL_ALLOWANCE_BYTES",
            why: "must be at least WILDID_JOURNAL_PHOTO_MAX_BYTES".into(),
        });
    }
    let obscure_from = match raw.geoprivacy_obscure_from.as_deref().map(str::trim) {
        None | Some("") => defaults.obscure_from,
        Some(code) => ConservationStatus::from_code(code).ok_or_else(|| ConfigError::Invalid {
            var: "WILDID_GEOPRIVACY_OBSCURE_FROM",
            why: "expected an IUCN code: LC, NT, VU, EN, CR, EW or EX".into(),
        })?,
    };
    Ok(JournalSettings {
        photo_max_bytes,
        allowance_bytes,
        obscure_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawJournal {
        RawJournal::default()
    }

    #[test]
    fn defaults_and_each_bad_value_named() {
        assert_eq!(journal(raw()).unwrap(), JournalSettings::default());
        let s = journal(RawJournal {
            geoprivacy_obscure_from: Some(" vu ".into()),
            ..raw()
        })
        .unwrap();
        assert_eq!(s.obscure_from, ConservationStatus::Vulnerable);
        let var = |r: RawJournal| match journal(r) {
            Err(ConfigError::Invalid { var, .. }) => var,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            var(RawJournal {
                geoprivacy_obscure_from: Some("threatened".into()),
                ..raw()
            }),
            "WILDID_GEOPRIVACY_OBSCURE_FROM"
        );
        assert_eq!(
            var(RawJournal {
                journal_photo_max_bytes: Some(10),
                ..raw()
            }),
            "WILDID_JOURNAL_PHOTO_MAX_BYTES"
        );
        assert_eq!(
            var(RawJournal {
                journal_photo_max_bytes: Some(8 * 1024 * 1024),
                journal_allowance_bytes: Some(2 * 1024 * 1024),
                ..raw()
            }),
            "WILDID_JOURNAL_ALLOWANCE_BYTES"
        );
    }
}

//! The field journal settings (`WILDID_JOURNAL_*`, `WILDID_GEOPRIVACY_OBSCURE_FROM`): how much
//! each person's photos may take, and from which conservation status sightings are obscured on
//! the public map whatever their owner chose.

use wildid_adapters_http::MapTiles;
use wildid_domain::sighting::ConservationStatus;
use wildid_ports::services::journal::JournalSettings;

use super::{ConfigError, bounded_int};

/// The `WILDID_JOURNAL_*` values as read.
pub(super) struct RawJournal {
    pub photo_max_bytes: Option<u64>,
    pub allowance_bytes: Option<u64>,
    pub obscure_from: Option<String>,
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
        raw.photo_max_bytes,
        i64::try_from(defaults.photo_max_bytes).unwrap_or(4 * MIB),
        64 * 1024,
        64 * MIB,
    )?
    .unsigned_abs();
    let allowance_bytes = bounded_int(
        "WILDID_JOURNAL_ALLOWANCE_BYTES",
        raw.allowance_bytes,
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
    let obscure_from = match raw.obscure_from.as_deref().map(str::trim) {
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

/// The sightings maps' background: `WILDID_MAP_TILE_URL` (a template with `{z}`, `{x}` and
/// `{y}` whose origin is one of `WILDID_MAP_TILE_ORIGINS`, so the policy lets its images in)
/// and `WILDID_MAP_ATTRIBUTION`; neither: the built-in outline of the world.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable.
pub(super) fn map_tiles(
    url: Option<&str>,
    attribution: Option<&str>,
    origins: &[String],
) -> Result<MapTiles, ConfigError> {
    let url = url.map(str::trim).unwrap_or_default();
    let attribution = attribution.map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Ok(MapTiles {
            url: String::new(),
            attribution: String::new(),
        });
    }
    let bad = |why: &str| ConfigError::Invalid {
        var: "WILDID_MAP_TILE_URL",
        why: why.to_owned(),
    };
    if !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) {
        return Err(bad("the template must hold {z}, {x} and {y}"));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<')
    {
        return Err(bad("the template must be a URL"));
    }
    let origin = url
        .split_once("://")
        .and_then(|(scheme, rest)| {
            let host = rest.split('/').next()?;
            (matches!(scheme, "http" | "https") && !host.is_empty())
                .then(|| format!("{scheme}://{host}").to_ascii_lowercase())
        })
        .ok_or_else(|| bad("the template must start with https://host/"))?;
    if !origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return Err(bad(&format!(
            "its origin {origin} must also be in WILDID_MAP_TILE_ORIGINS"
        )));
    }
    if attribution.chars().any(char::is_control) || attribution.chars().count() > 200 {
        return Err(ConfigError::Invalid {
            var: "WILDID_MAP_ATTRIBUTION",
            why: "plain text of at most 200 characters".into(),
        });
    }
    Ok(MapTiles {
        url: url.to_owned(),
        attribution: attribution.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawJournal {
        RawJournal {
            photo_max_bytes: None,
            allowance_bytes: None,
            obscure_from: None,
        }
    }

    #[test]
    fn a_tile_template_must_be_on_an_allowed_origin() {
        let origins = vec!["https://tile.example.org".to_owned()];
        let ok = map_tiles(
            Some("https://tile.example.org/{z}/{x}/{y}.png"),
            Some("© OpenStreetMap contributors"),
            &origins,
        )
        .unwrap();
        assert_eq!(ok.url, "https://tile.example.org/{z}/{x}/{y}.png");
        assert_eq!(
            map_tiles(None, None, &origins).unwrap(),
            MapTiles::default()
        );
        for bad in [
            "https://other.example.org/{z}/{x}/{y}.png",
            "https://tile.example.org/{z}/{x}.png",
            "javascript:alert(1)//{z}{x}{y}",
            "https://tile.example.org/{z}/{x}/{y}.png\" onload=\"x",
        ] {
            assert!(
                matches!(
                    map_tiles(Some(bad), None, &origins),
                    Err(ConfigError::Invalid {
                        var: "WILDID_MAP_TILE_URL",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_and_each_bad_value_named() {
        assert_eq!(journal(raw()).unwrap(), JournalSettings::default());
        let s = journal(RawJournal {
            obscure_from: Some(" vu ".into()),
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
                obscure_from: Some("threatened".into()),
                ..raw()
            }),
            "WILDID_GEOPRIVACY_OBSCURE_FROM"
        );
        assert_eq!(
            var(RawJournal {
                photo_max_bytes: Some(10),
                ..raw()
            }),
            "WILDID_JOURNAL_PHOTO_MAX_BYTES"
        );
        assert_eq!(
            var(RawJournal {
                photo_max_bytes: Some(8 * 1024 * 1024),
                allowance_bytes: Some(2 * 1024 * 1024),
                ..raw()
            }),
            "WILDID_JOURNAL_ALLOWANCE_BYTES"
        );
    }
}

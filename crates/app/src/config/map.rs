//! The sightings maps' background: the origins pages may load map tiles from
//! (`WILDID_MAP_TILE_ORIGINS`, named by the CSP's `img-src`), the tile template
//! (`WILDID_MAP_TILE_URL`) and its attribution (`WILDID_MAP_ATTRIBUTION`).

use wildid_adapters_http::MapTiles;

use super::ConfigError;
use super::helpers::{parse_origins, section};

section! {
    /// The map's values as read.
    struct RawMap {
        map_tile_origins: Option<String>,
        map_tile_url: Option<String>,
        map_attribution: Option<String>,
    }
}

/// `WILDID_MAP_TILE_ORIGINS`, validated and normalised (default none).
pub(super) fn origins(raw: &RawMap) -> Result<Vec<String>, ConfigError> {
    parse_origins("WILDID_MAP_TILE_ORIGINS", raw.map_tile_origins.as_deref())
}

/// The tiles of [`RawMap`], whose origin must be one of `origins` (see [`map_tiles`]).
pub(super) fn tiles(raw: &RawMap, origins: &[String]) -> Result<MapTiles, ConfigError> {
    map_tiles(
        raw.map_tile_url.as_deref(),
        raw.map_attribution.as_deref(),
        origins,
    )
}

/// The sightings maps' background: `WILDID_MAP_TILE_URL` (a template with `{z}`, `{x}` and
/// `{y}` whose origin is one of `WILDID_MAP_TILE_ORIGINS`, so the policy lets its images in)
/// and `WILDID_MAP_ATTRIBUTION`; neither: the built-in outline of the world.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable.
fn map_tiles(
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
}

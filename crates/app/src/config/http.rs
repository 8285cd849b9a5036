//! Who the web front believes and answers: the reverse proxies whose forwarded headers count
//! (`WILDID_TRUSTED_PROXIES`), the host names answered (`WILDID_ALLOWED_HOSTS`) and the origins
//! allowed to call the API with credentials (`WILDID_CORS_ALLOWED_ORIGINS`).

use super::ConfigError;
use super::helpers::{csv, parse_origins, section};

section! {
    /// The web front's values as read.
    struct RawHttp {
        trusted_proxies: Option<String>,
        allowed_hosts: Option<String>,
        cors_allowed_origins: Option<String>,
    }
}

/// Default of `WILDID_ALLOWED_HOSTS` (the seed's).
const DEFAULT_ALLOWED_HOSTS: &str = "localhost,127.0.0.1";

/// `WILDID_TRUSTED_PROXIES`: comma-separated IP addresses or CIDR networks (default none).
pub(super) fn trusted_proxies(raw: &RawHttp) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.trusted_proxies
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    var: "WILDID_TRUSTED_PROXIES",
                    why: format!("{p:?} is not an IP address or CIDR network"),
                })
        })
        .collect()
}

/// `WILDID_ALLOWED_HOSTS`, validated as the host allowlist does.
pub(super) fn allowed_hosts(raw: &RawHttp) -> Result<Vec<String>, ConfigError> {
    let given = raw.allowed_hosts.as_deref();
    let list =
        wildid_adapters_http::HostAllowlist::new(csv(given.unwrap_or(DEFAULT_ALLOWED_HOSTS)))
            .map_err(|e| ConfigError::Invalid {
                var: "WILDID_ALLOWED_HOSTS",
                why: e.to_string(),
            })?;
    Ok(list.names().map(str::to_owned).collect())
}

/// `WILDID_CORS_ALLOWED_ORIGINS`, validated and normalised (default none).
pub(super) fn cors_origins(raw: &RawHttp) -> Result<Vec<String>, ConfigError> {
    parse_origins(
        "WILDID_CORS_ALLOWED_ORIGINS",
        raw.cors_allowed_origins.as_deref(),
    )
}

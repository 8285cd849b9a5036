//! The request limits: the adaptive identification limit (`WILDID_RATE_LIMIT_*`: per person,
//! per shared network, per address) and the general limits per route group
//! (`WILDID_LIMIT_*`, as `50/hour, 200/day` or `off`).

use std::collections::BTreeMap;

use wildid_domain::rate_limit::RateLimit;
use wildid_domain::trust::RateLimitPolicy;
use wildid_ports::services::limits::RouteGroup;

use super::ConfigError;
use super::helpers::{bounded_int, csv, invalid, section};

section! {
    /// The limits as read.
    struct RawLimits {
        rate_limit_threshold: Option<u64>,
        rate_limit_window: Option<u64>,
        rate_limit_network_threshold: Option<u64>,
        rate_limit_ip_ceiling: Option<u64>,
        limit_sign_in: Option<String>,
        limit_identify: Option<String>,
        limit_captcha: Option<String>,
        limit_reports: Option<String>,
        limit_default: Option<String>,
    }
}

/// The adaptive identification limit: a threshold per window, a network's threshold (never
/// below it) and an address's ceiling.
pub(super) fn rate_limit(raw: &RawLimits) -> Result<RateLimitPolicy, ConfigError> {
    let threshold = bounded_int(
        "WILDID_RATE_LIMIT_THRESHOLD",
        raw.rate_limit_threshold,
        10,
        1,
        1_000_000,
    )?;
    let window = bounded_int(
        "WILDID_RATE_LIMIT_WINDOW",
        raw.rate_limit_window,
        3600,
        1,
        7 * 24 * 3600,
    )?;
    // Sized for a shared network (see `wildid_domain::trust::SHARED_NETWORK_PEOPLE`): each
    // default follows the values given, so setting one alone never makes the others invalid.
    let people = i64::from(wildid_domain::trust::SHARED_NETWORK_PEOPLE);
    let allowances = i64::from(wildid_domain::trust::CEILING_ALLOWANCES);
    let network_default = match raw.rate_limit_ip_ceiling {
        Some(ceiling) => (threshold * people).min(i64::try_from(ceiling).unwrap_or(i64::MAX)),
        None => threshold * people,
    };
    let network = bounded_int(
        "WILDID_RATE_LIMIT_NETWORK_THRESHOLD",
        raw.rate_limit_network_threshold,
        network_default.max(threshold),
        1,
        100_000_000,
    )?;
    let ceiling = bounded_int(
        "WILDID_RATE_LIMIT_IP_CEILING",
        raw.rate_limit_ip_ceiling,
        (threshold * allowances).max(network),
        1,
        100_000_000,
    )?;
    if network < threshold {
        return invalid(
            "WILDID_RATE_LIMIT_NETWORK_THRESHOLD",
            "it cannot be below WILDID_RATE_LIMIT_THRESHOLD",
        );
    }
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    RateLimitPolicy::new(
        count(threshold),
        chrono::TimeDelta::seconds(window),
        count(network),
        count(ceiling),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_RATE_LIMIT_IP_CEILING",
        why: e.to_string(),
    })
}

/// The general request limits of the route groups given (the others keep their defaults).
pub(super) fn request_limits(
    raw: &RawLimits,
) -> Result<BTreeMap<RouteGroup, Vec<RateLimit>>, ConfigError> {
    let mut limits = BTreeMap::new();
    for (group, var, given) in [
        (
            RouteGroup::SignIn,
            "WILDID_LIMIT_SIGN_IN",
            &raw.limit_sign_in,
        ),
        (
            RouteGroup::Identify,
            "WILDID_LIMIT_IDENTIFY",
            &raw.limit_identify,
        ),
        (
            RouteGroup::Captcha,
            "WILDID_LIMIT_CAPTCHA",
            &raw.limit_captcha,
        ),
        (
            RouteGroup::Reports,
            "WILDID_LIMIT_REPORTS",
            &raw.limit_reports,
        ),
        (
            RouteGroup::Default,
            "WILDID_LIMIT_DEFAULT",
            &raw.limit_default,
        ),
    ] {
        if let Some(value) = given {
            limits.insert(group, parse_windows(var, value)?);
        }
    }
    Ok(limits)
}

/// `N/unit` windows separated by commas (`50/hour, 200/day`), or `off`.
fn parse_windows(var: &'static str, raw: &str) -> Result<Vec<RateLimit>, ConfigError> {
    let bad = |why: String| ConfigError::Invalid { var, why };
    if raw.trim() == "off" {
        return Ok(Vec::new());
    }
    csv(raw)
        .map(|window| {
            let (count, unit) = window
                .split_once('/')
                .ok_or_else(|| bad(format!("{window:?}: expected N/unit, as in 50/hour")))?;
            let count: u32 = count
                .trim()
                .parse()
                .map_err(|_| bad(format!("{window:?}: the count is not a number")))?;
            let seconds = match unit.trim() {
                "second" => 1,
                "minute" => 60,
                "hour" => 3600,
                "day" => 86_400,
                _ => {
                    return Err(bad(format!(
                        "{window:?}: the unit must be second, minute, hour or day"
                    )));
                }
            };
            RateLimit::new(count, chrono::TimeDelta::seconds(seconds))
                .map_err(|e| bad(format!("{window:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|windows| {
            if windows.is_empty() {
                Err(bad(
                    "expected N/unit windows (as in 50/hour,200/day) or off".into(),
                ))
            } else {
                Ok(windows)
            }
        })
}

//! The session settings: how long a session lives idle (`WILDID_SESSION_IDLE_MINUTES`) and at
//! most (`WILDID_SESSION_LIFETIME_HOURS`), and how many anonymous sessions a client network may
//! start per hour (`WILDID_ANONYMOUS_SESSIONS_PER_HOUR`).

use wildid_domain::rate_limit::RateLimit;
use wildid_domain::session::SessionPolicy;

use super::ConfigError;
use super::helpers::{bounded_int, section};

section! {
    /// The session values as read.
    struct RawSessions {
        session_idle_minutes: Option<u64>,
        session_lifetime_hours: Option<u64>,
        anonymous_sessions_per_hour: Option<u64>,
    }
}

/// Idle timeout 1 minute to a day (default 30 minutes), lifetime 1 hour to 90 days (default 7
/// days).
pub(super) fn policy(raw: &RawSessions) -> Result<SessionPolicy, ConfigError> {
    let idle = bounded_int(
        "WILDID_SESSION_IDLE_MINUTES",
        raw.session_idle_minutes,
        30,
        1,
        24 * 60,
    )?;
    let lifetime = bounded_int(
        "WILDID_SESSION_LIFETIME_HOURS",
        raw.session_lifetime_hours,
        7 * 24,
        1,
        90 * 24,
    )? * 60;
    SessionPolicy::new(
        chrono::TimeDelta::minutes(idle),
        chrono::TimeDelta::minutes(lifetime),
        chrono::TimeDelta::hours(1),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_SESSION_IDLE_MINUTES",
        why: e.to_string(),
    })
}

/// New anonymous sessions per client network and hour (default 300).
pub(super) fn anonymous_per_hour(raw: &RawSessions) -> Result<RateLimit, ConfigError> {
    RateLimit::new(
        u32::try_from(bounded_int(
            "WILDID_ANONYMOUS_SESSIONS_PER_HOUR",
            raw.anonymous_sessions_per_hour,
            300,
            1,
            1_000_000_000,
        )?)
        .unwrap_or(u32::MAX),
        chrono::TimeDelta::hours(1),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_ANONYMOUS_SESSIONS_PER_HOUR",
        why: e.to_string(),
    })
}

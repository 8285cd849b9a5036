//! The account settings: password hashing (`WILDID_ARGON2_*`), lockout (`WILDID_LOCKOUT_*`),
//! link lifetimes (`WILDID_MAGIC_LINK_MINUTES`, `WILDID_VERIFICATION_LINK_HOURS`), sign-in and
//! mail throttling, and the roles that must enrol a second factor
//! (`WILDID_TOTP_REQUIRED_ROLES`).

use wildid_domain::lockout::LockoutPolicy;
use wildid_domain::rate_limit::RateLimit;
use wildid_domain::role::Role;
use wildid_domain::token::TokenPolicy;
use wildid_ports::services::accounts::{AccountPolicy, nonzero};

use super::ConfigError;
use super::helpers::{bounded_int, section};

section! {
    /// The account values as read.
    struct RawAccounts {
        argon2_memory_kib: Option<u64>,
        argon2_iterations: Option<u64>,
        argon2_parallelism: Option<u64>,
        lockout_attempts: Option<u64>,
        lockout_minutes: Option<u64>,
        magic_link_minutes: Option<u64>,
        verification_link_hours: Option<u64>,
        login_attempts_per_minute: Option<u64>,
        mail_per_address_per_hour: Option<u64>,
        mail_per_ip_per_hour: Option<u64>,
        totp_required_roles: Option<String>,
    }
}

/// [`bounded_int`] as a `u32`.
fn bounded(
    var: &'static str,
    value: Option<u64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<u32, ConfigError> {
    bounded_int(var, value, default, min, max).map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

/// argon2id memory (KiB), iterations and lanes; each default is the least allowed.
pub(super) fn argon2(raw: &RawAccounts) -> Result<(u32, u32, u32), ConfigError> {
    Ok((
        bounded(
            "WILDID_ARGON2_MEMORY_KIB",
            raw.argon2_memory_kib,
            19_456,
            19_456,
            4 * 1024 * 1024,
        )?,
        bounded("WILDID_ARGON2_ITERATIONS", raw.argon2_iterations, 2, 2, 100)?,
        bounded(
            "WILDID_ARGON2_PARALLELISM",
            raw.argon2_parallelism,
            1,
            1,
            64,
        )?,
    ))
}

/// Lockout, link lifetimes and throttling of sign-in attempts and mail.
pub(super) fn policy(raw: &RawAccounts) -> Result<AccountPolicy, ConfigError> {
    let lockout = LockoutPolicy::new(
        bounded("WILDID_LOCKOUT_ATTEMPTS", raw.lockout_attempts, 5, 1, 100)?,
        chrono::TimeDelta::minutes(bounded_int(
            "WILDID_LOCKOUT_MINUTES",
            raw.lockout_minutes,
            30,
            1,
            24 * 60,
        )?),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_LOCKOUT_ATTEMPTS",
        why: e.to_string(),
    })?;
    let tokens = TokenPolicy::new(
        chrono::TimeDelta::minutes(bounded_int(
            "WILDID_MAGIC_LINK_MINUTES",
            raw.magic_link_minutes,
            15,
            1,
            24 * 60,
        )?),
        chrono::TimeDelta::hours(bounded_int(
            "WILDID_VERIFICATION_LINK_HOURS",
            raw.verification_link_hours,
            24,
            1,
            7 * 24,
        )?),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_MAGIC_LINK_MINUTES",
        why: e.to_string(),
    })?;
    let per = |var, value, default, seconds: u32| -> Result<RateLimit, ConfigError> {
        let max = bounded(var, value, default, 1, 1_000_000)?;
        Ok(RateLimit::per_seconds(nonzero(max), nonzero(seconds)))
    };
    Ok(AccountPolicy {
        lockout,
        tokens,
        login_per_ip: per(
            "WILDID_LOGIN_ATTEMPTS_PER_MINUTE",
            raw.login_attempts_per_minute,
            5,
            60,
        )?,
        mail_per_address: per(
            "WILDID_MAIL_PER_ADDRESS_PER_HOUR",
            raw.mail_per_address_per_hour,
            5,
            3600,
        )?,
        mail_per_ip: per(
            "WILDID_MAIL_PER_IP_PER_HOUR",
            raw.mail_per_ip_per_hour,
            20,
            3600,
        )?,
        ..AccountPolicy::default()
    })
}

/// The roles that must enrol a second factor: worker and admin by default, `none` for none.
pub(super) fn totp_required_roles(raw: &RawAccounts) -> Result<Vec<Role>, ConfigError> {
    match raw.totp_required_roles.as_deref().map(str::trim) {
        None => Ok(vec![Role::Worker, Role::Admin]),
        Some("" | "none") => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(|r| r.trim().parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ConfigError::Invalid {
                var: "WILDID_TOTP_REQUIRED_ROLES",
                why: "expected roles from worker, admin, visitor, or none".into(),
            }),
    }
}

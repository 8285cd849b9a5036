//! The CAPTCHA settings: which kind is asked (`WILDID_CAPTCHA_KIND`), how long a challenge
//! lives (`WILDID_CAPTCHA_TTL_SECONDS`) and how hard the proof of work is
//! (`WILDID_CAPTCHA_POW_MAX_NUMBER`).

use wildid_domain::captcha::{CaptchaKind, CaptchaPolicy};

use super::ConfigError;
use super::helpers::{bounded_int, invalid, section};

section! {
    /// The CAPTCHA values as read.
    struct RawCaptcha {
        captcha_kind: Option<String>,
        captcha_ttl_seconds: Option<u64>,
        captcha_pow_max_number: Option<u64>,
    }
}

/// `proof_of_work` (the default), `arithmetic`, or `off` (`None`).
pub(super) fn kind(raw: &RawCaptcha) -> Result<Option<CaptchaKind>, ConfigError> {
    match raw.captcha_kind.as_deref().map(str::trim) {
        None | Some("" | "proof_of_work") => Ok(Some(CaptchaKind::ProofOfWork)),
        Some("arithmetic") => Ok(Some(CaptchaKind::Arithmetic)),
        Some("off") => Ok(None),
        Some(_) => invalid(
            "WILDID_CAPTCHA_KIND",
            "expected proof_of_work, arithmetic or off",
        ),
    }
}

/// A challenge lives 10 seconds to an hour (default 5 minutes) and allows 3 attempts.
pub(super) fn policy(raw: &RawCaptcha) -> Result<CaptchaPolicy, ConfigError> {
    let ttl = bounded_int(
        "WILDID_CAPTCHA_TTL_SECONDS",
        raw.captcha_ttl_seconds,
        300,
        10,
        3600,
    )?;
    CaptchaPolicy::new(chrono::TimeDelta::seconds(ttl), 3).map_err(|e| ConfigError::Invalid {
        var: "WILDID_CAPTCHA_TTL_SECONDS",
        why: e.to_string(),
    })
}

/// The proof of work's difficulty: the upper bound of its secret number.
pub(super) fn pow_max_number(raw: &RawCaptcha) -> Result<u64, ConfigError> {
    Ok(bounded_int(
        "WILDID_CAPTCHA_POW_MAX_NUMBER",
        raw.captcha_pow_max_number,
        100_000,
        1_000,
        i64::try_from(wildid_domain::pow::MAX_DIFFICULTY).unwrap_or(i64::MAX),
    )?
    .unsigned_abs())
}

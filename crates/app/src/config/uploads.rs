//! The upload settings: the largest photo accepted (`WILDID_MAX_UPLOAD_BYTES`) and the clamd
//! daemon every upload is scanned with (`WILDID_CLAMD`, `WILDID_CLAMD_TIMEOUT_SECONDS`).

use std::time::Duration;

use wildid_adapters_ai::ClamdAddress;

use super::ConfigError;
use super::helpers::{bounded_int, section};

section! {
    /// The upload values as read.
    struct RawUploads {
        max_upload_bytes: Option<u64>,
        clamd: Option<String>,
        clamd_timeout_seconds: Option<u64>,
    }
}

/// 64 KiB to 64 MiB, default the HTTP adapter's.
pub(super) fn max_bytes(raw: &RawUploads) -> Result<usize, ConfigError> {
    Ok(usize::try_from(bounded_int(
        "WILDID_MAX_UPLOAD_BYTES",
        raw.max_upload_bytes,
        i64::try_from(wildid_adapters_http::DEFAULT_UPLOAD_LIMIT).unwrap_or(i64::MAX),
        64 * 1024,
        64 * 1024 * 1024,
    )?)
    .unwrap_or(wildid_adapters_http::DEFAULT_UPLOAD_LIMIT))
}

/// The clamd address and how long a verdict may take (1 to 120 seconds, default 10); `None`
/// (the default): no scan.
pub(super) fn clamd(raw: &RawUploads) -> Result<Option<(ClamdAddress, Duration)>, ConfigError> {
    let Some(address) = raw
        .clamd
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let address = ClamdAddress::parse(address).map_err(|why| ConfigError::Invalid {
        var: "WILDID_CLAMD",
        why,
    })?;
    let timeout = bounded_int(
        "WILDID_CLAMD_TIMEOUT_SECONDS",
        raw.clamd_timeout_seconds,
        10,
        1,
        120,
    )?;
    Ok(Some((address, Duration::from_secs(timeout.unsigned_abs()))))
}

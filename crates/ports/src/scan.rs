//! Malware scanning of uploads.

use async_trait::async_trait;

/// The scanner's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Nothing found.
    Clean,
    /// Malware found; the payload names the signature.
    Infected(String),
}

/// The scanner could not give a verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malware scanner unavailable: {0}")]
pub struct ScanUnavailable(pub String);

/// Scans bytes for malware (ClamAV or similar).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MalwareScanner: Send + Sync {
    /// Scans `bytes`.
    ///
    /// # Errors
    /// [`ScanUnavailable`] when no verdict could be obtained; callers MUST then refuse the
    /// upload rather than let it through unscanned.
    async fn scan(&self, bytes: &[u8]) -> Result<ScanVerdict, ScanUnavailable>;
}

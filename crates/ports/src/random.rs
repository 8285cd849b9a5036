//! Randomness, as a port: tokens, ids and nonces come from a [`SecureRandom`].

/// The operating system's generator could not deliver bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no secure random bytes available")]
pub struct RandomUnavailable;

/// A cryptographically secure random source.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait SecureRandom: Send + Sync {
    /// Fills `buf` entirely with bytes from a CSPRNG.
    ///
    /// # Errors
    /// [`RandomUnavailable`] when the source fails; implementations MUST NOT fall back to a
    /// weaker source.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable>;
}

/// `N` random bytes from `rng`.
///
/// # Errors
/// [`RandomUnavailable`] when the source fails.
pub fn random_array<const N: usize>(rng: &dyn SecureRandom) -> Result<[u8; N], RandomUnavailable> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

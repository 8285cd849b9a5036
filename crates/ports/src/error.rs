//! The error every repository port returns. Adapters translate their own errors into it, so no
//! database type ever crosses a port.

/// A repository operation failed.
///
/// The `String` payloads are diagnostic text for the server log (never for clients): they
/// must not contain personal data or secrets, which adapters guarantee by never formatting
/// bound values into them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The entity asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (same id, same email lookup...).
    #[error("duplicate")]
    Duplicate,
    /// A concurrent change won; the caller may reload and retry.
    #[error("conflicting concurrent change")]
    Conflict,
    /// The store cannot be reached now (connection refused, pool exhausted, timeout) or has no
    /// room to write (its disk is full: nothing was written, reads go on).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored row does not form a valid domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else.
    #[error("storage error: {0}")]
    Other(String),
}

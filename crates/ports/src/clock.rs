//! Time, as a port: the core asks a [`Clock`] and tests pass a fixed one.

use wildid_domain::Timestamp;

/// The current time.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC. Must never go backwards by more than the host clock does.
    fn now(&self) -> Timestamp;
}

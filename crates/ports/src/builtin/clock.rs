//! The host's clock as the [`Clock`] port ([`SystemClock`]); tests use fixed clocks instead.

use wildid_domain::Timestamp;

use crate::clock::Clock;

/// The host's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

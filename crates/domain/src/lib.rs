#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod audit;
pub mod captcha;
pub mod email;
pub mod identification;
pub mod ids;
pub mod lockout;
pub mod mail;
pub mod password;
pub mod pow;
pub mod rate_limit;
pub mod retention;
pub mod role;
pub mod secret;
pub mod session;
pub mod sighting;
pub mod text;
pub mod token;
pub mod totp;
pub mod trust;
pub mod user;
pub mod visits;

/// A point in time, always UTC. The domain never reads a clock: callers pass `now` in.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A span of time (re-exported so embedders need no direct chrono dependency).
pub type Duration = chrono::TimeDelta;

/// A policy was configured with values that make no sense (zero window, zero attempts...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct InvalidPolicy(pub &'static str);

//! Use cases: the application services that orchestrate ports. Each returns its own error
//! enum; the HTTP adapter translates those to responses in one place.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod captcha;
pub mod email_change;
pub mod email_rekey;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod identify;
pub mod journal;
pub mod limits;
pub mod mail;
pub mod profile;
pub mod readiness;
pub mod reencryption;
pub mod sessions;
pub mod sign_ins;
pub mod trust;
pub mod visits;

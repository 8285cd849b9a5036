//! The tamper-evident audit log.
//!
//! Every entry carries the SHA-256 of the entry before it, so the log is a hash chain:
//! editing an entry changes its digest, deleting one leaves a gap in the sequence and a link
//! that points nowhere. [`ChainVerifier`] walks a log and reports the first such break.
//! Entries hold no secrets: details are short, named, cleaned values chosen by the caller.
//!
//! Its files, by what they hold:
//!
//! - `actor`: who acted ([`Actor`]);
//! - `action`: what was done ([`Action`], [`AuditAction`]);
//! - `record`: what a caller records ([`AuditRecord`], [`AuditDetails`]);
//! - `origin`: where it came from ([`Origin`]: the request and the client's [`ClientNetwork`]);
//! - `chain`: the stored, linked entries and their verification ([`AuditEntry`],
//!   [`ChainVerifier`]).

mod action;
mod actor;
mod chain;
mod origin;
mod record;

pub use action::{Action, AuditAction, InvalidAction};
pub use actor::{Actor, InvalidActor};
pub use chain::{AuditEntry, ChainBreak, ChainHash, ChainProblem, ChainSummary, ChainVerifier};
pub use origin::{ClientNetwork, InvalidNetwork, Origin};
pub use record::{AuditDetails, AuditRecord, MAX_DETAIL_CHARS};

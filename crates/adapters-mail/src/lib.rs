//! WildID's mail adapters, implementing the `Mailer` port.
//!
//! Messages are composed once ([`compose`]) as RFC 5322 with lettre, which encodes headers
//! safely; recipients are validated `Email`s and subjects cannot hold line breaks, so no header
//! can be injected. Transports:
//!
//! - [`FileOutbox`], the embedded default: one `.eml` file per message in a directory, written
//!   atomically (a temporary file, fsync, rename), so a reader never sees half a message.

mod compose;
mod outbox;

pub use compose::{InvalidSender, Sender, compose};
pub use outbox::FileOutbox;

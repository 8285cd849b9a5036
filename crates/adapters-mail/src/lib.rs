//! WildID's mail adapters, implementing the `Mailer` port.
//!
//! Messages are composed once ([`compose`]) as RFC 5322 with lettre, which encodes headers
//! safely; recipients are validated `Email`s and subjects cannot hold line breaks, so no header
//! can be injected. Transports:
//!
//! - [`FileOutbox`], the embedded default: one `.eml` file per message in a directory, written
//!   atomically (a temporary file, fsync, rename), so a reader never sees half a message.
//! - [`SmtpMailer`]: an SMTP server over STARTTLS or implicit TLS (plain SMTP only to a
//!   loopback relay), optional credentials, permanent and temporary failures told apart.

mod compose;
mod outbox;
mod smtp;

pub use compose::{InvalidSender, Sender, compose};
pub use outbox::FileOutbox;
pub use smtp::{SmtpMailer, SmtpSecurity, SmtpSettings, SmtpSettingsError};

//! Outgoing mail as the core composes it. Adapters turn it into RFC 5322 messages.

use crate::email::Email;

/// Longest subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// A subject line: no line breaks or other control characters, so no header injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSubject(String);

/// The subject is empty, too long or contains control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a mail subject must be 1 to 200 characters without line breaks")]
pub struct InvalidSubject;

impl MailSubject {
    /// Validates a subject.
    ///
    /// # Errors
    /// [`InvalidSubject`] for empty, overlong or multi-line subjects.
    pub fn new(raw: &str) -> Result<Self, InvalidSubject> {
        let count = raw.chars().count();
        if raw.trim().is_empty() || count > MAX_SUBJECT_CHARS || raw.chars().any(char::is_control) {
            return Err(InvalidSubject);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient (validated, so it cannot carry extra headers).
    pub to: Email,
    /// Subject line.
    pub subject: MailSubject,
    /// Plain-text body.
    pub text_body: String,
    /// Optional HTML alternative.
    pub html_body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_cannot_inject_headers() {
        assert!(MailSubject::new("Your sign-in link").is_ok());
        assert_eq!(
            MailSubject::new("Hi\r\nBcc: evil@example.org"),
            Err(InvalidSubject)
        );
        assert_eq!(MailSubject::new(" "), Err(InvalidSubject));
        assert_eq!(MailSubject::new(&"x".repeat(201)), Err(InvalidSubject));
    }
}

//! Email addresses: normalised once, validated strictly, never printed in full.
//!
//! WildID accepts the common ASCII subset of RFC 5321 addresses: a dot-atom local part and a
//! DNS host name. Surrounding white space and letter case are normalised away, so `" Ann@X.org "`
//! and `"ann@x.org"` are the same address (and the same account). Anything that could be a
//! look-alike trick (full-width or accented characters, a trailing dot on the domain, control
//! characters) is refused with an error that says what is wrong, never silently rewritten.

use std::fmt;
use std::str::FromStr;

/// Longest address accepted (RFC 5321 path limit minus the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// Why a text is not an acceptable email address. Messages are written for end users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but white space was given.
    #[error("enter an email address")]
    Empty,
    /// Longer than [`MAX_EMAIL_LEN`].
    #[error("the email address is longer than {MAX_EMAIL_LEN} characters")]
    TooLong,
    /// Contains a character outside ASCII (full-width, accented, emoji...).
    #[error("the email address may only contain plain ASCII letters, digits and punctuation")]
    NotAscii,
    /// No `@`, or more than one.
    #[error("the email address needs exactly one @ between name and domain")]
    At,
    /// The part before `@` is empty, too long, or uses characters or dots wrongly.
    #[error("the part before @ is not valid: {0}")]
    LocalPart(&'static str),
    /// The part after `@` is not a valid host name.
    #[error("the domain after @ is not valid: {0}")]
    Domain(&'static str),
}

/// A syntactically valid, normalised (trimmed, lower-case) email address.
///
/// `Debug` does not show the address (it is personal data); there is no `Display`.
/// Use [`Email::as_str`] where the address is really needed (sending mail).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Validates and normalises `raw`.
    ///
    /// # Errors
    /// [`EmailError`] naming the first problem found.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if !trimmed.is_ascii() {
            return Err(EmailError::NotAscii);
        }
        if trimmed.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_ascii_lowercase();
        let mut parts = normalised.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::At);
        };
        check_local(local)?;
        check_domain(domain)?;
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }

    /// The address with its local part hidden but for the first character
    /// (`s***@example.org`): enough for its owner to recognise it in a notice sent elsewhere,
    /// too little to give it away.
    pub fn masked(&self) -> String {
        let first: String = self.local_part().chars().take(1).collect();
        format!("{first}***@{}", self.domain())
    }
}

fn check_local(local: &str) -> Result<(), EmailError> {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    if local.is_empty() {
        return Err(EmailError::LocalPart("it is empty"));
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPart("it is longer than 64 characters"));
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
    {
        return Err(EmailError::LocalPart(
            "it contains a character that is not allowed",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(EmailError::LocalPart("dots may not start, end or repeat"));
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    if domain.is_empty() {
        return Err(EmailError::Domain("it is empty"));
    }
    if domain.ends_with('.') {
        return Err(EmailError::Domain("it must not end with a dot"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(EmailError::Domain(
            "it needs at least one dot, as in example.org",
        ));
    }
    for label in &labels {
        if label.is_empty() {
            return Err(EmailError::Domain("it has an empty part between dots"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(EmailError::Domain(
                "a part between dots is longer than 63 characters",
            ));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(EmailError::Domain(
                "only letters, digits, hyphens and dots are allowed",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::Domain(
                "a part may not start or end with a hyphen",
            ));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(EmailError::Domain("the last part must not be a number"));
    }
    Ok(())
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masking_keeps_one_character_and_the_domain() {
        let e = Email::parse("Shy.Pangolin@Example.org").unwrap();
        assert_eq!(e.masked(), "s***@example.org");
        assert!(!e.masked().contains("pangolin"));
    }

    #[test]
    fn normalises_case_and_space() {
        let a = Email::parse("  Ann.Lee+birds@Example.ORG \t").unwrap();
        assert_eq!(a.as_str(), "ann.lee+birds@example.org");
        assert_eq!(a, Email::parse("ann.lee+birds@example.org").unwrap());
        assert_eq!(a.local_part(), "ann.lee+birds");
        assert_eq!(a.domain(), "example.org");
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("no-at-sign", EmailError::At),
            ("a@b@c.org", EmailError::At),
            ("@example.org", EmailError::LocalPart("it is empty")),
            (
                ".ann@example.org",
                EmailError::LocalPart("dots may not start, end or repeat"),
            ),
            (
                "an..n@example.org",
                EmailError::LocalPart("dots may not start, end or repeat"),
            ),
            (
                "ann@example.org.",
                EmailError::Domain("it must not end with a dot"),
            ),
            (
                "ann@localhost",
                EmailError::Domain("it needs at least one dot, as in example.org"),
            ),
            (
                "ann@-x.org",
                EmailError::Domain("a part may not start or end with a hyphen"),
            ),
            (
                "ann@1.2.3.4",
                EmailError::Domain("the last part must not be a number"),
            ),
            (
                "ann@exa mple.org",
                EmailError::Domain("only letters, digits, hyphens and dots are allowed"),
            ),
            (
                "ann\r\nBcc: x@y.org",
                EmailError::LocalPart("it contains a character that is not allowed"),
            ),
            ("ａｎｎ@example.org", EmailError::NotAscii),
            ("ann@exämple.org", EmailError::NotAscii),
        ];
        for (raw, want) in cases {
            assert_eq!(Email::parse(raw), Err(want), "{raw:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert!(matches!(
            Email::parse(&long_local),
            Err(EmailError::LocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a\u{7}b@example.org"),
            Err(EmailError::LocalPart(_))
        ));
    }

    #[test]
    fn debug_hides_the_address() {
        let email = Email::parse("secret.person@example.org").unwrap();
        assert!(!format!("{email:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(raw in "[ A-Za-z0-9.+_-]{1,20}@[A-Za-z0-9-]{1,10}\\.[A-Za-z]{2,5} ?") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                prop_assert!(!email.as_str().chars().any(|c| c.is_ascii_uppercase() || c.is_whitespace()));
            }
        }

        #[test]
        fn never_accepts_line_breaks(a in "[a-z]{1,5}", b in "[\r\n]", c in "[a-z]{1,5}") {
            let in_local = format!("{a}{b}{c}@example.org");
            let in_domain = format!("{a}@ex{b}{c}.org");
            prop_assert!(Email::parse(&in_local).is_err());
            prop_assert!(Email::parse(&in_domain).is_err());
        }
    }
}

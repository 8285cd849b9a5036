//! What a caller records in the audit log: [`AuditRecord`] with its cleaned, named
//! [`AuditDetails`].

use std::collections::BTreeMap;

use super::{Actor, AuditAction, ClientNetwork, Origin};
use crate::Timestamp;
use crate::ids::RequestId;

/// Longest detail value kept; longer values are cut.
pub const MAX_DETAIL_CHARS: usize = 256;

/// Named details of an entry, sorted by name. Values are cleaned on insertion: control
/// characters become `\u{FFFD}` (no forged lines in any log viewer) and long values are cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditDetails(pub(super) BTreeMap<String, String>);

impl AuditDetails {
    /// No details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a detail. Names that break the rule of [`AuditAction`] names are ignored in
    /// release builds and rejected by a debug assertion, because they are programmer errors.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl AsRef<str>) -> Self {
        let valid = AuditAction::new(name).is_ok();
        debug_assert!(valid, "invalid audit detail name {name}");
        if valid {
            self.0.insert(name.to_owned(), clean_value(value.as_ref()));
        }
        self
    }

    /// Rebuilds stored details (values are cleaned again).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k, clean_value(&v)))
                .collect(),
        )
    }

    /// The details, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn clean_value(raw: &str) -> String {
    raw.chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| if forges_lines(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// Characters that could forge or disguise a log line: controls (CR, LF, escape...), the
/// Unicode line and paragraph separators, and the bidirectional overrides and isolates that
/// make text read differently from what it is.
fn forges_lines(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// What a caller records; the log adds the sequence number and chain digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When it happened (kept to the microsecond, the precision every backend stores).
    pub at: Timestamp,
    /// Who acted: the server, an anonymous client or a signed-in user.
    pub actor: Actor,
    /// What was done, as a dotted name (`auth.login.failed`).
    pub action: AuditAction,
    /// To what (a user id, a booking id...), never an email address or a secret.
    pub target: Option<String>,
    /// Named details.
    pub details: AuditDetails,
    /// The HTTP request it came from.
    pub request_id: Option<RequestId>,
    /// The coarse network of the client that made that request, when known.
    pub client: Option<ClientNetwork>,
}

impl AuditRecord {
    /// A record at `at` (truncated to microseconds) with no target, details or request.
    pub fn new(at: Timestamp, actor: Actor, action: impl Into<AuditAction>) -> Self {
        let action = action.into();
        let micros = at.timestamp_micros();
        let at = chrono::DateTime::from_timestamp_micros(micros).unwrap_or(at);
        Self {
            at,
            actor,
            action,
            target: None,
            details: AuditDetails::new(),
            request_id: None,
            client: None,
        }
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(clean_value(&target.into()));
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn details(mut self, details: AuditDetails) -> Self {
        self.details = details;
        self
    }

    /// Sets the request id (the client's network unknown).
    #[must_use]
    pub fn request(mut self, request_id: Option<RequestId>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Sets where it came from: the request and the client's network (`None`: the server
    /// itself).
    #[must_use]
    pub fn origin(mut self, origin: Option<Origin>) -> Self {
        let (request, client) = origin.map_or((None, None), |o| (Some(o.request), o.client));
        self.request_id = request;
        self.client = client;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_cleaned() {
        let d = AuditDetails::new().with("reason", "bad\r\nINFO forged line");
        assert_eq!(
            d.iter().next().unwrap().1,
            "bad\u{FFFD}\u{FFFD}INFO forged line"
        );
        let d = AuditDetails::new().with("note", "a\u{2028}b\u{202E}c\u{2066}d\u{1b}[31m");
        assert_eq!(
            d.iter().next().unwrap().1,
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}[31m"
        );
        assert_eq!(
            AuditDetails::new()
                .with("ok", "Ann é 🦦")
                .iter()
                .next()
                .unwrap()
                .1,
            "Ann é 🦦",
            "ordinary text is kept"
        );
    }

    #[test]
    fn the_target_is_cleaned_too() {
        let record = AuditRecord::new(
            chrono::DateTime::UNIX_EPOCH,
            Actor::System,
            crate::audit::Action::UserRegistered,
        )
        .target("id\nINFO forged\u{2029}");
        assert_eq!(
            record.target.as_deref(),
            Some("id\u{FFFD}INFO forged\u{FFFD}")
        );
    }
}

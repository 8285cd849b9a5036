//! `POST /api/csp-report`: browsers report Content-Security-Policy violations here (both the
//! legacy `report-uri` format and the Reporting API). A violation on our own pages is either a
//! bug or an injection attempt, so each one is logged as a security event. URLs are logged
//! without their query string (it may carry a token) and every value is length-limited.

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::error::AppError;

/// Largest report accepted.
pub(crate) const MAX_REPORT_BYTES: usize = 16 * 1024;
const ACCEPTED: &[&str] = &[
    "application/csp-report",
    "application/reports+json",
    "application/json",
];

/// Receives Content-Security-Policy violation reports from browsers.
#[utoipa::path(post, path = "/api/csp-report", tag = "security",
    request_body(content = String, description = "A CSP report (application/csp-report or application/reports+json), at most 16 KiB", content_type = "application/csp-report"),
    responses(
        (status = 204, description = "Logged"),
        (status = 400, body = crate::api_types::ErrorBody, description = "unsupported_media_type or invalid_report"),
        (status = 413, body = crate::api_types::ErrorBody),
    ))]
pub(crate) async fn receive(headers: HeaderMap, body: Bytes) -> Result<StatusCode, AppError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !ACCEPTED.contains(&essence.as_str()) {
        return Err(AppError::csp_report_media_type());
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|_| AppError::csp_report_not_json())?;
    let reports: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().filter_map(|r| r.get("body")).collect(),
        Value::Object(map) => map.get("csp-report").into_iter().collect(),
        _ => Vec::new(),
    };
    if reports.is_empty() {
        return Err(AppError::csp_report_without_violation());
    }
    for report in reports.iter().take(10) {
        let field = |names: &[&str]| -> String {
            names
                .iter()
                .find_map(|n| report.get(*n).and_then(Value::as_str))
                .map(clean)
                .unwrap_or_default()
        };
        tracing::warn!(
            security_event = "csp_violation",
            directive = %field(&["effectiveDirective", "effective-directive", "violated-directive"]),
            blocked = %field(&["blockedURL", "blocked-uri"]),
            document = %field(&["documentURL", "document-uri"]),
            source = %field(&["sourceFile", "source-file"]),
            "csp violation reported"
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Drops the query and fragment of URLs (tokens live there), every character that could forge
/// or disguise a log line (control characters such as CR, LF, ESC and NEL; the line and
/// paragraph separators; bidirectional and zero-width format characters), and caps the length
/// at 200 characters. Reports come from anyone.
fn clean(raw: &str) -> String {
    let without_query = raw.split(['?', '#']).next().unwrap_or_default();
    without_query
        .chars()
        .filter(|&c| !forges_log_lines(c))
        .take(200)
        .collect()
}

fn forges_log_lines(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_query() {
        assert_eq!(
            clean("https://x.org/auth/magic?token=secret#frag"),
            "https://x.org/auth/magic"
        );
        assert_eq!(clean("inline"), "inline");
    }

    #[test]
    fn nothing_that_could_forge_or_disguise_a_log_line_survives() {
        let hostile = "https://x.org/a\r\n2026-12-05T00:00:00Z INFO admin signed in\u{1b}[2J\u{0}\u{7f}\u{85}\u{2028}b\u{2029}\u{202e}gnp.exe\u{200b}\u{2066}\u{feff}";
        let cleaned = clean(hostile);
        assert_eq!(
            cleaned,
            "https://x.org/a2026-12-05T00:00:00Z INFO admin signed in[2Jbgnp.exe"
        );
        assert!(!cleaned.chars().any(forges_log_lines));
        // Long values are cut, on a character boundary.
        assert_eq!(clean(&"é".repeat(500)).chars().count(), 200);
    }
}

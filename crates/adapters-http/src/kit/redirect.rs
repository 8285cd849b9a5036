//! Where a person is sent after a form: only a local path of this site, never elsewhere (no
//! open redirect).

/// Only local paths are followed after sign-in (no open redirect).
pub(crate) fn safe_next(raw: &str) -> String {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 512
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    if ok { raw.to_owned() } else { "/".to_owned() }
}

/// `path` percent-encoded for a query value (unreserved characters and `/` kept).
pub(crate) fn percent_encoded(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/history?page=2"), "/history?page=2");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn a_path_is_percent_encoded_for_a_query_value() {
        assert_eq!(super::percent_encoded("/a b?c"), "/a%20b%3Fc");
    }
}

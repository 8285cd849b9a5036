//! Where a person is sent after a form: only a local path of this site, never elsewhere (no
//! open redirect).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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
    /// Everything but the unreserved characters and `/` is encoded.
    const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(path, ENCODED).to_string()
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
        assert_eq!(super::percent_encoded("/é&x=~"), "/%C3%A9%26x%3D~");
    }
}

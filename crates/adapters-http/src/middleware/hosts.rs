//! The `Host` allowlist (seed §13): a request for any other host is refused with 400 before a
//! handler, a session or a cookie is touched, so a forged `Host` can never reach code that might
//! echo it (redirects, links) and DNS-rebinding pages cannot talk to the server.
//!
//! Names are compared without their port, in lower case; IPv6 literals keep their brackets
//! (`[::1]`). A request without a `Host` header (HTTP/1.0) is refused too.

use std::collections::BTreeSet;

use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::http::uri::Authority;

/// A host name that cannot be allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a host name (expected e.g. `wildid.example.org`, `127.0.0.1` or `[::1]`)")]
pub struct InvalidHost(pub String);

/// The hosts this server answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAllowlist {
    hosts: BTreeSet<String>,
}

impl HostAllowlist {
    /// The allowlist of `names` (a port, if given, is ignored; case does not matter).
    ///
    /// # Errors
    /// [`InvalidHost`] for an empty name, one with a scheme, path, user info or wildcard.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidHost> {
        let mut hosts = BTreeSet::new();
        for name in names {
            let name = name.trim();
            let host = host_of(name).ok_or_else(|| InvalidHost(name.to_owned()))?;
            hosts.insert(host);
        }
        Ok(Self { hosts })
    }

    /// Whether a request with these headers is for one of the allowed hosts.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(HOST).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            // None, or several (a request smuggling attempt): refused.
            return false;
        };
        value
            .to_str()
            .ok()
            .and_then(host_of)
            .is_some_and(|host| self.hosts.contains(&host))
    }

    /// The allowed names, sorted (for `wildid config check`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(String::as_str)
    }
}

/// The host part of a `Host` value or of an allowlist entry, lower-cased; `None` when it is not
/// a plain `host[:port]`.
fn host_of(value: &str) -> Option<String> {
    if value.is_empty() || value.contains(['@', '/', '*', '?', '#']) {
        return None;
    }
    let authority: Authority = value.parse().ok()?;
    let host = authority.host();
    if host.is_empty() || host.ends_with('.') {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_host(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(HOST, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn hosts_match_without_port_and_case() {
        let list =
            HostAllowlist::new(["localhost", "127.0.0.1", "WildID.example.org", "[::1]"]).unwrap();
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:3000",
            "wildid.EXAMPLE.org",
            "[::1]:8080",
        ] {
            assert!(list.allows(&with_host(&[ok])), "{ok}");
        }
        for bad in [
            "evil.example",
            "wildid.example.org.evil.example",
            "localhost.",
            "user@localhost",
            "localhost/x",
            "",
            "127.0.0.2",
        ] {
            assert!(!list.allows(&with_host(&[bad])), "{bad}");
        }
        assert!(!list.allows(&HeaderMap::new()), "no Host at all");
        assert!(
            !list.allows(&with_host(&["localhost", "evil.example"])),
            "two Host headers"
        );
    }

    #[test]
    fn entries_are_validated() {
        for bad in ["https://x.org", "*.example.org", "", "x.org/path", "a b"] {
            assert_eq!(
                HostAllowlist::new([bad]),
                Err(InvalidHost(bad.trim().to_owned())),
                "{bad}"
            );
        }
        let list = HostAllowlist::new(["Example.org:8443", "example.org"]).unwrap();
        assert_eq!(list.names().collect::<Vec<_>>(), ["example.org"]);
    }
}

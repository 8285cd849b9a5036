//! Cross-origin resource sharing (seed §13): only on `/api/*`, only for the origins of an
//! allowlist, with credentials.
//!
//! Written here rather than taken from `tower-http`, whose layer sends
//! `Access-Control-Allow-Methods`, `-Headers` and `-Credentials` to every origin and answers
//! every `OPTIONS` as a preflight: WildID's rule is stricter, and an origin that is not listed
//! gets no `Access-Control-Allow-*` header at all.
//!
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from a listed
//!   origin for a method the API uses gets 204 with the grant; from any other origin, 403
//!   `cors_origin_not_allowed` without a grant.
//! - Any other API request from a listed origin gets `Access-Control-Allow-Origin` (the origin
//!   itself, never `*`) and `-Credentials`; from other origins, nothing. Whether a cross-origin
//!   *write* may happen at all is decided by the anti-forgery layer, which accepts listed
//!   origins and still demands the session's token.
//! - Every API response varies on `Origin`, so no cache serves one origin's answer to another.

use std::collections::BTreeSet;

use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::uri::Scheme;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};

/// Methods a listed origin may use.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// Request headers a listed origin may send beyond the CORS-safelisted ones.
const ALLOWED_HEADERS: &str = "content-type, x-csrf-token";
/// Response headers a listed origin's scripts may read.
const EXPOSED_HEADERS: &str = "x-request-id, retry-after, ratelimit, ratelimit-policy";
/// How long a browser may cache a preflight answer (seconds).
const MAX_AGE: &str = "600";

/// An origin that cannot be allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an origin (expected scheme and host with an optional port, e.g. `https://app.example.org`)"
)]
pub struct InvalidOrigin(pub String);

/// The origins whose scripts may call the API with the user's cookies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: BTreeSet<String>,
}

/// What the CORS rule says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CorsVerdict {
    /// Not an API request, or no `Origin`: CORS has nothing to say.
    NotCors,
    /// A preflight from a listed origin: answer it with these headers.
    GrantPreflight(HeaderMap),
    /// A preflight from another origin (or for a method the API does not use): refuse it.
    RefusePreflight,
    /// An actual request: add these headers to its response (empty for unlisted origins).
    Annotate(HeaderMap),
}

impl CorsPolicy {
    /// The policy for `origins`, normalised (lower case, no trailing slash, no default port)
    /// and without duplicates.
    ///
    /// # Errors
    /// [`InvalidOrigin`] for anything but `http(s)://host[:port]` (`*` and `null` included).
    pub fn new<'a>(origins: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidOrigin> {
        let mut set = BTreeSet::new();
        for raw in origins {
            let raw = raw.trim();
            set.insert(normalise(raw).ok_or_else(|| InvalidOrigin(raw.to_owned()))?);
        }
        Ok(Self { origins: set })
    }

    /// The listed origins, sorted.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().map(String::as_str)
    }

    /// Whether the request's `Origin` header names a listed origin.
    pub(crate) fn allows_origin_of(&self, headers: &HeaderMap) -> bool {
        self.listed_origin(headers).is_some()
    }

    fn listed_origin<'h>(&self, headers: &'h HeaderMap) -> Option<&'h HeaderValue> {
        let value = headers.get(ORIGIN)?;
        let origin = normalise(value.to_str().ok()?)?;
        self.origins.contains(&origin).then_some(value)
    }

    /// The verdict for a request to `path`.
    pub(crate) fn verdict(&self, method: &Method, api: bool, headers: &HeaderMap) -> CorsVerdict {
        if !api || !headers.contains_key(ORIGIN) {
            return CorsVerdict::NotCors;
        }
        let listed = self.listed_origin(headers);
        if method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
            let method_ok = headers
                .get(ACCESS_CONTROL_REQUEST_METHOD)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|m| METHODS.split(", ").any(|allowed| allowed == m));
            return match listed {
                Some(origin) if method_ok => {
                    let mut grant = grant(origin);
                    grant.insert(
                        ACCESS_CONTROL_ALLOW_METHODS,
                        HeaderValue::from_static(METHODS),
                    );
                    grant.insert(
                        ACCESS_CONTROL_ALLOW_HEADERS,
                        HeaderValue::from_static(ALLOWED_HEADERS),
                    );
                    grant.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
                    CorsVerdict::GrantPreflight(grant)
                }
                _ => CorsVerdict::RefusePreflight,
            };
        }
        CorsVerdict::Annotate(listed.map_or_else(HeaderMap::new, |origin| {
            let mut grant = grant(origin);
            grant.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
            grant
        }))
    }
}

fn grant(origin: &HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers
}

/// Adds `Vary: Origin` to an API response (keeping any `Vary` already there).
pub(crate) fn vary_on_origin(headers: &mut HeaderMap) {
    let already = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin") || v.trim() == "*");
    if !already {
        headers.append(VARY, HeaderValue::from_static("origin"));
    }
}

/// `scheme://host[:port]` in lower case, without a trailing slash or a default port; `None`
/// for anything else.
fn normalise(raw: &str) -> Option<String> {
    let trimmed = raw.strip_suffix('/').unwrap_or(raw);
    if trimmed.contains(['@', '*', '?', '#', ';', ',', '\'', '"', ' ']) {
        return None;
    }
    let uri: Uri = trimmed.parse().ok()?;
    let scheme = uri.scheme()?;
    let default_port = if *scheme == Scheme::HTTPS {
        443
    } else if *scheme == Scheme::HTTP {
        80
    } else {
        return None;
    };
    let authority = uri.authority()?;
    if !matches!(uri.path(), "" | "/") || authority.host().is_empty() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn origins_are_normalised_and_deduplicated() {
        let policy = CorsPolicy::new([
            "https://App.example.org/",
            "https://app.example.org:443",
            "http://localhost:3000",
            " http://localhost:3000/ ",
        ])
        .unwrap();
        assert_eq!(
            policy.origins().collect::<Vec<_>>(),
            ["http://localhost:3000", "https://app.example.org"]
        );
        for bad in [
            "*",
            "null",
            "app.example.org",
            "ftp://app.example.org",
            "https://app.example.org/path",
            "https://user@app.example.org",
            "https://app.example.org?x",
        ] {
            assert_eq!(
                CorsPolicy::new([bad]),
                Err(InvalidOrigin(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_listed_origins_get_a_grant_and_only_on_the_api() {
        let policy = CorsPolicy::new(["https://app.example.org"]).unwrap();
        let listed = headers(&[("origin", "https://app.example.org")]);
        let other = headers(&[("origin", "https://evil.example")]);
        assert_eq!(
            policy.verdict(&Method::GET, false, &listed),
            CorsVerdict::NotCors,
            "pages are never shared"
        );
        assert_eq!(
            policy.verdict(&Method::GET, true, &HeaderMap::new()),
            CorsVerdict::NotCors
        );
        let CorsVerdict::Annotate(grant) = policy.verdict(&Method::POST, true, &listed) else {
            panic!("a listed origin is annotated");
        };
        assert_eq!(
            grant[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.org"
        );
        assert_eq!(grant[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(
            policy.verdict(&Method::POST, true, &other),
            CorsVerdict::Annotate(HeaderMap::new()),
            "another origin gets no Access-Control-Allow-* header"
        );
    }

    #[test]
    fn preflights_are_granted_to_listed_origins_for_api_methods_only() {
        let policy = CorsPolicy::new(["https://app.example.org"]).unwrap();
        let ask = |origin: &str, method: &str| {
            policy.verdict(
                &Method::OPTIONS,
                true,
                &headers(&[
                    ("origin", origin),
                    ("access-control-request-method", method),
                ]),
            )
        };
        let CorsVerdict::GrantPreflight(grant) = ask("https://app.example.org", "POST") else {
            panic!("granted");
        };
        assert_eq!(grant[ACCESS_CONTROL_ALLOW_METHODS], METHODS);
        assert!(
            grant[ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .contains("x-csrf-token")
        );
        assert_eq!(
            ask("https://evil.example", "POST"),
            CorsVerdict::RefusePreflight
        );
        assert_eq!(
            ask("https://app.example.org", "TRACE"),
            CorsVerdict::RefusePreflight
        );
    }

    #[test]
    fn vary_is_added_once() {
        let mut h = headers(&[("vary", "accept-encoding")]);
        vary_on_origin(&mut h);
        vary_on_origin(&mut h);
        let all: Vec<_> = h.get_all(VARY).iter().collect();
        assert_eq!(all, ["accept-encoding", "origin"]);
    }
}

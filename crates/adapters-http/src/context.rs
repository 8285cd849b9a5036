//! The values of one request that handlers and templates read (the frame middleware puts
//! them in the request's extensions): its id, its CSP nonce, the client address and whether it
//! came over HTTPS; and whether a path belongs to the JSON API.

use std::sync::Arc;

use wildid_domain::ids::RequestId;

/// Per-request values that handlers and templates read from the request extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// Correlates log lines, audit entries and the `x-request-id` response header.
    pub request_id: RequestId,
    /// The CSP nonce of this response.
    pub nonce: Arc<str>,
    /// The client address (see `client::client_ip`).
    pub client_ip: Option<std::net::IpAddr>,
    /// The client reached us over HTTPS (see `client::forwarded_https`).
    pub https: bool,
    /// The browser's fingerprint (a digest of its identifying headers), which binds a session
    /// to its browser and names the browser in the log lines of the request.
    pub fingerprint: wildid_domain::session::Fingerprint,
}

/// Whether a path belongs to the JSON API.
pub(crate) fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

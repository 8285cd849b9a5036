//! Who is asking: the client address (from the socket, or from `X-Forwarded-For` only when the
//! socket peer is a configured trusted proxy), whether it came over HTTPS (`X-Forwarded-Proto`,
//! from a trusted proxy only) and the browser's fingerprint headers.

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_ENCODING, ACCEPT_LANGUAGE, USER_AGENT};
use ipnet::IpNet;
use wildid_domain::session::{Fingerprint, coarse_ip, device_summary};
use wildid_ports::services::limits::network_of;
use wildid_ports::services::sessions::ClientInfo;

use crate::context::RequestContext;

/// The client address. With no trusted proxies configured, forwarded headers are ignored
/// entirely, so a client cannot choose its own address. Behind trusted proxies, the
/// `X-Forwarded-For` chain is walked from the right and the first address that is not a
/// trusted proxy is the client.
pub(crate) fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return Some(peer);
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                // A malformed chain cannot be trusted beyond the proxy itself.
                Err(_) => return Some(peer),
            }
        }
    }
    Some(
        chain
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

/// Whether the client reached us over HTTPS. The server itself speaks plain HTTP behind a
/// TLS-terminating proxy, so only a trusted proxy can say so, with `X-Forwarded-Proto: https`
/// (the first entry of a chain: the scheme the client used). Anyone else saying it is ignored.
pub(crate) fn forwarded_https(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> bool {
    let Some(peer) = peer else {
        return false;
    };
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return false;
    }
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|scheme| scheme.trim().eq_ignore_ascii_case("https"))
}

fn header(headers: &HeaderMap, name: axum::http::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The browser's fingerprint: a digest of the headers that identify it.
pub(crate) fn fingerprint(headers: &HeaderMap) -> Fingerprint {
    Fingerprint::from_headers(
        header(headers, USER_AGENT),
        header(headers, ACCEPT_LANGUAGE),
        header(headers, ACCEPT_ENCODING),
    )
}

/// What the session rules need to know about the browser.
pub(crate) fn client_info(headers: &HeaderMap, ctx: &RequestContext) -> ClientInfo {
    let user_agent = header(headers, USER_AGENT);
    ClientInfo {
        fingerprint: ctx.fingerprint,
        coarse_ip: ctx.client_ip.map(coarse_ip),
        device: Some(device_summary(user_agent)),
        request_id: Some(ctx.request_id),
        network: ctx.client_ip.map(network_of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxy: IpNet = "10.0.0.0/8".parse().unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "198.51.100.7".parse().unwrap();
        // No trusted proxies: the socket address, whatever the header says.
        assert_eq!(
            client_ip(Some(outsider), &xff("1.2.3.4"), &[]),
            Some(outsider)
        );
        // An untrusted peer cannot forge its address either.
        assert_eq!(
            client_ip(Some(outsider), &xff("1.2.3.4"), &[proxy]),
            Some(outsider)
        );
        // Behind a trusted proxy: the rightmost address that is not a proxy.
        assert_eq!(
            client_ip(Some(peer), &xff("1.2.3.4, 203.0.113.9, 10.9.9.9"), &[proxy]),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some(peer), &xff("nonsense, 203.0.113.9"), &[proxy]),
            Some(peer)
        );
        assert_eq!(
            client_ip(Some(peer), &HeaderMap::new(), &[proxy]),
            Some(peer)
        );
    }

    #[test]
    fn only_a_trusted_proxy_can_say_the_client_used_https() {
        let proxy: IpNet = "10.0.0.0/8".parse().unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "198.51.100.7".parse().unwrap();
        let proto = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-proto", value.parse().unwrap());
            h
        };
        assert!(forwarded_https(Some(peer), &proto("https"), &[proxy]));
        assert!(forwarded_https(Some(peer), &proto("HTTPS, http"), &[proxy]));
        assert!(!forwarded_https(Some(peer), &proto("http"), &[proxy]));
        assert!(!forwarded_https(Some(peer), &HeaderMap::new(), &[proxy]));
        assert!(!forwarded_https(Some(outsider), &proto("https"), &[proxy]));
        assert!(!forwarded_https(Some(peer), &proto("https"), &[]));
        assert!(!forwarded_https(None, &proto("https"), &[proxy]));
    }
}

//! Where a recorded event came from: the request and the client's coarse network.

use core::net::IpAddr;

use crate::ids::RequestId;

/// The stored text is not a coarse network in the form [`ClientNetwork::of`] writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a coarse client network")]
pub struct InvalidNetwork;

/// The network a client connected from, never its address: the IPv4 /24 (`203.0.113.0/24`) or
/// the IPv6 /48 (`2001:db8:abcd::/48`); an IPv4-mapped IPv6 address counts as IPv4. Enough to
/// tell "the usual place" from "somewhere else" in a security log, too coarse to name a
/// household. It can only be made from an address or parsed back from its own text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientNetwork(String);

impl ClientNetwork {
    /// The coarse network of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                Self(format!("{a}.{b}.{c}.0/24"))
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::of(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Self(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
                }
            },
        }
    }

    /// Reads back the text of [`ClientNetwork::as_str`].
    ///
    /// # Errors
    /// [`InvalidNetwork`] for anything else (an address, another prefix length, host bits set).
    pub fn parse(text: &str) -> Result<Self, InvalidNetwork> {
        let (address, _) = text.split_once('/').ok_or(InvalidNetwork)?;
        let ip: IpAddr = address.parse().map_err(|_| InvalidNetwork)?;
        let network = Self::of(ip);
        if network.0 == text {
            Ok(network)
        } else {
            Err(InvalidNetwork)
        }
    }

    /// The network as text, e.g. `203.0.113.0/24`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an event came from: the HTTP request (its id, also on every log line of the request)
/// and the client's coarse network, when known. Events of the server itself (a purge, a
/// command) have no origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The request.
    pub request: RequestId,
    /// The client's network, when the connection's address is known.
    pub client: Option<ClientNetwork>,
}

impl Origin {
    /// The origin of request `request` from a client at `ip` (if known).
    pub fn new(request: RequestId, ip: Option<IpAddr>) -> Self {
        Self {
            request,
            client: ip.map(ClientNetwork::of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn networks_are_coarse_and_read_back() {
        let of = |s: &str| ClientNetwork::of(s.parse().unwrap());
        assert_eq!(of("203.0.113.77").as_str(), "203.0.113.0/24");
        assert_eq!(of("2001:db8:abcd:12::1").as_str(), "2001:db8:abcd::/48");
        assert_eq!(of("::ffff:192.0.2.9").as_str(), "192.0.2.0/24");
        for bad in [
            "203.0.113.77",
            "203.0.113.77/24",
            "203.0.113.0/16",
            "2001:db8:abcd:12::/48",
            "2001:db8:abcd::/64",
            "",
            "/24",
            "x.y.z.0/24",
        ] {
            assert_eq!(ClientNetwork::parse(bad), Err(InvalidNetwork), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_network_reads_back_as_itself(v4 in any::<u32>(), v6 in any::<u128>()) {
            for ip in [IpAddr::from(v4.to_be_bytes()), IpAddr::from(v6.to_be_bytes())] {
                let network = ClientNetwork::of(ip);
                prop_assert_eq!(ClientNetwork::parse(network.as_str()), Ok(network.clone()));
            }
        }
    }
}

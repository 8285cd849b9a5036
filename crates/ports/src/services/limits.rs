//! General request limits per client address and route group (by default 200 a day and 50 an
//! hour). Every route belongs to one group; a group has one or
//! more fixed windows, all of which must allow a request.
//!
//! Counters are keyed by a keyed digest of the client's network (an IPv4 address, an IPv6 /64,
//! since one machine easily holds a whole /64), never the raw address. Groups that guard
//! expensive or anonymous work count in the shared store (the database: every server process
//! sees the same count); the generous default group counts in each process's memory, since a
//! database write per request would cost more than the limit protects.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use wildid_domain::Duration;
use wildid_domain::rate_limit::{RateDecision, RateLimit};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::KeyedDigest;
use crate::repo::RateLimitStore;

/// A group of routes that share limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteGroup {
    /// Sign-in, registration, links by mail, credential changes: anonymous or expensive.
    SignIn,
    /// Identifications: every request to the route, well-formed or not (the adaptive limit of
    /// `services::trust` counts the admitted ones on top).
    Identify,
    /// Asking for and answering CAPTCHAs.
    Captcha,
    /// Reports browsers send on their own (CSP violations).
    Reports,
    /// Everything else, with limits a person never meets.
    Default,
    /// Health probes and static files: never limited.
    Unlimited,
}

impl RouteGroup {
    /// Every limited group.
    pub const LIMITED: [RouteGroup; 5] = [
        RouteGroup::SignIn,
        RouteGroup::Identify,
        RouteGroup::Captcha,
        RouteGroup::Reports,
        RouteGroup::Default,
    ];

    /// The stable name (configuration `WILDID_LIMIT_<NAME>`, `RateLimit` headers).
    pub fn name(self) -> &'static str {
        match self {
            RouteGroup::SignIn => "sign_in",
            RouteGroup::Identify => "identify",
            RouteGroup::Captcha => "captcha",
            RouteGroup::Reports => "reports",
            RouteGroup::Default => "default",
            RouteGroup::Unlimited => "unlimited",
        }
    }

    /// Whether the group counts in the shared store (else in process memory).
    pub fn is_shared(self) -> bool {
        !matches!(self, RouteGroup::Default | RouteGroup::Unlimited)
    }

    /// The built-in windows: the seed's 50 per hour and 200 per day for sign-in; identifications
    /// above the adaptive ceiling; CAPTCHAs for the people of a shared network, each needing a
    /// handful; reports a browser sends in bursts; a default no person meets. All per client
    /// network, sized like the adaptive limit for a field station of
    /// `wildid_domain::trust::SHARED_NETWORK_PEOPLE` people.
    pub fn default_windows(self) -> Vec<RateLimit> {
        let w = |max: u32, seconds: i64| RateLimit::new(max, Duration::seconds(seconds));
        let windows = match self {
            RouteGroup::SignIn => vec![w(50, 3600), w(200, 86_400)],
            // Above the adaptive ceiling (100 x the threshold of 10, per hour), so that for
            // photos that decode it is the adaptive limit that binds; this bounds the rest.
            RouteGroup::Identify => vec![w(1500, 3600), w(10_000, 86_400)],
            // About five requests per check (page, challenge, answer, a retry) for 40 people.
            RouteGroup::Captcha => vec![w(200, 3600), w(1000, 86_400)],
            RouteGroup::Reports => vec![w(100, 60), w(1000, 86_400)],
            RouteGroup::Default => vec![w(600, 60)],
            RouteGroup::Unlimited => vec![],
        };
        windows.into_iter().flatten().collect()
    }
}

/// One window's state after a request, for the `RateLimit` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowState {
    /// The window.
    pub limit: RateLimit,
    /// Requests left in it.
    pub remaining: u32,
    /// Seconds until it resets.
    pub reset_after: i64,
}

/// What the limits say about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitVerdict {
    /// Not limited (unlimited group, or no client address known).
    Unlimited,
    /// Allowed; the state of every window of the group.
    Allowed(Vec<WindowState>),
    /// Refused: a window is full until `retry_after` seconds from now.
    Limited {
        /// Seconds until a retry can succeed.
        retry_after: i64,
        /// The full window.
        limit: RateLimit,
    },
}

/// The limits of every group.
#[derive(Clone)]
pub struct RequestLimits {
    shared: Arc<dyn RateLimitStore>,
    local: Arc<dyn RateLimitStore>,
    digest: Arc<dyn KeyedDigest>,
    clock: Arc<dyn Clock>,
    windows: BTreeMap<RouteGroup, Vec<RateLimit>>,
}

impl RequestLimits {
    /// Limits with `windows` per group (a group not given keeps its default windows).
    pub fn new(
        shared: Arc<dyn RateLimitStore>,
        local: Arc<dyn RateLimitStore>,
        digest: Arc<dyn KeyedDigest>,
        clock: Arc<dyn Clock>,
        windows: BTreeMap<RouteGroup, Vec<RateLimit>>,
    ) -> Self {
        let windows = RouteGroup::LIMITED
            .into_iter()
            .map(|g| {
                (
                    g,
                    windows
                        .get(&g)
                        .cloned()
                        .unwrap_or_else(|| g.default_windows()),
                )
            })
            .collect();
        Self {
            shared,
            local,
            digest,
            clock,
            windows,
        }
    }

    /// The windows of `group`.
    pub fn windows(&self, group: RouteGroup) -> &[RateLimit] {
        self.windows.get(&group).map_or(&[], Vec::as_slice)
    }

    /// Counts a request of `client` to a route of `group`.
    ///
    /// # Errors
    /// Only failures of the shared store.
    pub async fn check(
        &self,
        group: RouteGroup,
        client: Option<IpAddr>,
    ) -> Result<LimitVerdict, RepoError> {
        let windows = self.windows(group);
        let Some(client) = client.filter(|_| !windows.is_empty()) else {
            return Ok(LimitVerdict::Unlimited);
        };
        let store = if group.is_shared() {
            &self.shared
        } else {
            &self.local
        };
        let network = network_of(client);
        let now = self.clock.now();
        let mut states = Vec::with_capacity(windows.len());
        for limit in windows {
            let purpose = format!(
                "limit:{}:{}:{}",
                group.name(),
                limit.max(),
                limit.per().num_seconds()
            );
            let key = self.digest.digest(&purpose, network.as_bytes());
            match store.hit(&key, limit, now).await? {
                RateDecision::Allowed {
                    remaining,
                    reset_after,
                } => states.push(WindowState {
                    limit: *limit,
                    remaining,
                    reset_after: reset_after.num_seconds(),
                }),
                RateDecision::Limited { retry_after } => {
                    return Ok(LimitVerdict::Limited {
                        retry_after: retry_after.num_seconds().max(1),
                        limit: *limit,
                    });
                }
            }
        }
        Ok(LimitVerdict::Allowed(states))
    }
}

/// The network a limit counts: the IPv4 address, or the IPv6 /64 (IPv4-mapped IPv6 addresses
/// count as their IPv4 address).
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{HmacDigest, MemoryRateLimits, SystemClock};
    use wildid_domain::secret::SecretBytes;

    /// The per-hour window of `group`'s defaults.
    fn hourly(group: RouteGroup) -> u32 {
        group
            .default_windows()
            .iter()
            .find(|w| w.per() == Duration::seconds(3600))
            .map(RateLimit::max)
            .unwrap()
    }

    #[test]
    fn the_route_limits_leave_the_adaptive_limit_and_a_shared_network_room() {
        use wildid_domain::trust::{RateLimitPolicy, SHARED_NETWORK_PEOPLE};
        let adaptive = RateLimitPolicy::default();
        assert!(hourly(RouteGroup::Identify) > adaptive.ip_ceiling());
        assert!(hourly(RouteGroup::Captcha) >= 5 * SHARED_NETWORK_PEOPLE);
    }

    fn limits(windows: BTreeMap<RouteGroup, Vec<RateLimit>>) -> RequestLimits {
        RequestLimits::new(
            Arc::new(MemoryRateLimits::default()),
            Arc::new(MemoryRateLimits::default()),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![3; 64]))),
            Arc::new(SystemClock),
            windows,
        )
    }

    #[test]
    fn networks_are_ipv4_addresses_and_ipv6_64s() {
        let net = |s: &str| network_of(s.parse().unwrap());
        assert_eq!(net("203.0.113.9"), "203.0.113.9");
        assert_eq!(net("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(net("2001:db8:1:2:aaaa::1"), net("2001:db8:1:2:ffff::9"));
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"));
    }

    #[tokio::test]
    async fn every_window_must_allow_and_clients_count_apart() {
        let tight = vec![
            RateLimit::new(3, Duration::seconds(60)).unwrap(),
            RateLimit::new(4, Duration::seconds(3600)).unwrap(),
        ];
        let limits = limits(BTreeMap::from([(RouteGroup::SignIn, tight)]));
        let me: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        for left in [2, 1, 0] {
            let LimitVerdict::Allowed(states) =
                limits.check(RouteGroup::SignIn, Some(me)).await.unwrap()
            else {
                panic!("allowed");
            };
            assert_eq!(states[0].remaining, left);
            assert_eq!(states.len(), 2);
        }
        let LimitVerdict::Limited { retry_after, limit } =
            limits.check(RouteGroup::SignIn, Some(me)).await.unwrap()
        else {
            panic!("limited");
        };
        assert!((1..=60).contains(&retry_after));
        assert_eq!(limit.max(), 3);
        assert!(matches!(
            limits.check(RouteGroup::SignIn, Some(other)).await.unwrap(),
            LimitVerdict::Allowed(_)
        ));
        // Other groups count on their own; unlimited ones and unknown clients are not counted.
        assert!(matches!(
            limits.check(RouteGroup::Captcha, Some(me)).await.unwrap(),
            LimitVerdict::Allowed(_)
        ));
        assert_eq!(
            limits.check(RouteGroup::Unlimited, Some(me)).await.unwrap(),
            LimitVerdict::Unlimited
        );
        assert_eq!(
            limits.check(RouteGroup::SignIn, None).await.unwrap(),
            LimitVerdict::Unlimited
        );
    }

    #[test]
    fn defaults_follow_the_seed() {
        let limits = limits(BTreeMap::new());
        let sign_in: Vec<_> = limits
            .windows(RouteGroup::SignIn)
            .iter()
            .map(|l| (l.max(), l.per().num_seconds()))
            .collect();
        assert_eq!(sign_in, [(50, 3600), (200, 86_400)]);
        assert!(limits.windows(RouteGroup::Unlimited).is_empty());
    }
}

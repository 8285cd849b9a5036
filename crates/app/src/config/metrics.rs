//! The metrics settings: where the Prometheus metrics are served (`WILDID_METRICS_BIND`), off
//! unless set. They are never served on the public listener: only on this address, which an
//! operator chooses for the scraper (loopback or a private network).

use std::net::SocketAddr;

use super::ConfigError;
use super::helpers::section;

section! {
    /// The metrics' values as read.
    struct RawMetrics {
        metrics_bind: Option<String>,
    }
}

/// `WILDID_METRICS_BIND`: none (the default: no metrics), or an `IP:PORT` other than the
/// server's own `bind`.
pub(super) fn bind(
    raw: &RawMetrics,
    server: SocketAddr,
) -> Result<Option<SocketAddr>, ConfigError> {
    let Some(given) = raw
        .metrics_bind
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    else {
        return Ok(None);
    };
    let address: SocketAddr = given.parse().map_err(|_| ConfigError::Invalid {
        var: "WILDID_METRICS_BIND",
        why: "expected IP:PORT, as in 127.0.0.1:9464".into(),
    })?;
    if address == server && address.port() != 0 {
        return Err(ConfigError::Invalid {
            var: "WILDID_METRICS_BIND",
            why:
                "must differ from WILDID_BIND: the metrics are never served on the public listener"
                    .into(),
        });
    }
    Ok(Some(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(value: Option<&str>) -> RawMetrics {
        RawMetrics {
            metrics_bind: value.map(str::to_owned),
        }
    }

    #[test]
    fn off_by_default_an_address_when_set_never_the_public_one() {
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(bind(&raw(None), server).unwrap(), None);
        assert_eq!(bind(&raw(Some("  ")), server).unwrap(), None);
        assert_eq!(
            bind(&raw(Some("127.0.0.1:9464")), server).unwrap(),
            Some("127.0.0.1:9464".parse().unwrap())
        );
        for bad in ["9464", "localhost:9464", "127.0.0.1:8080"] {
            let error = bind(&raw(Some(bad)), server).unwrap_err().to_string();
            assert!(error.contains("WILDID_METRICS_BIND"), "{bad}: {error}");
        }
    }
}

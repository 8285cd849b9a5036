//! The Content-Security-Policy of every response: built once at start (so that `img-src` can
//! name the configured map tile origins), with each response's nonce put in.

use crate::{CorsPolicy, InvalidOrigin};

/// The Content-Security-Policy of every response, but for its nonce: built once at start,
/// so that `img-src` can name the configured map tile origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSecurityPolicy {
    /// Everything after the nonce (the part before it, [`HEAD`], never changes).
    tail: String,
}

/// Everything before the nonce.
const HEAD: &str = "default-src 'self'; script-src 'self' 'nonce-";

impl ContentSecurityPolicy {
    /// The policy whose `img-src` allows this origin, `data:`, `blob:` and the map tile
    /// `origins` (normalised as [`CorsPolicy`] does, duplicates dropped),
    /// and nothing else.
    ///
    /// # Errors
    /// [`InvalidOrigin`] for anything but `http(s)://host[:port]`: a path, a wildcard, a
    /// quote or a `;` could widen the policy, so they are refused rather than passed on.
    pub fn new<'a>(
        map_tile_origins: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, InvalidOrigin> {
        Ok(Self::allowing_images_from(&CorsPolicy::new(
            map_tile_origins,
        )?))
    }

    fn allowing_images_from(tiles: &CorsPolicy) -> Self {
        let mut img_src = String::from("'self' data: blob:");
        for origin in tiles.origins() {
            img_src.push(' ');
            img_src.push_str(origin);
        }
        Self {
            tail: format!(
                "'; style-src 'self'; img-src {img_src}; font-src 'self'; connect-src 'self'; \
                 object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; \
                 report-uri /api/csp-report; report-to csp"
            ),
        }
    }

    /// The policy of a response with this nonce.
    pub(crate) fn with_nonce(&self, nonce: &str) -> String {
        let mut policy = String::with_capacity(HEAD.len() + nonce.len() + self.tail.len());
        policy.push_str(HEAD);
        policy.push_str(nonce);
        policy.push_str(&self.tail);
        policy
    }
}

impl Default for ContentSecurityPolicy {
    /// The policy without map tile origins.
    fn default() -> Self {
        Self::allowing_images_from(&CorsPolicy::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_come_only_from_here_and_the_map_tile_origins() {
        let plain = ContentSecurityPolicy::default().with_nonce("n0nce");
        assert!(
            plain.contains("script-src 'self' 'nonce-n0nce';"),
            "{plain}"
        );
        assert!(plain.contains("; img-src 'self' data: blob:;"), "{plain}");

        let tiles = ContentSecurityPolicy::new([
            "https://Tiles.example.org/",
            "https://tiles.example.org:443",
            "http://localhost:8081",
        ])
        .unwrap()
        .with_nonce("n0nce");
        assert!(
            tiles.contains(
                "; img-src 'self' data: blob: http://localhost:8081 https://tiles.example.org;"
            ),
            "{tiles}"
        );
    }

    #[test]
    fn a_tile_origin_cannot_widen_the_policy() {
        for bad in [
            "https://tiles.example.org; script-src *",
            "https://*.example.org",
            "*",
            "https://tiles.example.org/path",
            "https://tiles.example.org 'unsafe-inline'",
            "tiles.example.org",
            "data:",
        ] {
            assert!(ContentSecurityPolicy::new([bad]).is_err(), "{bad} accepted");
        }
    }
}

//! The app's own CSS, scripts and icon, and the map's library and world outline, compiled into the binary (no CDN, so the CSP stays
//! strict). URLs carry a content hash (`?v=`), so files are cached for a year and a new build
//! is fetched at once.

use axum::extract::Path;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::response::{IntoResponse, Response};

use crate::assets::{FILES, version};
use crate::error::AppError;

pub(crate) async fn serve(Path(name): Path<String>) -> Result<Response, AppError> {
    let (_, bytes, content_type) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", version(&name));
    let mut response = (*bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    Ok(response)
}

/// What crawlers may index: the public pages (the landing page, the identification page, the
/// privacy notice), none of the API, the sign-in flows, the account, admin or check pages.
const ROBOTS: &str = "# WildID: public pages may be indexed; nothing behind a sign-in, no API.
User-agent: *
Disallow: /api/
Disallow: /auth/
Disallow: /account
Disallow: /admin
Disallow: /security/
Allow: /
";

/// `GET /robots.txt`.
pub(crate) async fn robots() -> Response {
    let mut response = ROBOTS.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

#[cfg(test)]
mod contrast_tests {
    //! The colour pairs of `app.css` against WCAG 2.2 AA (1.4.3: 4.5:1 for text), in both
    //! colour schemes, read from the stylesheet itself so that a new colour cannot slip under.

    use std::collections::BTreeMap;

    const CSS: &str = include_str!("../../static/app.css");

    /// The custom properties of the first `:root` block in `css`.
    fn variables(css: &str) -> BTreeMap<String, String> {
        let start = css.find(":root {").expect("a :root block") + ":root {".len();
        let end = start + css[start..].find('}').expect("the block ends");
        css[start..end]
            .lines()
            .filter_map(|line| {
                let (name, value) = line.trim().split_once(':')?;
                let value = value.trim().trim_end_matches(';').trim();
                (name.starts_with("--") && value.starts_with('#'))
                    .then(|| (name.to_owned(), value.to_owned()))
            })
            .collect()
    }

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    fn ratio(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn every_text_colour_pair_meets_aa_in_both_schemes() {
        let light = variables(CSS);
        let dark_block = CSS
            .find("@media (prefers-color-scheme: dark)")
            .expect("a dark scheme");
        let mut dark = light.clone();
        dark.extend(variables(&CSS[dark_block..]));
        // (text, background): white on the green surfaces, links and text on the page, cards
        // and message boxes.
        let pairs = [
            ("#ffffff", "--green-fill"),
            ("#ffffff", "--green-fill-hover"),
            ("--green", "--bg"),
            ("--green", "--card"),
            ("--green", "--success-bg"),
            ("--green-dark", "--bg"),
            ("--ink", "--bg"),
            ("--ink", "--card"),
            ("--ink", "--error-bg"),
            ("--ink", "--success-bg"),
            ("--ink", "--info-bg"),
            ("--muted", "--bg"),
            ("--muted", "--card"),
            ("--error", "--bg"),
            ("--error", "--card"),
            ("--error", "--error-bg"),
        ];
        for (scheme, vars) in [("light", &light), ("dark", &dark)] {
            let colour = |c: &'static str| {
                if c.starts_with('#') {
                    c.to_owned()
                } else {
                    vars.get(c)
                        .unwrap_or_else(|| panic!("{scheme}: {c} is not set"))
                        .clone()
                }
            };
            for (text, background) in pairs {
                let r = ratio(&colour(text), &colour(background));
                assert!(
                    r >= 4.5,
                    "{scheme}: {text} on {background} is {r:.2}:1, below 4.5:1"
                );
            }
        }
        // The dark green the issue found (white on #3fa274, 3.2:1) would fail.
        assert!(ratio("#ffffff", "#3fa274") < 4.5);
    }
}

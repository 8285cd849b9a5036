//! The app's own CSS, script and icon, compiled into the binary (no CDN, so the CSP stays
//! strict). URLs carry a content hash (`?v=`), so files are cached for a year and a new build
//! is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::AppError;

const FILES: &[(&str, &[u8], &str)] = &[
    (
        "app.css",
        include_bytes!("../../static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../../static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "captcha.js",
        include_bytes!("../../static/captcha.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "identify.js",
        include_bytes!("../../static/identify.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "favicon.svg",
        include_bytes!("../../static/favicon.svg"),
        "image/svg+xml",
    ),
];

/// Content versions for asset URLs.
pub(crate) struct Assets {
    pub css: String,
    pub js: String,
    pub captcha_js: String,
    pub identify_js: String,
    pub favicon: String,
}

fn version(name: &str) -> String {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, bytes, _)| hex::encode(&Sha256::digest(bytes)[..6]))
        .unwrap_or_default()
}

pub(crate) static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: version("app.css"),
    js: version("app.js"),
    captcha_js: version("captcha.js"),
    identify_js: version("identify.js"),
    favicon: version("favicon.svg"),
});

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

//! The app's own CSS, scripts and icon, and the map's library and world outline, compiled
//! into the binary, with a content version for each (so pages can link to `?v=` URLs that are
//! cached for a year). Served by `routes::static_files`; linked by the page layout.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// Every file served under `/static/`: its name, its bytes and its content type.
pub(crate) const FILES: &[(&str, &[u8], &str)] = &[
    (
        "app.css",
        include_bytes!("../static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "captcha.js",
        include_bytes!("../static/captcha.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "identify.js",
        include_bytes!("../static/identify.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "favicon.svg",
        include_bytes!("../static/favicon.svg"),
        "image/svg+xml",
    ),
    (
        "map.js",
        include_bytes!("../static/map.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "scan.js",
        include_bytes!("../static/scan.js"),
        "text/javascript; charset=utf-8",
    ),
    // Third-party files, as published (`static/vendor/README.md`).
    (
        "jsQR.js",
        include_bytes!("../static/vendor/jsQR.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "leaflet.js",
        include_bytes!("../static/vendor/leaflet.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "leaflet.css",
        include_bytes!("../static/vendor/leaflet.css"),
        "text/css; charset=utf-8",
    ),
    (
        "swagger-ui.js",
        include_bytes!("../static/vendor/swagger-ui-bundle.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "swagger-ui.css",
        include_bytes!("../static/vendor/swagger-ui.css"),
        "text/css; charset=utf-8",
    ),
    (
        "api-docs.js",
        include_bytes!("../static/api-docs.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "world.geojson",
        include_bytes!("../static/vendor/world.geojson"),
        "application/geo+json",
    ),
];

/// Content versions for asset URLs.
pub(crate) struct Assets {
    pub css: String,
    pub js: String,
    pub captcha_js: String,
    pub identify_js: String,
    pub favicon: String,
    pub map_js: String,
    pub leaflet_js: String,
    pub leaflet_css: String,
    pub world: String,
    pub scan_js: String,
    pub jsqr: String,
    pub swagger_js: String,
    pub swagger_css: String,
    pub api_docs_js: String,
}

/// The content version of a file (the start of its SHA-256), for its URL and `ETag`.
pub(crate) fn version(name: &str) -> String {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, bytes, _)| hex::encode(&Sha256::digest(bytes)[..6]))
        .unwrap_or_default()
}

/// The versions of the files pages link to.
pub(crate) static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: version("app.css"),
    js: version("app.js"),
    captcha_js: version("captcha.js"),
    identify_js: version("identify.js"),
    favicon: version("favicon.svg"),
    map_js: version("map.js"),
    leaflet_js: version("leaflet.js"),
    leaflet_css: version("leaflet.css"),
    world: version("world.geojson"),
    scan_js: version("scan.js"),
    jsqr: version("jsQR.js"),
    swagger_js: version("swagger-ui.js"),
    swagger_css: version("swagger-ui.css"),
    api_docs_js: version("api-docs.js"),
});

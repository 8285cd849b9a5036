//! WildID's HTTP adapter: the axum router, the middleware every request passes through,
//! server-rendered pages and the JSON API.
//!
//! Everything here is translation: requests into use-case calls (`wildid_ports::services`),
//! use-case results and errors into responses. Errors become HTTP in one place
//! ([`error`] for the mapping, `middleware::frame` for the rendering: JSON under `/api`, an HTML
//! page elsewhere).

mod access;
mod api_json;
mod api_types;
mod assets;
mod client;
mod context;
mod csrf;
pub mod error;
mod flash;
mod kit;
mod limits;
mod middleware;
mod page_cache;
mod pages;
mod routes;
mod session;
mod state;

pub use access::Access;
pub use flash::{Flash, FlashKind};
pub use middleware::cors::{CorsPolicy, InvalidOrigin};
pub use middleware::csp::ContentSecurityPolicy;
pub use middleware::hosts::{HostAllowlist, InvalidHost};
pub use page_cache::{JOURNAL_PAGES_BYTES, JournalPages};
pub use routes::{
    DEFAULT_UPLOAD_LIMIT, DeclaredRoute, account_links, declared as declared_routes, router,
};
pub use state::{AppState, HttpSettings, MapTiles, Services, SettingsSection};

//! The data every page's base layout needs.

use std::sync::Arc;

use crate::flash::Flash;
use crate::middleware::frame::RequestContext;
use crate::pages::nav::{NavItem, nav_for};
use crate::routes::static_files::{ASSETS, Assets};

/// Fields of `base.html`. Every page template has a `layout: Layout` field.
pub(crate) struct Layout {
    /// This response's CSP nonce, for the inline script of the layout.
    pub nonce: Arc<str>,
    /// Main navigation.
    pub nav: Vec<NavItem>,
    /// One-shot messages.
    pub flashes: Vec<Flash>,
    /// Versioned asset URLs.
    pub assets: &'static Assets,
}

impl Layout {
    /// The layout for a signed-out viewer on `path`.
    pub(crate) fn anonymous(ctx: &RequestContext, path: &str) -> Self {
        Self {
            nonce: Arc::clone(&ctx.nonce),
            nav: nav_for(None, path),
            flashes: Vec::new(),
            assets: &ASSETS,
        }
    }

    /// With one-shot messages.
    pub(crate) fn with_flashes(mut self, flashes: Vec<Flash>) -> Self {
        self.flashes = flashes;
        self
    }
}

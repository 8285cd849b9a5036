//! The data every page's base layout needs.

use std::sync::Arc;

use crate::assets::{ASSETS, Assets};
use crate::context::RequestContext;
use crate::flash::Flash;
use crate::pages::nav::{NavItem, nav_for};
use crate::session::{SignedInViewer, Viewer};

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
    /// Whether the sign-out button is shown.
    pub signed_in: bool,
    /// The session's anti-forgery token (empty without a session), for the sign-out form.
    pub csrf: String,
    /// Unread notifications, shown beside the navigation's Notifications link (0: no badge).
    pub unread: u32,
}

impl Layout {
    /// The layout for a signed-out viewer on `path` (error pages).
    pub(crate) fn anonymous(ctx: &RequestContext, path: &str) -> Self {
        Self {
            nonce: Arc::clone(&ctx.nonce),
            nav: nav_for(None, path),
            flashes: Vec::new(),
            assets: &ASSETS,
            signed_in: false,
            csrf: String::new(),
            unread: 0,
        }
    }

    /// The layout of an error page: the signed-in navigation when the response says who was
    /// signed in ([`SignedInViewer`]), else the anonymous one.
    pub(crate) fn for_error(ctx: &RequestContext, viewer: Option<&SignedInViewer>) -> Self {
        match viewer {
            Some(viewer) => Self {
                nav: nav_for(Some(viewer.role), ""),
                signed_in: true,
                csrf: viewer.csrf.clone(),
                ..Self::anonymous(ctx, "")
            },
            None => Self::anonymous(ctx, ""),
        }
    }

    /// The layout for `viewer` on `path`.
    pub(crate) fn for_viewer(ctx: &RequestContext, viewer: &Viewer, path: &str) -> Self {
        let csrf = viewer
            .handle
            .current()
            .session()
            .map(|s| s.csrf().encode())
            .unwrap_or_default();
        Self {
            nonce: Arc::clone(&ctx.nonce),
            nav: nav_for(viewer.role(), path),
            flashes: Vec::new(),
            assets: &ASSETS,
            signed_in: viewer.user.is_some(),
            csrf,
            unread: viewer.unread,
        }
    }

    /// With one-shot messages.
    pub(crate) fn with_flashes(mut self, flashes: Vec<Flash>) -> Self {
        self.flashes = flashes;
        self
    }
}

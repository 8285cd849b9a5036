//! `GET /`: what WildID does, and the way in.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum_extra::extract::SignedCookieJar;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash;
use crate::pages::layout::Layout;
use crate::session::Viewer;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    layout: Layout,
}

pub(crate) async fn landing(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<impl IntoResponse, AppError> {
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = Landing {
        layout: Layout::for_viewer(&ctx, &viewer, "/").with_flashes(flashes),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("landing page: {e}")))?;
    Ok((jar, Html(html)))
}

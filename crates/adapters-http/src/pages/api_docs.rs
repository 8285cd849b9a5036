//! `GET /api/docs`: the interactive API reference, Swagger UI over `/api/openapi.json`, with
//! every script and style served by WildID (no other origin in the CSP).

use askama::Template;
use axum::Extension;
use axum::http::StatusCode;
use axum::response::Response;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::Viewer;

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    layout: Layout,
}

pub(crate) async fn page(
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    render(
        &ApiDocsPage {
            layout: Layout::for_viewer(&ctx, &viewer, "/api/docs"),
        },
        StatusCode::OK,
    )
}

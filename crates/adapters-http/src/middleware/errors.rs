//! Rendering of every error response: JSON `{"error", "message"}` under `/api`, the error page
//! elsewhere. Bodies produced by the framework (plain-text rejections, panics) are replaced, so
//! nothing internal reaches a client.

use askama::Template;
use axum::Json;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

use crate::context::RequestContext;
use crate::error::ErrorInfo;
use crate::pages::layout::Layout;
use crate::session::SignedInViewer;

/// Marks an error response whose body is deliberate (a probe's JSON, an API answer of an
/// agreed shape) and must be passed through unchanged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepBody;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    info: &'a ErrorInfo,
    request_id: String,
}

pub(crate) fn render(response: Response, api: bool, ctx: &RequestContext) -> Response {
    let info = response
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo::for_status(response.status()));
    let viewer = response.extensions().get::<SignedInViewer>().cloned();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let body = if api {
        Json(serde_json::json!({ "error": info.code, "message": info.message })).into_response()
    } else {
        let page = ErrorPage {
            layout: Layout::for_error(ctx, viewer.as_ref()),
            info: &info,
            request_id: ctx.request_id.to_string(),
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (
                    [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                    info.message.to_string(),
                )
                    .into_response()
            }
        }
    };
    let (body_parts, body) = body.into_parts();
    parts.headers.extend(body_parts.headers);
    Response::from_parts(parts, body)
}

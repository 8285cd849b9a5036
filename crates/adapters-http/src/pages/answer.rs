//! How a page answers: a template rendered with its status (a form shown again with its error
//! is the answer itself, kept by the error middleware), the parts of a refusal to show on that
//! form, and the `Retry-After` of a throttled one. Every page uses these; no page imports
//! another page for them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;
use crate::middleware::errors::KeepBody;

/// `template` rendered, answered with `status`.
pub(crate) fn render(template: &impl Template, status: StatusCode) -> Result<Response, AppError> {
    let html = template
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    let mut response = (status, Html(html)).into_response();
    if status != StatusCode::OK {
        // A form shown again with its error is the answer itself, not an error page.
        response.extensions_mut().insert(KeepBody);
    }
    Ok(response)
}

/// The status, message and retry delay of a refusal; anything else is passed on.
pub(crate) fn refusal(error: AppError) -> Result<(StatusCode, String, Option<i64>), AppError> {
    match error {
        AppError::Refused {
            status,
            message,
            retry_after,
            ..
        } => Ok((status, message, retry_after)),
        other => Err(other),
    }
}

/// `response` with `Retry-After: retry_after` seconds (at least 1), when there is a delay.
pub(crate) fn with_retry_after(mut response: Response, retry_after: Option<i64>) -> Response {
    if let Some(seconds) = retry_after
        && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(1).to_string())
    {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

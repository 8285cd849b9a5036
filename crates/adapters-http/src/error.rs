//! HTTP errors, in one place: every use-case error becomes an [`AppError`] here, and every
//! `AppError` (and every error status produced by the framework) is rendered by the frame
//! middleware, as JSON `{"error", "message"}` under `/api` and as an HTML page elsewhere.
//! Clients never see a stack trace, SQL, a file path or a configuration name: internal causes
//! are logged with the request id and answered generically.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wildid_ports::services::audit::RecordAuditError;

/// What the frame middleware renders for an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Status.
    pub status: StatusCode,
    /// Stable snake_case code for programs.
    pub code: Cow<'static, str>,
    /// Sentence for people.
    pub message: Cow<'static, str>,
}

impl ErrorInfo {
    /// The generic answer for a status (used for errors raised by the framework itself, whose
    /// own texts are never passed on).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "The request is malformed."),
            401 => ("unauthorized", "Sign in to continue."),
            403 => ("forbidden", "You are not allowed to do this."),
            404 => ("not_found", "There is nothing at this address."),
            405 => ("method_not_allowed", "This method is not allowed here."),
            408 => ("request_timeout", "The request took too long."),
            413 => ("payload_too_large", "The request body is too large."),
            415 => (
                "unsupported_media_type",
                "This content type is not accepted here.",
            ),
            422 => (
                "unprocessable_entity",
                "The request could not be processed.",
            ),
            429 => (
                "too_many_requests",
                "Too many requests. Please wait and try again.",
            ),
            503 => (
                "unavailable",
                "The service is temporarily unavailable. Please try again shortly.",
            ),
            s if s >= 500 => ("internal_error", "Something went wrong on our side."),
            _ => ("error", "The request failed."),
        };
        Self {
            status,
            code: Cow::Borrowed(code),
            message: Cow::Borrowed(message),
        }
    }
}

/// An error a handler returns.
#[derive(Debug)]
pub enum AppError {
    /// 400 with a code and a message naming the problem.
    BadRequest(&'static str, String),
    /// 404.
    NotFound,
    /// 503: a dependency is down.
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The cause is logged, not shown.
    Internal(String),
}

impl AppError {
    fn info(&self) -> ErrorInfo {
        match self {
            AppError::BadRequest(code, message) => ErrorInfo {
                status: StatusCode::BAD_REQUEST,
                code: Cow::Borrowed(code),
                message: Cow::Owned(message.clone()),
            },
            AppError::NotFound => ErrorInfo::for_status(StatusCode::NOT_FOUND),
            AppError::Unavailable(_) => ErrorInfo::for_status(StatusCode::SERVICE_UNAVAILABLE),
            AppError::Internal(_) => ErrorInfo::for_status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::BadRequest(..) | AppError::NotFound => {}
        }
        let info = self.info();
        let mut response = info.status.into_response();
        response.extensions_mut().insert(info);
        response
    }
}

impl From<RecordAuditError> for AppError {
    fn from(e: RecordAuditError) -> Self {
        AppError::Unavailable(format!("{e}: {}", e.0))
    }
}

//! HTTP errors, in one place: every use-case error becomes an [`AppError`] here, every refusal
//! the adapter gives on its own (a malformed body, a form field it cannot read, an edge check)
//! is a named constructor here with its status, code and message, and every `AppError` (and
//! every error status produced by the framework) is rendered by the frame middleware, as JSON
//! `{"error", "message"}` under `/api` and as an HTML page elsewhere. Clients never see a stack
//! trace, SQL, a file path or a configuration name: internal causes are logged with the
//! request id and answered generically.
//!
//! By area: `requests` (the edge, the request limit, JSON, query and multipart bodies, CSP
//! reports), `uploads` (the identify form's photo and sighting fields), `identify` (photos,
//! the journal, the human check), `accounts` (sign-in, sessions, administration) and `visits`.
//! `AppError::refused` is private to this module: elsewhere a refusal is called by its name.

mod accounts;
mod identify;
mod requests;
mod uploads;
mod visits;

pub(crate) use visits::purge_running;

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

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
    /// A refusal with its own status, code and message (validation, throttling, sign-in
    /// failures), optionally with `Retry-After` seconds.
    Refused {
        /// Status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Message for people.
        message: String,
        /// Seconds after which a retry may succeed.
        retry_after: Option<i64>,
    },
    /// 400 with a code and a message naming the problem.
    BadRequest(&'static str, String),
    /// 401: sign in first.
    Unauthorized,
    /// 403: signed in, but not allowed.
    Forbidden,
    /// 403: the anti-forgery check failed (nothing says why, to help no one guess).
    CsrfFailed,
    /// 303 to a local path (a page that needs another step first).
    Redirect(String),
    /// 404.
    NotFound,
    /// 413.
    PayloadTooLarge,
    /// 503: a dependency is down.
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The cause is logged, not shown.
    Internal(String),
}

impl AppError {
    fn info(&self) -> ErrorInfo {
        match self {
            AppError::Refused {
                status,
                code,
                message,
                ..
            } => ErrorInfo {
                status: *status,
                code: Cow::Borrowed(code),
                message: Cow::Owned(message.clone()),
            },
            AppError::BadRequest(code, message) => ErrorInfo {
                status: StatusCode::BAD_REQUEST,
                code: Cow::Borrowed(code),
                message: Cow::Owned(message.clone()),
            },
            AppError::Unauthorized => ErrorInfo::for_status(StatusCode::UNAUTHORIZED),
            AppError::Forbidden => ErrorInfo::for_status(StatusCode::FORBIDDEN),
            AppError::CsrfFailed => ErrorInfo {
                status: StatusCode::FORBIDDEN,
                code: Cow::Borrowed("csrf_failed"),
                message: Cow::Borrowed(
                    "The request could not be verified. Reload the page and try again.",
                ),
            },
            AppError::Redirect(_) => ErrorInfo::for_status(StatusCode::SEE_OTHER),
            AppError::NotFound => ErrorInfo::for_status(StatusCode::NOT_FOUND),
            AppError::PayloadTooLarge => ErrorInfo::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            AppError::Unavailable(_) => ErrorInfo::for_status(StatusCode::SERVICE_UNAVAILABLE),
            AppError::Internal(_) => ErrorInfo::for_status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

/// The `Retry-After` of a 503: long enough not to hammer a recovering database, short enough
/// for a person who tries again.
const UNAVAILABLE_RETRY_AFTER_SECONDS: i64 = 5;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Redirect(location) = &self {
            return axum::response::Redirect::to(location).into_response();
        }
        match &self {
            AppError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Refused { .. }
            | AppError::BadRequest(..)
            | AppError::NotFound
            | AppError::Unauthorized
            | AppError::Forbidden
            | AppError::CsrfFailed
            | AppError::PayloadTooLarge
            | AppError::Redirect(_) => {}
        }
        let info = self.info();
        let mut response = info.status.into_response();
        let retry_after = match &self {
            AppError::Refused {
                retry_after: Some(seconds),
                ..
            } => Some(*seconds.max(&1)),
            // A dependency down or out of room: worth trying again soon, not at once.
            AppError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(info);
        response
    }
}

impl AppError {
    /// A refusal without `Retry-After`.
    fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn too_many(retry_after: i64) -> Self {
        AppError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            message: "Too many requests. Please wait and try again.".into(),
            retry_after: Some(retry_after),
        }
    }
}

/// `text` with its first letter in upper case (domain messages start in lower case).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Messages from the core start lower case; ours are sentences.
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

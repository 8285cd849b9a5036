//! The request itself, before any use case sees it: the edge checks (host, CORS, HTTPS), the
//! request limit, JSON bodies and query strings, multipart bodies, and CSP reports.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;

use super::AppError;

impl AppError {
    /// 400 `host_not_allowed`: the `Host` is not one this server answers for (never echoed).
    pub(crate) fn host_not_allowed() -> Self {
        AppError::BadRequest(
            "host_not_allowed",
            "This server does not answer for that host name.".into(),
        )
    }

    /// 403 `cors_origin_not_allowed`: a preflight from an origin that is not allowed.
    pub(crate) fn cors_origin_not_allowed() -> Self {
        AppError::refused(
            StatusCode::FORBIDDEN,
            "cors_origin_not_allowed",
            "This origin may not call the API.",
        )
    }

    /// 400 `bad_request`: a request that cannot even be redirected (its path and query make
    /// no header value).
    pub(crate) fn malformed_request() -> Self {
        AppError::BadRequest("bad_request", "The request is malformed.".into())
    }

    /// 429 `too_many_requests`: the client's network reached a request limit of its route
    /// group.
    pub(crate) fn too_many_from_network(retry_after: i64) -> Self {
        AppError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            message: "Too many requests from your network. Please wait and try again.".into(),
            retry_after: Some(retry_after),
        }
    }

    /// 400 `unsupported_media_type`: a CSP report in another content type.
    pub(crate) fn csp_report_media_type() -> Self {
        AppError::BadRequest(
            "unsupported_media_type",
            "CSP reports must be sent as application/csp-report or application/reports+json".into(),
        )
    }

    /// 400 `invalid_report`: a CSP report that is not JSON.
    pub(crate) fn csp_report_not_json() -> Self {
        AppError::BadRequest("invalid_report", "the report is not valid JSON".into())
    }

    /// 400 `invalid_report`: a CSP report with no violation in it.
    pub(crate) fn csp_report_without_violation() -> Self {
        AppError::BadRequest(
            "invalid_report",
            "no CSP violation found in the report".into(),
        )
    }
}

/// A JSON body that cannot be read: 415 without `Content-Type: application/json`, 400 for a
/// syntax error, 422 naming the field for a type error, a missing or an unknown field, 413
/// beyond the body limit.
impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            JsonRejection::JsonSyntaxError(_) => AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "The body is not valid JSON.",
            ),
            JsonRejection::JsonDataError(e) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                describe(&e.body_text()),
            ),
            JsonRejection::BytesRejection(_) => AppError::PayloadTooLarge,
            _ => AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "The body could not be read.",
            ),
        }
    }
}

/// A query string that cannot be read: 400 `invalid_query` naming the parameter.
impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::refused(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            describe(&rejection.body_text()),
        )
    }
}

/// A multipart body that ends early or breaks the format (400 `malformed_upload`), or passes
/// the upload limit (413).
impl From<MultipartError> for AppError {
    fn from(e: MultipartError) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::refused(
                StatusCode::BAD_REQUEST,
                "malformed_upload",
                "The upload is not well-formed multipart/form-data.",
            )
        }
    }
}

/// serde's message without axum's preamble: "email: invalid type: integer `5`, expected a
/// string at line 1 column 10" becomes "Field email: invalid type: integer `5`, expected a
/// string."
fn describe(text: &str) -> String {
    let detail = text
        .split_once("target type: ")
        .or_else(|| text.split_once("Failed to deserialize query string: "))
        .map_or(text, |(_, rest)| rest);
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    let sentence = match detail.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') => format!("Field {field}: {rest}"),
        _ => {
            let mut s = detail.to_owned();
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            s
        }
    };
    format!("{}.", sentence.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn messages_name_the_field() {
        assert_eq!(
            describe(
                "Failed to deserialize the JSON body into the target type: email: invalid type: integer `5`, expected a string at line 1 column 10"
            ),
            "Field email: invalid type: integer `5`, expected a string."
        );
        assert_eq!(
            describe(
                "Failed to deserialize the JSON body into the target type: unknown field `admin`, expected one of `email`, `password` at line 1 column 9"
            ),
            "Unknown field `admin`, expected one of `email`, `password`."
        );
        assert_eq!(
            describe(
                "Failed to deserialize the JSON body into the target type: missing field `password` at line 1 column 20"
            ),
            "Missing field `password`."
        );
        assert_eq!(
            describe("Failed to deserialize query string: limit: invalid digit found in string"),
            "Field limit: invalid digit found in string."
        );
    }
}

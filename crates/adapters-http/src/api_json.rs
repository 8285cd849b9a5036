//! JSON request bodies for the API: `Content-Type: application/json` required (415), syntax
//! errors answered 400, and type errors, missing fields and unknown fields (every request type
//! denies them) answered 422 with a message naming the field. Query strings likewise: 400
//! `invalid_query` naming the parameter. The anti-forgery field a body may carry is passed
//! over ([`without_token`]), since the CSRF layer hands bodies on as they came.

mod without_token;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use without_token::WithoutToken;

/// A JSON body of type `T`.
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<WithoutToken<T>>::from_request(request, state).await {
            Ok(Json(WithoutToken(value))) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
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
            }),
        }
    }
}

/// A query string of type `T`.
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                describe(&rejection.body_text()),
            )),
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

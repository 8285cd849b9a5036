//! JSON request bodies for the API: `Content-Type: application/json` required (415), syntax
//! errors answered 400, and type errors, missing fields and unknown fields (every request type
//! denies them) answered 422 with a message naming the field. Query strings likewise: 400
//! `invalid_query` naming the parameter. The refusals are written in `error::requests`. The
//! anti-forgery field a body may carry is passed over ([`without_token`]), since the CSRF
//! layer hands bodies on as they came.

mod without_token;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
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
        let Json(WithoutToken(value)) =
            Json::<WithoutToken<T>>::from_request(request, state).await?;
        Ok(ApiJson(value))
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
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

//! The JSON API of the user's profile: the display name.

use axum::Json;
use axum::extract::State;

use crate::api_json::ApiJson;
use crate::api_types::{DisplayNameBody, DisplayNameRequest, ErrorBody};
use crate::error::AppError;
use crate::kit::requester;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// Sets the display name (cleaned: markup and control characters removed, at most 60
/// characters), or clears it with null or a blank string.
#[utoipa::path(put, path = "/api/account/display-name", tag = "account", request_body = DisplayNameRequest,
    responses(
        (status = 200, body = DisplayNameBody, description = "What is stored now"),
        (status = 400, body = ErrorBody, description = "Malformed JSON or an unknown field"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 422, body = ErrorBody, description = "invalid_display_name: too long, or nothing left after cleaning"),
    ))]
pub(crate) async fn set_display_name(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    ApiJson(body): ApiJson<DisplayNameRequest>,
) -> Result<Json<DisplayNameBody>, AppError> {
    let saved = state
        .services
        .accounts
        .set_display_name(
            &signed_in.user,
            body.display_name.as_deref(),
            requester(&viewer),
        )
        .await?;
    Ok(Json(DisplayNameBody {
        display_name: saved.map(|n| n.as_str().to_owned()),
    }))
}

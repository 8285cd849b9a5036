//! How a finished sign-in is answered, for pages and JSON alike: the browser takes on the new
//! session ([`SessionHandle::adopt`](crate::session::SessionHandle::adopt)); a page then says
//! so and goes on, the JSON API returns the user and the session's anti-forgery token.

use axum::Json;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use wildid_ports::services::sign_ins::{SignInPlace, SignedIn};

use super::requester;
use crate::api_types::{SignedInBody, UserView};
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::session::{SessionHandle, Viewer};
use crate::state::AppState;

/// Where a sign-in from `viewer`'s request happens.
pub(crate) fn place(viewer: &Viewer) -> SignInPlace {
    viewer.handle.place(requester(viewer))
}

/// A page's answer to a sign-in: the new session, "You are signed in.", and on to `next` (a
/// local path the caller has checked).
pub(crate) fn welcome_page(
    state: &AppState,
    handle: &SessionHandle,
    jar: SignedCookieJar,
    signed: SignedIn,
    next: &str,
) -> Response {
    handle.adopt(signed);
    let jar = flash::push(
        jar,
        &state.settings,
        FlashKind::Success,
        "You are signed in.",
    );
    (jar, Redirect::to(next)).into_response()
}

/// The JSON API's answer to a sign-in: the new session, the user and its anti-forgery token.
pub(crate) fn welcome_body(
    state: &AppState,
    handle: &SessionHandle,
    signed: SignedIn,
) -> Result<Json<SignedInBody>, AppError> {
    let profile = state.services.accounts.profile(&signed.user)?;
    let session = handle.adopt(signed);
    Ok(Json(SignedInBody {
        user: UserView::from(&profile),
        csrf_token: session.csrf().encode(),
    }))
}

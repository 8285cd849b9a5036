//! Deleting one's own account (`POST /account/delete`, fresh): everything in it goes in one
//! transaction (`Admin::delete_account`), the browser's session cookie is cleared, and the
//! person lands on the home page with a message. The form asks for a ticked confirmation, so a
//! stray tap deletes nothing.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_ports::services::admin::Deleter;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::requester;
use crate::pages::account::{FormProblems, refused_on_account_page};
use crate::session::{Fresh, Viewer};
use crate::state::AppState;

/// The deletion form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct DeleteForm {
    /// `yes` when the box is ticked.
    confirm: String,
}

/// `POST /account/delete` (fresh).
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    jar: SignedCookieJar,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    if form.confirm != "yes" {
        let refused = AppError::deletion_not_confirmed();
        return refused_on_account_page(&state, &ctx, &viewer, &signed_in, refused, |message| {
            FormProblems {
                delete_account: message,
                ..FormProblems::default()
            }
        })
        .await;
    }
    state
        .services
        .admin
        .delete_account(Deleter::Owner, signed_in.user.id(), requester(&viewer))
        .await?;
    state.journal_pages.forget(signed_in.user.id());
    // The session went with the account; the browser forgets its cookie.
    signed_in.handle.forget();
    let jar = flash::push(
        jar,
        &state.settings,
        FlashKind::Success,
        "Your account is deleted, with your identifications, photos, feedback and sessions.",
    );
    Ok((jar, Redirect::to("/")).into_response())
}

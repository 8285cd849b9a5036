//! The account page's display-name form.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::requester;
use crate::pages::account::{FormProblems, refused_on_account_page};
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct DisplayNameForm {
    display_name: String,
}

/// `POST /account/display-name`: saves the cleaned name (an empty field removes it) and goes
/// back to the account page; a refused name is shown again beside its error.
pub(crate) async fn save(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<DisplayNameForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .set_display_name(
            &signed_in.user,
            Some(&form.display_name),
            requester(&viewer),
        )
        .await
    {
        Ok(saved) => {
            let message = if saved.is_some() {
                "Your display name is saved."
            } else {
                "Your display name is removed."
            };
            let jar = flash::push(jar, &state.settings, FlashKind::Success, message);
            Ok((jar, Redirect::to("/account")).into_response())
        }
        Err(e) => {
            refused_on_account_page(&state, &ctx, &viewer, &signed_in, e.into(), |message| {
                FormProblems {
                    display_name: message,
                    display_name_input: form.display_name,
                    ..FormProblems::default()
                }
            })
            .await
        }
    }
}

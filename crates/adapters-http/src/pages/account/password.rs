//! Setting a new password.

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::secret::SecretString;

use super::{FormProblems, back_to_account, refused_on_account_page};
use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::FlashKind;
use crate::kit::requester;
use crate::session::{Fresh, Viewer};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    new_password: String,
    end_other_sessions: String,
}

/// `POST /account/password` (fresh).
pub(crate) async fn password(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    jar: SignedCookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let password = SecretString::new(form.new_password);
    match state
        .services
        .accounts
        .change_password(&signed_in.user, &password, requester(&viewer))
        .await
    {
        Ok(()) => {
            back_to_account(
                &state,
                signed_in,
                form.end_other_sessions == "true",
                jar,
                FlashKind::Success,
                "Your password is saved.",
            )
            .await
        }
        Err(e) => {
            refused_on_account_page(&state, &ctx, &viewer, &signed_in, e.into(), |message| {
                FormProblems {
                    password: message,
                    ..FormProblems::default()
                }
            })
            .await
        }
    }
}

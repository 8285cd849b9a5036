//! The account page and its sensitive changes, one file each: re-authentication
//! ([`reauth`]), the second factor and recovery codes ([`second_factor`]), the password
//! ([`password`]), deleting the account ([`closure`]); the page itself, its form problems and the session list are here. Changes
//! of credentials need a fresh authentication (the `Fresh` extractor) and replace the session
//! id. The address change is in `pages::email_change`, the display name in `pages::profile`.

mod closure;
mod export;
mod password;
mod reauth;
mod second_factor;

pub(crate) use closure::delete_account;
pub(crate) use export::export;
pub(crate) use password::password;
pub(crate) use reauth::{reauth, reauth_form};
pub(crate) use second_factor::{recovery_codes, totp_disable, totp_enable, totp_form};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::audit::Actor;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::{after_credential_change, session_key};
use crate::pages::answer::{refusal, render, with_retry_after};
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

struct SessionRow {
    id: String,
    device: String,
    network: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    display_name: String,
    email: String,
    role: &'static str,
    email_verified: bool,
    has_password: bool,
    totp_enabled: bool,
    totp_required: bool,
    member_since: String,
    sessions: Vec<SessionRow>,
    problems: FormProblems,
}

/// Inline errors of the account page's forms (empty: none).
#[derive(Default)]
pub(crate) struct FormProblems {
    /// Of the password form.
    pub password: String,
    /// Of the address form.
    pub email: String,
    /// The address typed into the address form, shown again with its error.
    pub new_email: String,
    /// Of the display-name form.
    pub display_name: String,
    /// What was typed into the display-name form (the stored name when there is no error).
    pub display_name_input: String,
    /// Of the account deletion form.
    pub delete_account: String,
}

/// The account page, with `flashes` on top and `problems` beside their forms.
pub(crate) async fn account_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    flashes: Vec<crate::flash::Flash>,
    problems: FormProblems,
    status: StatusCode,
) -> Result<Response, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    let sessions = state
        .services
        .sessions
        .list(signed_in.user.id())
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: hex::encode(s.key().as_bytes()),
            device: s.device().unwrap_or("Unknown browser").to_owned(),
            network: s.coarse_ip().unwrap_or_default().to_owned(),
            last_seen: s.last_seen_at().format("%Y-%m-%d %H:%M").to_string(),
            current: s.key() == signed_in.session.key(),
        })
        .collect();
    let display_name = profile.display_name.unwrap_or_default();
    let problems = if problems.display_name.is_empty() {
        FormProblems {
            display_name_input: display_name.clone(),
            ..problems
        }
    } else {
        problems
    };
    let page = AccountPage {
        layout: Layout::for_viewer(ctx, viewer, "/account").with_flashes(flashes),
        display_name,
        email: profile.email,
        role: profile.role.as_str(),
        email_verified: profile.email_verified,
        has_password: profile.has_password,
        totp_enabled: profile.totp_enabled,
        totp_required: state.settings.totp_required_roles.contains(&profile.role),
        member_since: profile.created_at.format("%Y-%m-%d").to_string(),
        sessions,
        problems,
    };
    render(&page, status)
}

/// The account page again after a refused form: the error's message goes beside its form
/// (`place` builds the problems from it), with the error's status and `Retry-After`.
pub(crate) async fn refused_on_account_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    error: AppError,
    place: impl FnOnce(String) -> FormProblems,
) -> Result<Response, AppError> {
    let (status, message, retry_after) = refusal(error)?;
    let page = account_page(
        state,
        ctx,
        viewer,
        signed_in,
        Vec::new(),
        place(message),
        status,
    )
    .await?;
    Ok(with_retry_after(page, retry_after))
}

/// After a credential changed: the session id is replaced (and the other sessions end if
/// asked), and the browser goes back to the account page with `message`.
pub(crate) async fn back_to_account(
    state: &AppState,
    signed_in: SignedIn,
    end_others: bool,
    jar: SignedCookieJar,
    kind: FlashKind,
    message: &str,
) -> Result<Response, AppError> {
    after_credential_change(state, signed_in, end_others).await?;
    let jar = flash::push(jar, &state.settings, kind, message);
    Ok((jar, Redirect::to("/account")).into_response())
}

/// `GET /account`.
pub(crate) async fn account(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let (jar, flashes) = flash::take(jar, &state.settings);
    Ok((
        jar,
        account_page(
            &state,
            &ctx,
            &viewer,
            &signed_in,
            flashes,
            FormProblems::default(),
            StatusCode::OK,
        )
        .await?,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RevokeForm {
    id: String,
    all_others: String,
}

/// `POST /account/sessions/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    signed_in: SignedIn,
    jar: SignedCookieJar,
    Form(form): Form<RevokeForm>,
) -> Result<Response, AppError> {
    let sessions = &state.services.sessions;
    let client = signed_in.handle.client();
    let message = if form.all_others == "true" {
        let n = sessions
            .revoke_others(
                Actor::User(signed_in.user.id()),
                signed_in.user.id(),
                Some(signed_in.session.key()),
                client.origin(),
            )
            .await?;
        format!("Signed out of {n} other session(s).")
    } else {
        let key = session_key(&form.id).ok_or_else(AppError::not_a_session_id)?;
        if sessions.revoke(signed_in.user.id(), &key, client).await? {
            "That session is signed out.".into()
        } else {
            "That session had already ended.".into()
        }
    };
    let jar = flash::push(jar, &state.settings, FlashKind::Success, &message);
    Ok((jar, Redirect::to("/account")).into_response())
}

//! The account page and its sensitive changes: re-authentication, the second factor, recovery
//! codes, the password, and ending sessions. Changes of credentials need a fresh
//! authentication (the `Fresh` extractor) and replace the session id. The address change is in
//! `email_change`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use base64::Engine as _;
use serde::Deserialize;
use wildid_domain::audit::Actor;
use wildid_domain::secret::SecretString;
use wildid_ports::services::accounts::{ReauthError, TotpError};

use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::requester;
use crate::kit::safe_next;
use crate::kit::{after_credential_change, end_other_sessions, session_key};
use crate::middleware::frame::RequestContext;
use crate::pages::auth::{refusal, render, with_retry_after};
use crate::pages::layout::Layout;
use crate::session::{Fresh, SignedIn, Viewer};
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
        .list(signed_in.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: hex::encode(s.key.as_bytes()),
            device: s.device.clone().unwrap_or_else(|| "Unknown browser".into()),
            network: s.coarse_ip.clone().unwrap_or_default(),
            last_seen: s.last_seen_at.format("%Y-%m-%d %H:%M").to_string(),
            current: s.key == signed_in.session.key,
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

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    layout: Layout,
    next: String,
    error: String,
    has_password: bool,
    totp: bool,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NextQuery {
    next: String,
}

async fn reauth_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    next: String,
    error: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    let page = ReauthPage {
        layout: Layout::for_viewer(ctx, viewer, "/auth/reauth"),
        next,
        error,
        has_password: profile.has_password,
        totp: profile.totp_enabled,
        email: profile.email,
    };
    render(&page, status)
}

/// `GET /auth/reauth?next=`.
pub(crate) async fn reauth_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    reauth_page(
        &state,
        &ctx,
        &viewer,
        &signed_in,
        safe_next(&query.next),
        String::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ReauthForm {
    password: String,
    totp_code: String,
    next: String,
}

/// `POST /auth/reauth`.
pub(crate) async fn reauth(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    signed_in: SignedIn,
    Form(form): Form<ReauthForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next);
    let code = Some(form.totp_code.trim()).filter(|c| !c.is_empty());
    let password = SecretString::new(form.password);
    match state
        .services
        .accounts
        .reauthenticate(&signed_in.user, &password, code, requester(&viewer))
        .await
    {
        Ok(()) => {
            signed_in.handle.sign_in(signed_in.user).await?;
            Ok(Redirect::to(&next).into_response())
        }
        Err(ReauthError::Unavailable(cause)) => Err(AppError::Unavailable(cause)),
        Err(e) => {
            let (status, message, retry_after) = refusal(AppError::from(e))?;
            Ok(with_retry_after(
                reauth_page(&state, &ctx, &viewer, &signed_in, next, message, status).await?,
                retry_after,
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct TotpSetupPage {
    layout: Layout,
    pending: String,
    secret: String,
    qr_data_url: String,
    error: String,
}

fn qr_data_url(content: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(content.as_bytes())
        .map_err(|e| AppError::Internal(format!("qr code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

async fn totp_setup_page(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    signed_in: &SignedIn,
    error: String,
    status: StatusCode,
    resume: Option<&str>,
) -> Result<Response, AppError> {
    let accounts = &state.services.accounts;
    // After a wrong code the same secret is shown again: the user has scanned it already.
    let enrolment = match resume.map(|pending| accounts.resume_totp(&signed_in.user, pending)) {
        Some(Ok(enrolment)) => enrolment,
        _ => accounts.begin_totp(&signed_in.user)?,
    };
    let page = TotpSetupPage {
        layout: Layout::for_viewer(ctx, viewer, "/account"),
        pending: enrolment.pending,
        secret: enrolment.secret_base32.expose().clone(),
        qr_data_url: qr_data_url(enrolment.otpauth_url.expose())?,
        error,
    };
    render(&page, status)
}

/// `GET /account/totp` (fresh).
pub(crate) async fn totp_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
) -> Result<Response, AppError> {
    totp_setup_page(
        &state,
        &ctx,
        &viewer,
        &signed_in,
        String::new(),
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TotpForm {
    pending: String,
    code: String,
    end_other_sessions: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

fn recovery_page(
    ctx: &RequestContext,
    viewer: &Viewer,
    codes: Vec<String>,
) -> Result<Response, AppError> {
    render(
        &RecoveryCodesPage {
            layout: Layout::for_viewer(ctx, viewer, "/account"),
            codes,
        },
        StatusCode::OK,
    )
}

/// `POST /account/totp` (fresh): turns the second factor on, shows the recovery codes once.
pub(crate) async fn totp_enable(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    Form(form): Form<TotpForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .confirm_totp(
            &signed_in.user,
            &form.pending,
            &form.code,
            requester(&viewer),
        )
        .await
    {
        Ok(codes) => {
            let codes = codes.iter().map(|c| c.display().to_owned()).collect();
            after_credential_change(&state, signed_in, form.end_other_sessions == "true").await?;
            recovery_page(&ctx, &viewer, codes)
        }
        Err(e) => {
            let resume = matches!(e, TotpError::WrongCode).then_some(form.pending.as_str());
            let (status, message, _) = refusal(AppError::from(e))?;
            totp_setup_page(&state, &ctx, &viewer, &signed_in, message, status, resume).await
        }
    }
}

/// `POST /account/totp/disable` (fresh).
pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    jar: SignedCookieJar,
    Form(form): Form<EndOthersForm>,
) -> Result<Response, AppError> {
    state
        .services
        .accounts
        .disable_totp(&signed_in.user, requester(&viewer))
        .await?;
    back_to_account(
        &state,
        signed_in,
        form.end_other_sessions == "true",
        jar,
        FlashKind::Info,
        "Two-factor authentication is off.",
    )
    .await
}

/// The "sign out my other sessions" box of a form that needs nothing else.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EndOthersForm {
    end_other_sessions: String,
}

/// `POST /account/recovery-codes` (fresh).
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Fresh(signed_in): Fresh,
    Form(form): Form<EndOthersForm>,
) -> Result<Response, AppError> {
    let codes = state
        .services
        .accounts
        .regenerate_recovery_codes(&signed_in.user, requester(&viewer))
        .await?;
    if form.end_other_sessions == "true" {
        end_other_sessions(&state, &signed_in, signed_in.session.key).await?;
    }
    recovery_page(
        &ctx,
        &viewer,
        codes.iter().map(|c| c.display().to_owned()).collect(),
    )
}

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
                Actor::User(signed_in.user.id),
                signed_in.user.id,
                Some(signed_in.session.key),
                client.request_id,
            )
            .await?;
        format!("Signed out of {n} other session(s).")
    } else {
        let key = session_key(&form.id).ok_or_else(|| {
            AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "Not a session id.",
            )
        })?;
        if sessions.revoke(signed_in.user.id, &key, client).await? {
            "That session is signed out.".into()
        } else {
            "That session had already ended.".into()
        }
    };
    let jar = flash::push(jar, &state.settings, FlashKind::Success, &message);
    Ok((jar, Redirect::to("/account")).into_response())
}

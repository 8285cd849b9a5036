//! The sign-in, registration and address-confirmation pages. Forms post back to themselves;
//! a refused form is shown again with the reason (and the status code of the refusal), never
//! with the password.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::secret::SecretString;
use wildid_domain::token::TokenPurpose;
use wildid_ports::services::accounts::{Credentials, LoginError, RegisterError, Registration};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit;
use crate::kit::{requester, safe_next};
use crate::pages::answer::{refusal, render, with_retry_after};
use crate::pages::layout::Layout;
use crate::session::Viewer;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    next: String,
    error: String,
    email_error: String,
    totp_error: String,
    show_totp: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NextQuery {
    next: String,
}

pub(crate) async fn sign_in_page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(&query.next);
    if viewer.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    viewer.handle.ensure().await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = SignInPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/sign-in").with_flashes(flashes),
        email: String::new(),
        next,
        error: String::new(),
        email_error: String::new(),
        totp_error: String::new(),
        show_totp: false,
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SignInForm {
    email: String,
    password: String,
    totp_code: String,
    next: String,
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next);
    let totp_code = Some(form.totp_code.trim().to_owned()).filter(|c| !c.is_empty());
    let had_totp = totp_code.is_some();
    let credentials = Credentials {
        email: form.email.clone(),
        password: SecretString::new(form.password),
        totp_code,
    };
    let error = match state
        .services
        .sign_ins
        .with_password(credentials, &kit::place(&viewer))
        .await
    {
        Ok(signed) => {
            return Ok(kit::welcome_page(
                &state,
                &viewer.handle,
                jar,
                signed,
                &next,
            ));
        }
        Err(e) => e,
    };
    let show_totp = matches!(error, LoginError::TotpRequired) || had_totp;
    let is_email_problem = matches!(error, LoginError::InvalidEmail(_));
    let (status, message, retry_after) = refusal(AppError::from(error))?;
    let page = SignInPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/sign-in"),
        email: form.email,
        next,
        error: if is_email_problem || show_totp {
            String::new()
        } else {
            message.clone()
        },
        email_error: if is_email_problem {
            message.clone()
        } else {
            String::new()
        },
        totp_error: if show_totp && had_totp {
            message
        } else {
            String::new()
        },
        show_totp,
    };
    Ok(with_retry_after(render(&page, status)?, retry_after))
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    error: String,
    email_error: String,
    password_error: String,
    privacy_error: String,
    /// The privacy box was ticked (kept ticked when the form comes back refused).
    accepted_privacy: bool,
}

pub(crate) async fn register_page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    viewer.handle.ensure().await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = RegisterPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/register").with_flashes(flashes),
        email: String::new(),
        error: String::new(),
        email_error: String::new(),
        password_error: String::new(),
        privacy_error: String::new(),
        accepted_privacy: false,
    };
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RegisterForm {
    email: String,
    password: String,
    accept_privacy: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link_href: String,
    pub link_label: String,
}

pub(crate) async fn register(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    let registration = Registration {
        email: form.email.clone(),
        password: SecretString::new(form.password),
        accept_privacy: form.accept_privacy == "true" || form.accept_privacy == "on",
    };
    let error = match state
        .services
        .accounts
        .register(registration, requester(&viewer))
        .await
    {
        Ok(()) => {
            let page = MessagePage {
                layout: Layout::for_viewer(&ctx, &viewer, "/auth/register"),
                title: "Check your inbox".into(),
                paragraphs: vec![
                    format!(
                        "If {} can be used for a new account, we have sent a confirmation link to it.",
                        form.email.trim()
                    ),
                    format!(
                        "The link works once and expires in {}. Open it on this device, then sign in.",
                        state
                            .services
                            .accounts
                            .policy()
                            .tokens
                            .lifetime_text(TokenPurpose::EmailVerification)
                    ),
                ],
                link_href: "/auth/sign-in".into(),
                link_label: "Go to sign-in".into(),
            };
            return render(&page, StatusCode::OK);
        }
        Err(e) => e,
    };
    let field = match &error {
        RegisterError::InvalidEmail(_) => "email",
        RegisterError::WeakPassword(_) => "password",
        RegisterError::PrivacyNotAccepted => "privacy",
        RegisterError::RateLimited { .. } | RegisterError::Unavailable(_) => "",
    };
    let (status, message, retry_after) = refusal(AppError::from(error))?;
    let pick = |name: &str| {
        if field == name {
            message.clone()
        } else {
            String::new()
        }
    };
    let page = RegisterPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/register"),
        email: form.email,
        error: if field.is_empty() {
            message.clone()
        } else {
            String::new()
        },
        email_error: pick("email"),
        password_error: pick("password"),
        privacy_error: pick("privacy"),
        accepted_privacy: form.accept_privacy == "true" || form.accept_privacy == "on",
    };
    Ok(with_retry_after(render(&page, status)?, retry_after))
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub layout: Layout,
    pub title: String,
    pub explanation: String,
    pub action: String,
    pub token: String,
    pub button: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TokenQuery {
    pub(crate) token: String,
}

/// `GET /auth/verify?token=`: a page with a button. Opening the link changes nothing, so
/// mail scanners that prefetch links cannot use the token up.
pub(crate) async fn verify_page(
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AppError> {
    viewer.handle.ensure().await?;
    let page = ConfirmPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/verify"),
        title: "Confirm your email address".into(),
        explanation: "Press the button to confirm that this address belongs to you.".into(),
        action: "/auth/verify".into(),
        token: query.token,
        button: "Confirm my address".into(),
    };
    render(&page, StatusCode::OK)
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Form(form): Form<TokenQuery>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .verify_email(&form.token, requester(&viewer))
        .await
    {
        Ok(_) => {
            let jar = flash::push(
                jar,
                &state.settings,
                FlashKind::Success,
                "Your address is confirmed. You can sign in now.",
            );
            Ok((jar, Redirect::to("/auth/sign-in")).into_response())
        }
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            let page = MessagePage {
                layout: Layout::for_viewer(&ctx, &viewer, "/auth/verify"),
                title: "This link cannot be used".into(),
                paragraphs: vec![message],
                link_href: "/auth/resend".into(),
                link_label: "Send a new confirmation link".into(),
            };
            render(&page, status)
        }
    }
}

#[derive(Template)]
#[template(path = "resend.html")]
struct ResendPage {
    layout: Layout,
    email: String,
    email_error: String,
}

pub(crate) async fn resend_page(
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    viewer.handle.ensure().await?;
    let page = ResendPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/resend"),
        email: String::new(),
        email_error: String::new(),
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EmailForm {
    email: String,
}

pub(crate) async fn resend(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    match state
        .services
        .accounts
        .resend_verification(&form.email, requester(&viewer))
        .await
    {
        Ok(()) => {
            let page = MessagePage {
                layout: Layout::for_viewer(&ctx, &viewer, "/auth/resend"),
                title: "Check your inbox".into(),
                paragraphs: vec!["If this address has an unconfirmed account, a new confirmation link is on its way.".into()],
                link_href: "/auth/sign-in".into(),
                link_label: "Go to sign-in".into(),
            };
            render(&page, StatusCode::OK)
        }
        Err(e) => {
            let (status, message, retry_after) = refusal(AppError::from(e))?;
            let page = ResendPage {
                layout: Layout::for_viewer(&ctx, &viewer, "/auth/resend"),
                email: form.email,
                email_error: message,
            };
            Ok(with_retry_after(render(&page, status)?, retry_after))
        }
    }
}

/// `POST /auth/sign-out`: ends the session server-side.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    viewer.handle.sign_out().await?;
    let jar = flash::push(jar, &state.settings, FlashKind::Info, "You are signed out.");
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    layout: Layout,
}

pub(crate) async fn privacy(
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    render(
        &PrivacyPage {
            layout: Layout::for_viewer(&ctx, &viewer, "/privacy"),
        },
        StatusCode::OK,
    )
}

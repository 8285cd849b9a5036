//! Sign-in links: asking for one, and the page the link opens (a button that signs in, so a
//! mail scanner's prefetch uses nothing up).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::token::TokenPurpose;
use wildid_ports::services::accounts::{MagicLinkError, MagicLinkPreview};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::kit;
use crate::kit::requester;
use crate::pages::answer::{refusal, render, with_retry_after};
use crate::pages::auth::{MessagePage, TokenQuery};
use crate::pages::layout::Layout;
use crate::session::Viewer;
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LinkForm {
    link_email: String,
}

pub(crate) async fn request(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let (status, paragraphs, retry_after) = match state
        .services
        .accounts
        .request_magic_link(&form.link_email, requester(&viewer))
        .await
    {
        Ok(()) => (
            StatusCode::OK,
            vec![
                format!(
                    "If {} can be used, a sign-in link is on its way.",
                    form.link_email.trim()
                ),
                format!(
                    "It works once and expires in {}. If the address has no account yet, the link creates one.",
                    state
                        .services
                        .accounts
                        .policy()
                        .tokens
                        .lifetime_text(TokenPurpose::MagicLink)
                ),
            ],
            None,
        ),
        Err(e) => {
            let (status, message, retry_after) = refusal(AppError::from(e))?;
            (status, vec![message], retry_after)
        }
    };
    let page = MessagePage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/sign-in"),
        title: if status == StatusCode::OK {
            "Check your inbox".into()
        } else {
            "No link was sent".into()
        },
        paragraphs,
        link_href: "/auth/sign-in".into(),
        link_label: "Back to sign-in".into(),
    };
    Ok(with_retry_after(render(&page, status)?, retry_after))
}

#[derive(Template)]
#[template(path = "magic.html")]
struct MagicPage {
    layout: Layout,
    token: String,
    sign_up: bool,
    totp: bool,
    error: String,
}

fn invalid_link_page(
    ctx: &RequestContext,
    viewer: &Viewer,
    message: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = MessagePage {
        layout: Layout::for_viewer(ctx, viewer, "/auth/magic"),
        title: "This link cannot be used".into(),
        paragraphs: vec![message],
        link_href: "/auth/sign-in".into(),
        link_label: "Ask for a new link".into(),
    };
    render(&page, status)
}

/// `GET /auth/magic?token=`: shows what the link will do; changes nothing.
pub(crate) async fn open(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AppError> {
    viewer.handle.ensure().await?;
    let preview = match state
        .services
        .accounts
        .preview_magic_link(&query.token)
        .await
    {
        Ok(preview) => preview,
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            return invalid_link_page(&ctx, &viewer, message, status);
        }
    };
    let page = MagicPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/auth/magic"),
        token: query.token,
        sign_up: preview == MagicLinkPreview::SignUp,
        totp: preview == MagicLinkPreview::SignIn { totp: true },
        error: String::new(),
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RedeemForm {
    token: String,
    accept_privacy: String,
    totp_code: String,
}

/// `POST /auth/magic`: signs in (or up).
pub(crate) async fn redeem(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Form(form): Form<RedeemForm>,
) -> Result<Response, AppError> {
    let accept = form.accept_privacy == "true" || form.accept_privacy == "on";
    let code = Some(form.totp_code.trim()).filter(|c| !c.is_empty());
    match state
        .services
        .sign_ins
        .with_link(&form.token, accept, code, &kit::place(&viewer))
        .await
    {
        Ok(signed) => Ok(kit::welcome_page(&state, &viewer.handle, jar, signed, "/")),
        Err(error @ (MagicLinkError::PrivacyNotAccepted | MagicLinkError::TotpRequired)) => {
            let sign_up = matches!(error, MagicLinkError::PrivacyNotAccepted);
            let (status, message, retry_after) = refusal(AppError::from(error))?;
            let page = MagicPage {
                layout: Layout::for_viewer(&ctx, &viewer, "/auth/magic"),
                token: form.token,
                sign_up,
                totp: !sign_up,
                error: message,
            };
            Ok(with_retry_after(render(&page, status)?, retry_after))
        }
        Err(e) => {
            let (status, message, _) = refusal(AppError::from(e))?;
            invalid_link_page(&ctx, &viewer, message, status)
        }
    }
}

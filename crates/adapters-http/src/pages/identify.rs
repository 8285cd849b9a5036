//! The identification page (seed §6, §10, §11): a person uploads a photo and reads what the
//! animal is. It works without scripts: a plain `multipart/form-data` form whose first field
//! is the anti-forgery token (the CSRF layer reads it from the form, as for any other form).
//!
//! - `GET /identify`: the form, and the allowance this session has left.
//! - `POST /identify`: the same use case as `POST /api/identify`; the answer is the page with
//!   the result, or the form again with what to change. A session the adaptive limit holds is
//!   sent to the CAPTCHA page (`/security/check?next=/identify`), which returns it here once it
//!   passes.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use base64::Engine as _;
use wildid_domain::session::Session;
use wildid_ports::services::identify::{HELD_PHOTO_MINUTES, Identified, IdentifyFailure};
use wildid_ports::services::trust::AdmitError;

use crate::api_types::SpeciesView;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, Flash, FlashKind};
use crate::kit::UploadSlot;
use crate::kit::{IMAGE_FIELD, SightingFields, megabytes, photo_of};
use crate::pages::answer::{refusal, render, with_retry_after};
use crate::pages::layout::Layout;
use crate::session::Viewer;
use crate::state::AppState;
use NotIdentified::{Held, Shown};

pub(crate) const PATH: &str = "/identify";
/// Where a held session is sent: the CAPTCHA page, coming back here.
const CHECK: &str = "/security/check?next=%2Fidentify";

#[derive(Template)]
#[template(path = "identify.html")]
struct IdentifyPage {
    layout: Layout,
    field: &'static str,
    /// Whether a provider is configured (otherwise the form is not offered).
    available: bool,
    /// The upload limit, for the hint (`10 MB`).
    max_upload: String,
    /// Identifications this session has left in the window; `None` once trusted.
    remaining: Option<u32>,
    error: String,
    result: Option<SpeciesView>,
    provider: String,
    /// The checked photo the result is about, as a `data:` URL (never the upload's bytes).
    photo: Option<String>,
    /// The journal entry the answer was kept as (signed-in viewers).
    kept: Option<String>,
    /// What the sighting fields held when the form is shown again.
    sighting: SightingFields,
}

impl IdentifyPage {
    fn new(state: &AppState, layout: Layout, remaining: Option<u32>) -> Self {
        Self {
            layout,
            field: IMAGE_FIELD,
            available: state.services.identify.is_configured(),
            max_upload: megabytes(state.settings.max_upload_bytes as u64),
            remaining,
            error: String::new(),
            result: None,
            provider: String::new(),
            photo: None,
            kept: None,
            sighting: SightingFields::default(),
        }
    }
}

/// How many identifications the session has left before a quick check, as the next
/// identification will find it (its network's count included); `None` once trusted (then
/// only the per-network ceiling holds, and the page does not speak of a check).
async fn allowance(
    state: &AppState,
    viewer: &Viewer,
    session: &Session,
) -> Result<Option<u32>, AppError> {
    let standing = state
        .services
        .trust
        .standing(session, viewer.handle.client().network.as_deref())
        .await?;
    Ok((!standing.trust.is_trusted).then_some(standing.left))
}

/// Why a photo was not identified, as this page answers it.
enum NotIdentified {
    /// The adaptive limit holds the session: it is sent to the CAPTCHA page.
    Held,
    /// Anything else: the form again with the message.
    Shown(AppError),
}

/// `GET /identify`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let session = viewer.handle.ensure().await?;
    let (jar, flashes) = flash::take(jar, &state.settings);
    let layout = Layout::for_viewer(&ctx, &viewer, PATH).with_flashes(flashes);
    let remaining = allowance(&state, &viewer, &session).await?;
    let page = IdentifyPage::new(&state, layout, remaining);
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// `POST /identify`.
pub(crate) async fn identify(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    slot: Option<Extension<UploadSlot>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let session = viewer.handle.ensure().await?;
    let layout = Layout::for_viewer(&ctx, &viewer, PATH);
    let mut page = IdentifyPage::new(&state, layout, None);
    let form = match multipart {
        Ok(multipart) => photo_of(multipart, slot).await,
        Err(_) => Err(AppError::photo_form_expected()),
    };
    if let Ok(form) = &form {
        page.sighting = form.sighting.clone();
    }
    let form = form.and_then(|form| Ok((form.upload, form.sighting.input()?)));
    let outcome = match form {
        Ok((upload, sighting)) => state
            .services
            .identify
            .identify_or_keep(&session, viewer.handle.client(), upload, &sighting)
            .await
            .map_err(|e| match e {
                IdentifyFailure::Held(AdmitError::CaptchaRequired { .. })
                    if state.services.captchas.kind().is_some() =>
                {
                    Held
                }
                other => Shown(AppError::from(other)),
            }),
        Err(e) => Err(Shown(e)),
    };
    match outcome {
        Ok(identified) => answered(page, identified),
        // 303: the browser follows with a GET, to the page that offers the check.
        Err(Held) if state.services.identify.keeps_held_photos() => {
            let jar = flash::push(
                jar,
                &state.settings,
                FlashKind::Info,
                &format!(
                    "Your photo is kept for {HELD_PHOTO_MINUTES} minutes: after this check you \
                     get its answer without choosing it again."
                ),
            );
            Ok((jar, Redirect::to(CHECK)).into_response())
        }
        Err(Held) => Ok(Redirect::to(CHECK).into_response()),
        Err(Shown(error)) => {
            page.remaining = allowance(&state, &viewer, &session).await?;
            let (status, message, retry_after) = refusal(error)?;
            page.error = message;
            Ok(with_retry_after(render(&page, status)?, retry_after))
        }
    }
}

/// The page with the answer for the photo of `identified`.
fn answered(mut page: IdentifyPage, identified: Identified) -> Result<Response, AppError> {
    let standing = identified.standing;
    page.remaining = (!standing.trust.is_trusted).then_some(standing.left);
    page.result = Some(SpeciesView::from(&identified.result));
    page.provider = identified.provider;
    page.kept = identified.kept.map(|id| id.to_string());
    page.sighting = SightingFields::default();
    page.photo = identified.thumbnail.as_deref().map(|thumbnail| {
        format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(thumbnail)
        )
    });
    render(&page, StatusCode::OK)
}

/// After `session` passed the check (`POST /security/answer`): the answer for the photo kept
/// when it was held, as the identify page shows it (`None` when no photo is kept). Without
/// scripts this is how a held person gets the answer without choosing the photo again.
///
/// # Errors
/// When the page cannot be rendered or the session's allowance cannot be read; a refused
/// identification is shown on the page.
pub(crate) async fn answer_kept(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    session: Session,
) -> Result<Option<Response>, AppError> {
    let thanks = Flash {
        kind: FlashKind::Success,
        message: "Thank you. Here is the answer for the photo you chose.".into(),
    };
    let layout = Layout::for_viewer(ctx, viewer, PATH).with_flashes(vec![thanks]);
    let mut page = IdentifyPage::new(state, layout, None);
    match state
        .services
        .identify
        .identify_kept(&session, viewer.handle.client())
        .await
    {
        Ok(None) => Ok(None),
        Ok(Some(identified)) => answered(page, identified).map(Some),
        Err(e) => {
            page.layout = Layout::for_viewer(ctx, viewer, PATH);
            page.remaining = allowance(state, viewer, &session).await?;
            let (status, message, retry_after) = refusal(AppError::from(e))?;
            page.error = message;
            Ok(Some(with_retry_after(render(&page, status)?, retry_after)))
        }
    }
}

//! `POST /api/identify`: the animal in a photo (seed §6, §10, §11).
//!
//! The photo comes as `multipart/form-data` in one field named `image` (the file name and the
//! declared type are ignored: the content decides), optionally with where and when the animal
//! was seen (`latitude`, `longitude`, `observed_at`, `notes`). A signed-in person's answer is
//! kept in their journal with that sighting, and the answer gives its `id`. The body limit of this route is the upload
//! limit (`WILDID_MAX_UPLOAD_BYTES`), not the small default. Like every state-changing route it
//! needs the anti-forgery token, here in the `X-CSRF-Token` header. What happens next is the
//! use case's (`services::identify`): a held session is refused first, the photo is checked,
//! the identification is counted per session and per network, and only then is the provider
//! asked.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};

use crate::api_types::{ErrorBody, IdentificationBody, PhotoView, SpeciesView};
use crate::error::AppError;
use crate::kit::{UploadSlot, photo_of};
use crate::routes::security::status_from;
use crate::session::Viewer;
use crate::state::AppState;

/// The form `POST /api/identify` takes, as `multipart/form-data` (read field by field by
/// `kit::photo_of`; this type only describes it).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form in the API document; never built"
)]
pub(crate) struct IdentifyForm {
    /// The photo: PNG, JPEG, GIF, WebP or BMP.
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
    /// Where the animal was seen: decimal degrees, -90 to 90 (with `longitude`).
    latitude: Option<f64>,
    /// Decimal degrees, -180 to 180 (with `latitude`).
    longitude: Option<f64>,
    /// When it was seen (RFC 3339).
    observed_at: Option<String>,
    /// A note, at most 2,000 characters.
    notes: Option<String>,
}

/// Identifies the animal in a photo.
#[utoipa::path(post, path = "/api/identify", tag = "identification",
    request_body(content = IdentifyForm, content_type = "multipart/form-data",
        description = "One field `image` holding a PNG, JPEG, GIF, WebP or BMP photo; optionally `latitude` and `longitude` (decimal degrees), `observed_at` (RFC 3339) and `notes` (at most 2,000 characters)."),
    responses((status = 200, body = IdentificationBody),
        (status = 403, body = ErrorBody, description = "anti-forgery check failed"),
        (status = 413, body = ErrorBody, description = "larger than the upload limit"),
        (status = 415, body = ErrorBody, description = "not multipart/form-data"),
        (status = 409, body = ErrorBody, description = "`journal_full`: the signed-in person's photos take their whole allowance; nothing was counted"),
        (status = 422, body = ErrorBody, description = "`missing_image`, `unknown_field`, `invalid_sighting` (the field is named), `invalid_image`, `photo_too_large` (larger than a journal entry may keep) or `malware_found` (the malware scan, `WILDID_CLAMD`, found something)"),
        (status = 429, body = ErrorBody, description = "`captcha_required` (pass `POST /api/security/verify`) or `too_many_requests`"),
        (status = 502, body = ErrorBody, description = "`identification_failed`: no provider of the chain answered (a provider that answered unreadably gives 200 with species `Unknown` and notes that say so)"),
        (status = 503, body = ErrorBody, description = "`identification_unavailable`: no provider configured or loaded; `scan_unavailable`: the malware scanner gave no verdict, so the upload is refused")))]
pub(crate) async fn identify(
    State(state): State<AppState>,
    viewer: Viewer,
    slot: Option<Extension<UploadSlot>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<IdentificationBody>, AppError> {
    let multipart = multipart.map_err(|_| AppError::photo_multipart_expected())?;
    let form = photo_of(multipart, slot).await?;
    let sighting = form.sighting.input()?;
    let session = viewer.handle.ensure().await?;
    let identified = state
        .services
        .identify
        .identify_sighting(&session, viewer.handle.client(), form.upload, &sighting)
        .await?;
    Ok(Json(IdentificationBody {
        id: identified.kept.map(|id| id.to_string()),
        identification: SpeciesView::from(&identified.result),
        provider: identified.provider,
        photo: PhotoView {
            uploaded_as: identified.source_format.media_type().to_owned(),
            width: identified.width,
            height: identified.height,
            sha256: hex::encode(identified.upload_sha256),
        },
        status: status_from(&state, &session, &viewer, &identified.standing),
    }))
}

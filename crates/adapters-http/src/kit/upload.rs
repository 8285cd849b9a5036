//! Reading an upload, for the identify page and the JSON route alike: the one photo field of a
//! multipart form, with the upload slot the request holds.

use std::sync::Arc;

use axum::Extension;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use wildid_ports::identify::Upload;

use crate::error::AppError;

/// The form field that carries the photo.
pub(crate) const IMAGE_FIELD: &str = "image";

/// The upload slot a request holds (`routes::body_limit`), in its extensions: the handler hands it
/// on with the photo (`wildid_ports::identify::Upload::holding`), so that it is let go once
/// the photo is checked; otherwise it is let go with the request.
#[derive(Clone)]
pub(crate) struct UploadSlot(Arc<std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>);

impl UploadSlot {
    /// A request's slot, to be put in its extensions.
    pub(crate) fn new(slot: tokio::sync::OwnedSemaphorePermit) -> Self {
        Self(Arc::new(std::sync::Mutex::new(Some(slot))))
    }

    /// The slot, taken out of the request (at most once).
    pub(crate) fn take(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// The bytes of the one `image` field, holding the request's upload `slot`; any other field
/// (but the anti-forgery token a form may carry) is refused by name, as unknown JSON fields
/// are.
pub(crate) async fn photo_of(
    mut multipart: Multipart,
    slot: Option<Extension<UploadSlot>>,
) -> Result<Upload, AppError> {
    let mut photo = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            IMAGE_FIELD if photo.is_some() => {
                return Err(AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_field",
                    format!("Send one photo per request: the field {IMAGE_FIELD} came twice."),
                ));
            }
            IMAGE_FIELD => photo = Some(field.bytes().await.map_err(unreadable)?.to_vec()),
            "csrf_token" => {}
            other => {
                return Err(AppError::refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_field",
                    format!(
                        "Unknown field {:?}: only {IMAGE_FIELD} is accepted.",
                        other.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
    }
    let photo = photo.ok_or_else(|| {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_image",
            format!("The field {IMAGE_FIELD} (a photo) is required."),
        )
    })?;
    Ok(match slot.and_then(|Extension(slot)| slot.take()) {
        Some(slot) => Upload::holding(photo, slot),
        None => Upload::new(photo),
    })
}

/// A body that ends early, breaks the multipart format, or passes the upload limit.
fn unreadable(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::refused(
            StatusCode::BAD_REQUEST,
            "malformed_upload",
            "The upload is not well-formed multipart/form-data.",
        )
    }
}

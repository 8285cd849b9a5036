//! Reading an upload, for the identify page and the JSON route alike: the one photo field of a
//! multipart form, with the upload slot the request holds.

use std::sync::Arc;

use axum::Extension;
use axum::extract::multipart::Multipart;
use wildid_ports::identify::Upload;

use crate::error::AppError;
use crate::kit::SightingFields;

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

/// What an identify form sends: the photo, and where and when the animal was seen.
pub(crate) struct PhotoForm {
    /// The photo, holding the request's upload slot.
    pub upload: Upload,
    /// The sighting fields, as sent (checked by [`SightingFields::sighting`]).
    pub sighting: SightingFields,
}

/// The longest sighting field read from a multipart form (a note is at most 2,000
/// characters; this leaves room for its UTF-8 bytes).
const MAX_FIELD_BYTES: usize = 16 * 1024;

/// The bytes of the one `image` field, holding the request's upload `slot`, and the sighting
/// fields ([`SightingFields::NAMES`]); any other field (but the anti-forgery token a form may
/// carry) is refused by name, as unknown JSON fields are.
pub(crate) async fn photo_of(
    mut multipart: Multipart,
    slot: Option<Extension<UploadSlot>>,
) -> Result<PhotoForm, AppError> {
    let mut photo = None;
    let mut sighting = SightingFields::default();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            IMAGE_FIELD if photo.is_some() => return Err(AppError::photo_sent_twice()),
            IMAGE_FIELD => photo = Some(field.bytes().await?.to_vec()),
            "csrf_token" => {}
            name if SightingFields::NAMES.contains(&name) => {
                let bytes = field.bytes().await?;
                if bytes.len() > MAX_FIELD_BYTES {
                    return Err(AppError::sighting_field_too_long(name));
                }
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| AppError::sighting_field_not_text(name))?;
                sighting.set(name, text);
            }
            other => return Err(AppError::unknown_photo_form_field(other)),
        }
    }
    let photo = photo.ok_or_else(AppError::missing_photo)?;
    let upload = match slot.and_then(|Extension(slot)| slot.take()) {
        Some(slot) => Upload::holding(photo, slot),
        None => Upload::new(photo),
    };
    Ok(PhotoForm { upload, sighting })
}

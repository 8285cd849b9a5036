//! An identify form as sent (the page's and the JSON route's): the photo field and the
//! sighting fields beside it, refused before the use case sees them.

use axum::http::StatusCode;

use super::AppError;
use crate::kit::IMAGE_FIELD;

impl AppError {
    /// 415 `unsupported_media_type`: the identify page's form was not sent as the page sends
    /// it.
    pub(crate) fn photo_form_expected() -> Self {
        AppError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Choose a photo with the form on this page.",
        )
    }

    /// 415 `unsupported_media_type`: `POST /api/identify` without a multipart body.
    pub(crate) fn photo_multipart_expected() -> Self {
        AppError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Send the photo as multipart/form-data in a field named {IMAGE_FIELD}."),
        )
    }

    /// 422 `unknown_field`: the photo field came more than once.
    pub(crate) fn photo_sent_twice() -> Self {
        unprocessable(
            "unknown_field",
            format!("Send one photo per request: the field {IMAGE_FIELD} came twice."),
        )
    }

    /// 422 `unknown_field`: a field that is neither the photo, a sighting field nor the
    /// anti-forgery token (its name, cut to 40 characters, is quoted).
    pub(crate) fn unknown_photo_form_field(name: &str) -> Self {
        unprocessable(
            "unknown_field",
            format!(
                "Unknown field {:?}: only {IMAGE_FIELD} and the sighting fields \
                 (latitude, longitude, observed_at, utc_offset_minutes, notes) are \
                 accepted.",
                name.chars().take(40).collect::<String>()
            ),
        )
    }

    /// 422 `missing_image`: no photo field.
    pub(crate) fn missing_photo() -> Self {
        unprocessable(
            "missing_image",
            format!("The field {IMAGE_FIELD} (a photo) is required."),
        )
    }

    /// 422 `invalid_sighting`: a sighting field longer than a form may send.
    pub(crate) fn sighting_field_too_long(name: &str) -> Self {
        invalid_sighting(format!("The field {name} is too long."))
    }

    /// 422 `invalid_sighting`: a sighting field that is not UTF-8 text.
    pub(crate) fn sighting_field_not_text(name: &str) -> Self {
        invalid_sighting(format!("The field {name} is not UTF-8 text."))
    }

    /// 422 `invalid_sighting`: a latitude or longitude that is not a number.
    pub(crate) fn sighting_degrees_unreadable(field: &str) -> Self {
        invalid_sighting(format!("The {field} must be a number of degrees."))
    }

    /// 422 `invalid_sighting`: an `observed_at` that is not a date and time.
    pub(crate) fn sighting_time_unreadable() -> Self {
        invalid_sighting(
            "observed_at must be a date and time such as 2026-05-01T06:30:00Z".to_owned(),
        )
    }

    /// 422 `invalid_sighting`: a `utc_offset_minutes` that is not a whole number of minutes
    /// within 18 hours.
    pub(crate) fn sighting_offset_unreadable() -> Self {
        invalid_sighting("utc_offset_minutes must be minutes from -1080 to 1080".to_owned())
    }
}

/// 422 `invalid_sighting` with `message` (also the use case's refusal of a sighting, in
/// `identify`).
pub(super) fn invalid_sighting(message: String) -> AppError {
    unprocessable("invalid_sighting", message)
}

fn unprocessable(code: &'static str, message: String) -> AppError {
    AppError::refused(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

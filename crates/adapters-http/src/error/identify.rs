//! Identifying a photo, the journal it is kept in, and the human check: their refusals as HTTP.

use axum::http::StatusCode;
use wildid_domain::sighting::AreaError;
use wildid_ports::services::captcha::{IssueCaptchaError, VerifyCaptchaError};
use wildid_ports::services::identify::IdentifyFailure;
use wildid_ports::services::journal::JournalError;
use wildid_ports::services::trust::AdmitError;

use super::AppError;

impl From<AdmitError> for AppError {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::CaptchaRequired { retry_after } => AppError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "captcha_required",
                message: "Many photos came from here lately. Pass a quick check to continue."
                    .into(),
                retry_after: Some(retry_after),
            },
            AdmitError::CeilingReached { retry_after } => AppError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_requests",
                message: "Too many photos from your network. Please wait and try again.".into(),
                retry_after: Some(retry_after),
            },
            AdmitError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<IdentifyFailure> for AppError {
    fn from(e: IdentifyFailure) -> Self {
        match e {
            IdentifyFailure::NotConfigured => AppError::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "identification_unavailable",
                "Identification is not available on this server.",
            ),
            IdentifyFailure::InvalidImage(why) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_image",
                format!("The photo was refused: {why}."),
            ),
            IdentifyFailure::Infected(_) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "malware_found",
                "The file was refused: the malware scan found something harmful in it.",
            ),
            IdentifyFailure::ScanUnavailable(cause) => {
                tracing::error!(%cause, "malware scanner unavailable; uploads are refused");
                AppError::refused(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "scan_unavailable",
                    "Uploads cannot be checked for malware just now, so none are accepted. Please try again shortly.",
                )
            }
            IdentifyFailure::Held(held) => held.into(),
            IdentifyFailure::ProviderFailed(cause) => {
                tracing::warn!(
                    security_event = "provider_failed",
                    %cause,
                    "identification provider failed"
                );
                AppError::refused(
                    StatusCode::BAD_GATEWAY,
                    "identification_failed",
                    "The identification service gave no answer. Please try again shortly.",
                )
            }
            IdentifyFailure::Journal(e) => e.into(),
            IdentifyFailure::InvalidSighting(why) => {
                let why = why.to_string();
                let mut message = String::with_capacity(why.len() + 1);
                message.extend(why.chars().take(1).flat_map(char::to_uppercase));
                message.extend(why.chars().skip(1));
                message.push('.');
                super::uploads::invalid_sighting(message)
            }
            IdentifyFailure::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<JournalError> for AppError {
    fn from(e: JournalError) -> Self {
        match e {
            // Someone else's entry is answered exactly like a missing one.
            JournalError::NotFound => AppError::NotFound,
            JournalError::PhotoTooLarge { bytes, max } => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "photo_too_large",
                format!(
                    "This photo takes {} once checked; your journal keeps photos of at most {}. \
                     Try a smaller photo.",
                    crate::kit::megabytes(bytes),
                    crate::kit::megabytes(max)
                ),
            ),
            JournalError::Full { used, allowance } => AppError::refused(
                StatusCode::CONFLICT,
                "journal_full",
                format!(
                    "Your journal is full: its photos take {} of the {} it may keep. Delete \
                     entries you no longer need to make room.",
                    crate::kit::megabytes(used),
                    crate::kit::megabytes(allowance)
                ),
            ),
            JournalError::InvalidCursor => AppError::BadRequest(
                "invalid_cursor",
                "The page cursor is not valid: start again from the first page.".into(),
            ),
            JournalError::Feedback(why) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_feedback",
                format!("The feedback was refused: {why}."),
            ),
            JournalError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<IssueCaptchaError> for AppError {
    fn from(e: IssueCaptchaError) -> Self {
        match e {
            IssueCaptchaError::Disabled => captcha_disabled(),
            IssueCaptchaError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

fn captcha_disabled() -> AppError {
    AppError::refused(
        StatusCode::NOT_FOUND,
        "captcha_disabled",
        "CAPTCHAs are turned off on this server.",
    )
}

impl From<VerifyCaptchaError> for AppError {
    /// The agreed `{"success": false, "error"}` answers are built by the handler; this maps
    /// every variant for callers that only need an error.
    fn from(e: VerifyCaptchaError) -> Self {
        let code = e.code();
        match e {
            VerifyCaptchaError::Disabled => captcha_disabled(),
            VerifyCaptchaError::Unavailable(cause) => AppError::Unavailable(cause),
            VerifyCaptchaError::IncorrectAnswer { .. } => AppError::refused(
                StatusCode::BAD_REQUEST,
                code,
                "That answer is not right. Try again.",
            ),
            VerifyCaptchaError::TooManyAttempts => AppError::refused(
                StatusCode::BAD_REQUEST,
                code,
                "Too many wrong answers. Ask for a new challenge.",
            ),
            VerifyCaptchaError::Expired => AppError::refused(
                StatusCode::BAD_REQUEST,
                code,
                "The challenge expired. Ask for a new one.",
            ),
            VerifyCaptchaError::UnknownCaptcha => AppError::refused(
                StatusCode::BAD_REQUEST,
                code,
                "There is no such challenge for this session. Ask for a new one.",
            ),
        }
    }
}

impl AppError {
    /// 422 `invalid_feedback`: the feedback form said neither right nor wrong.
    pub(crate) fn feedback_verdict_missing() -> Self {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_feedback",
            "Say whether the answer was right or wrong.",
        )
    }

    /// 422 `invalid_visibility`: a visibility other than the three there are.
    pub(crate) fn invalid_visibility() -> Self {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_visibility",
            "The visibility must be open, obscured or private.",
        )
    }

    /// 422 `invalid_area`: the area asked for shared sightings, out of range or inverted.
    pub(crate) fn sightings_area_refused(why: AreaError) -> Self {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_area",
            format!("The area was refused: {why}."),
        )
    }
}

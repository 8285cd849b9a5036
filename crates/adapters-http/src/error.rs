//! HTTP errors, in one place: every use-case error becomes an [`AppError`] here, and every
//! `AppError` (and every error status produced by the framework) is rendered by the frame
//! middleware, as JSON `{"error", "message"}` under `/api` and as an HTML page elsewhere.
//! Clients never see a stack trace, SQL, a file path or a configuration name: internal causes
//! are logged with the request id and answered generically.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wildid_domain::visits::{BookingError, ExposureError, RequestError, SiteError};
use wildid_ports::RepoError;
use wildid_ports::services::accounts::{
    LinkRequestError, LoginError, MagicLinkError, PasswordChangeError, ReauthError, RegisterError,
    TotpError, VerifyError,
};
use wildid_ports::services::admin::AdminError;
use wildid_ports::services::audit::RecordAuditError;
use wildid_ports::services::captcha::{IssueCaptchaError, VerifyCaptchaError};
use wildid_ports::services::email_change::EmailChangeError;
use wildid_ports::services::identify::IdentifyFailure;
use wildid_ports::services::journal::JournalError;
use wildid_ports::services::profile::ProfileError;
use wildid_ports::services::sessions::SessionError;
use wildid_ports::services::trust::AdmitError;
use wildid_ports::services::visits::{BookingsError, CatalogueError, ExposuresError, PurgeFailed};

/// What the frame middleware renders for an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Status.
    pub status: StatusCode,
    /// Stable snake_case code for programs.
    pub code: Cow<'static, str>,
    /// Sentence for people.
    pub message: Cow<'static, str>,
}

impl ErrorInfo {
    /// The generic answer for a status (used for errors raised by the framework itself, whose
    /// own texts are never passed on).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "The request is malformed."),
            401 => ("unauthorized", "Sign in to continue."),
            403 => ("forbidden", "You are not allowed to do this."),
            404 => ("not_found", "There is nothing at this address."),
            405 => ("method_not_allowed", "This method is not allowed here."),
            408 => ("request_timeout", "The request took too long."),
            413 => ("payload_too_large", "The request body is too large."),
            415 => (
                "unsupported_media_type",
                "This content type is not accepted here.",
            ),
            422 => (
                "unprocessable_entity",
                "The request could not be processed.",
            ),
            429 => (
                "too_many_requests",
                "Too many requests. Please wait and try again.",
            ),
            503 => (
                "unavailable",
                "The service is temporarily unavailable. Please try again shortly.",
            ),
            s if s >= 500 => ("internal_error", "Something went wrong on our side."),
            _ => ("error", "The request failed."),
        };
        Self {
            status,
            code: Cow::Borrowed(code),
            message: Cow::Borrowed(message),
        }
    }
}

/// An error a handler returns.
#[derive(Debug)]
pub enum AppError {
    /// A refusal with its own status, code and message (validation, throttling, sign-in
    /// failures), optionally with `Retry-After` seconds.
    Refused {
        /// Status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Message for people.
        message: String,
        /// Seconds after which a retry may succeed.
        retry_after: Option<i64>,
    },
    /// 400 with a code and a message naming the problem.
    BadRequest(&'static str, String),
    /// 401: sign in first.
    Unauthorized,
    /// 403: signed in, but not allowed.
    Forbidden,
    /// 403: the anti-forgery check failed (nothing says why, to help no one guess).
    CsrfFailed,
    /// 303 to a local path (a page that needs another step first).
    Redirect(String),
    /// 404.
    NotFound,
    /// 413.
    PayloadTooLarge,
    /// 503: a dependency is down.
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The cause is logged, not shown.
    Internal(String),
}

impl AppError {
    fn info(&self) -> ErrorInfo {
        match self {
            AppError::Refused {
                status,
                code,
                message,
                ..
            } => ErrorInfo {
                status: *status,
                code: Cow::Borrowed(code),
                message: Cow::Owned(message.clone()),
            },
            AppError::BadRequest(code, message) => ErrorInfo {
                status: StatusCode::BAD_REQUEST,
                code: Cow::Borrowed(code),
                message: Cow::Owned(message.clone()),
            },
            AppError::Unauthorized => ErrorInfo::for_status(StatusCode::UNAUTHORIZED),
            AppError::Forbidden => ErrorInfo::for_status(StatusCode::FORBIDDEN),
            AppError::CsrfFailed => ErrorInfo {
                status: StatusCode::FORBIDDEN,
                code: Cow::Borrowed("csrf_failed"),
                message: Cow::Borrowed(
                    "The request could not be verified. Reload the page and try again.",
                ),
            },
            AppError::Redirect(_) => ErrorInfo::for_status(StatusCode::SEE_OTHER),
            AppError::NotFound => ErrorInfo::for_status(StatusCode::NOT_FOUND),
            AppError::PayloadTooLarge => ErrorInfo::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            AppError::Unavailable(_) => ErrorInfo::for_status(StatusCode::SERVICE_UNAVAILABLE),
            AppError::Internal(_) => ErrorInfo::for_status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Redirect(location) = &self {
            return axum::response::Redirect::to(location).into_response();
        }
        match &self {
            AppError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Refused { .. }
            | AppError::BadRequest(..)
            | AppError::NotFound
            | AppError::Unauthorized
            | AppError::Forbidden
            | AppError::CsrfFailed
            | AppError::PayloadTooLarge
            | AppError::Redirect(_) => {}
        }
        let info = self.info();
        let mut response = info.status.into_response();
        if let AppError::Refused {
            retry_after: Some(seconds),
            ..
        } = &self
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(&1).to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(info);
        response
    }
}

impl AppError {
    /// A refusal without `Retry-After`.
    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn too_many(retry_after: i64) -> Self {
        AppError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            message: "Too many requests. Please wait and try again.".into(),
            retry_after: Some(retry_after),
        }
    }
}

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
                tracing::warn!(%cause, "identification provider failed");
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
                crate::kit::invalid_sighting(message)
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

impl From<CatalogueError> for AppError {
    fn from(e: CatalogueError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            CatalogueError::Invalid(SiteError::Name(why)) => {
                AppError::refused(unprocessable, "invalid_name", format!("Name: {why}."))
            }
            CatalogueError::Invalid(SiteError::Description(why)) => AppError::refused(
                unprocessable,
                "invalid_description",
                format!("Description: {why}."),
            ),
            CatalogueError::Invalid(why @ SiteError::Duration) => {
                AppError::refused(unprocessable, "invalid_duration", format!("The {why}."))
            }
            CatalogueError::Invalid(why @ SiteError::Capacity) => {
                AppError::refused(unprocessable, "invalid_capacity", format!("The {why}."))
            }
            CatalogueError::NameTaken => AppError::refused(
                StatusCode::CONFLICT,
                "name_taken",
                "Another one already has this name; choose another.",
            ),
            CatalogueError::NotFound => AppError::NotFound,
            CatalogueError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<BookingsError> for AppError {
    fn from(e: BookingsError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let conflict = StatusCode::CONFLICT;
        match e {
            BookingsError::UnknownSite => {
                AppError::refused(unprocessable, "unknown_site", "There is no such site.")
            }
            BookingsError::UnknownService => AppError::refused(
                unprocessable,
                "unknown_service",
                "There is no such kind of visit.",
            ),
            BookingsError::Request(RequestError::SiteClosed) => AppError::refused(
                conflict,
                "site_closed",
                "This site is closed and takes no bookings.",
            ),
            BookingsError::Request(RequestError::Slot(why)) => AppError::refused(
                unprocessable,
                "invalid_time",
                format!("{}.", capitalised(&why.to_string())),
            ),
            BookingsError::Request(RequestError::Description(why)) => AppError::refused(
                unprocessable,
                "invalid_description",
                format!("Description: {why}."),
            ),
            BookingsError::Full => AppError::refused(
                conflict,
                "fully_booked",
                "This visit is fully booked; choose another time.",
            ),
            BookingsError::AlreadyBooked => AppError::refused(
                conflict,
                "already_booked",
                "You have already booked this visit.",
            ),
            BookingsError::NotFound => AppError::NotFound,
            BookingsError::Refused(why) => {
                let status = match why {
                    BookingError::NotAWorker
                    | BookingError::NotAnAdmin
                    | BookingError::NotTheOwner
                    | BookingError::ClaimedByOther => StatusCode::FORBIDDEN,
                    BookingError::AssigneeNotAWorker => unprocessable,
                    BookingError::WrongState { .. }
                    | BookingError::Started
                    | BookingError::Over
                    | BookingError::TooEarly => conflict,
                };
                AppError::refused(
                    status,
                    booking_refusal_code(why),
                    format!("{}.", capitalised(&why.to_string())),
                )
            }
            BookingsError::Changed => AppError::refused(
                conflict,
                "booking_changed",
                "This booking was changed meanwhile; reload it and try again.",
            ),
            BookingsError::InvalidToken => AppError::refused(
                unprocessable,
                "invalid_token",
                "A visit token is 32 letters and digits (0-9 and a-f); spaces may separate them.",
            ),
            BookingsError::WrongToken => AppError::refused(
                unprocessable,
                "wrong_token",
                "This is not the token of this visit. Ask the visitor for the token shown with \
                 their booking.",
            ),
            BookingsError::UnknownAssignee => {
                AppError::refused(unprocessable, "unknown_worker", "There is no such worker.")
            }
            BookingsError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<ExposuresError> for AppError {
    fn from(e: ExposuresError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            ExposuresError::UnknownSite => {
                AppError::refused(unprocessable, "unknown_site", "There is no such site.")
            }
            ExposuresError::Invalid(ExposureError::Note(why)) => {
                AppError::refused(unprocessable, "invalid_note", format!("Note: {why}."))
            }
            ExposuresError::Invalid(why) => AppError::refused(
                unprocessable,
                "invalid_window",
                format!("{}.", capitalised(&why.to_string())),
            ),
            ExposuresError::NotFound => AppError::NotFound,
            ExposuresError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<PurgeFailed> for AppError {
    fn from(e: PurgeFailed) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

/// A purge asked for while another server process purges.
pub(crate) fn purge_running() -> AppError {
    AppError::refused(
        StatusCode::CONFLICT,
        "purge_running",
        "Another server is purging old visit data right now. Try again in a few minutes.",
    )
}

/// The stable code of a refused booking change.
fn booking_refusal_code(why: BookingError) -> &'static str {
    match why {
        BookingError::WrongState { .. } => "wrong_booking_state",
        BookingError::NotAWorker => "not_a_worker",
        BookingError::NotAnAdmin => "not_an_admin",
        BookingError::AssigneeNotAWorker => "assignee_not_a_worker",
        BookingError::ClaimedByOther => "claimed_by_another",
        BookingError::NotTheOwner => "not_your_booking",
        BookingError::Started => "visit_started",
        BookingError::Over => "visit_over",
        BookingError::TooEarly => "check_in_not_open",
    }
}

/// `text` with its first letter in upper case (domain messages start in lower case).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
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

impl From<RegisterError> for AppError {
    fn from(e: RegisterError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            RegisterError::PrivacyNotAccepted => {
                AppError::refused(unprocessable, "privacy_not_accepted", e.to_string())
            }
            RegisterError::InvalidEmail(inner) => AppError::refused(
                unprocessable,
                "invalid_email",
                capitalise(&inner.to_string()),
            ),
            RegisterError::WeakPassword(inner) => AppError::refused(
                unprocessable,
                "weak_password",
                capitalise(&inner.to_string()),
            ),
            RegisterError::RateLimited { retry_after } => AppError::too_many(retry_after),
            RegisterError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<LinkRequestError> for AppError {
    fn from(e: LinkRequestError) -> Self {
        match e {
            LinkRequestError::InvalidEmail(inner) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_email",
                capitalise(&inner.to_string()),
            ),
            LinkRequestError::RateLimited { retry_after } => AppError::too_many(retry_after),
            LinkRequestError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<PasswordChangeError> for AppError {
    fn from(e: PasswordChangeError) -> Self {
        match e {
            PasswordChangeError::WeakPassword(inner) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                capitalise(&inner.to_string()),
            ),
            PasswordChangeError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::InvalidLink => AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_link",
                "This link is invalid, has expired or was already used. Ask for a new one.",
            ),
            VerifyError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<LoginError> for AppError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidEmail(inner) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_email",
                capitalise(&inner.to_string()),
            ),
            LoginError::PasswordTooLong { .. } => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_password",
                capitalise(&e.to_string()),
            ),
            LoginError::RateLimited { retry_after } => AppError::too_many(retry_after),
            LoginError::InvalidCredentials => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The email address or password is wrong.",
            ),
            LoginError::Locked { until } => locked_until(until),
            LoginError::EmailNotVerified => AppError::refused(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "Confirm your email address first: open the link we sent you, or ask for a new one.",
            ),
            LoginError::TotpRequired => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "Enter the 6-digit code from your authenticator app.",
            ),
            LoginError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<ReauthError> for AppError {
    fn from(e: ReauthError) -> Self {
        match e {
            ReauthError::WrongCredentials => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The password or code is wrong.",
            ),
            ReauthError::Locked { until } => locked_until(until),
            ReauthError::TotpRequired => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "Enter the 6-digit code from your authenticator app.",
            ),
            ReauthError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

/// Password sign-in (or re-authentication) locked after too many failures.
fn locked_until(until: wildid_domain::Timestamp) -> AppError {
    AppError::Refused {
        status: StatusCode::FORBIDDEN,
        code: "account_locked",
        message: format!(
            "Too many failed attempts: password sign-in is locked until {} UTC. A sign-in link sent by email still works.",
            until.format("%H:%M")
        ),
        retry_after: None,
    }
}

impl From<MagicLinkError> for AppError {
    fn from(e: MagicLinkError) -> Self {
        match e {
            MagicLinkError::InvalidLink => AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_link",
                "This link is invalid, has expired or was already used. Ask for a new one.",
            ),
            MagicLinkError::PrivacyNotAccepted => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "privacy_not_accepted",
                capitalise(&e.to_string()),
            ),
            MagicLinkError::TotpRequired => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "Enter the 6-digit code from your authenticator app.",
            ),
            MagicLinkError::WrongCode => AppError::refused(
                StatusCode::UNAUTHORIZED,
                "wrong_code",
                capitalise(&e.to_string()),
            ),
            MagicLinkError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<TotpError> for AppError {
    fn from(e: TotpError) -> Self {
        match e {
            TotpError::Expired => AppError::refused(
                StatusCode::BAD_REQUEST,
                "setup_expired",
                capitalise(&e.to_string()),
            ),
            TotpError::WrongCode => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong_code",
                capitalise(&e.to_string()),
            ),
            TotpError::NotEnrolled => AppError::refused(
                StatusCode::CONFLICT,
                "totp_not_enabled",
                capitalise(&e.to_string()),
            ),
            TotpError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<EmailChangeError> for AppError {
    fn from(e: EmailChangeError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            EmailChangeError::InvalidEmail(inner) => AppError::refused(
                unprocessable,
                "invalid_email",
                capitalise(&inner.to_string()),
            ),
            EmailChangeError::SameAddress => {
                AppError::refused(unprocessable, "same_address", capitalise(&e.to_string()))
            }
            EmailChangeError::RateLimited { retry_after } => AppError::too_many(retry_after),
            EmailChangeError::InvalidLink => AppError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_link",
                "This link is invalid, has expired, was already used, or belongs to another \
                 account: sign in to the account that asked for the change, or ask again.",
            ),
            EmailChangeError::AddressTaken => AppError::refused(
                StatusCode::CONFLICT,
                "email_taken",
                "Another account uses this address now, so yours was not changed.",
            ),
            EmailChangeError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<ProfileError> for AppError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::InvalidDisplayName(inner) => AppError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_display_name",
                format!("display_name: {inner} (after removing markup and control characters)."),
            ),
            ProfileError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<AdminError> for AppError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound => AppError::NotFound,
            AdminError::SelfChange => AppError::refused(
                StatusCode::CONFLICT,
                "self_change",
                capitalise(&e.to_string()),
            ),
            AdminError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

/// Messages from the core start lower case; ours are sentences.
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Store(RepoError::Unavailable(cause)) => AppError::Unavailable(cause),
            SessionError::TooMany { retry_after } => AppError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_sessions",
                message: "Too many new visitors from your network. Please wait and try again."
                    .into(),
                retry_after: Some(retry_after),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<RecordAuditError> for AppError {
    fn from(e: RecordAuditError) -> Self {
        AppError::Unavailable(format!("{e}: {}", e.0))
    }
}

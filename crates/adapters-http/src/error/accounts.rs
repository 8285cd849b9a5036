//! Accounts, sign-in, sessions, administration and the audit trail: their refusals as HTTP.

use axum::http::StatusCode;
use wildid_ports::RepoError;
use wildid_ports::services::accounts::{
    LinkRequestError, LoginError, MagicLinkError, PasswordChangeError, ReauthError, RegisterError,
    TotpError, VerifyError,
};
use wildid_ports::services::admin::AdminError;
use wildid_ports::services::audit::RecordAuditError;
use wildid_ports::services::email_change::EmailChangeError;
use wildid_ports::services::profile::ProfileError;
use wildid_ports::services::sessions::SessionError;

use super::{AppError, capitalise};

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
            LoginError::Session(e) => AppError::from(e),
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
            ReauthError::Session(e) => AppError::from(e),
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
            MagicLinkError::Session(e) => AppError::from(e),
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

impl AppError {
    /// 403 `totp_enrollment_required`: the role needs a second factor and none is set up.
    pub(crate) fn totp_enrollment_required() -> Self {
        AppError::refused(
            StatusCode::FORBIDDEN,
            "totp_enrollment_required",
            "Your role requires two-factor authentication: set it up first (POST /api/account/totp/setup).",
        )
    }

    /// 403 `reauthentication_required`: a sensitive change needs a recent sign-in.
    pub(crate) fn reauthentication_required() -> Self {
        AppError::refused(
            StatusCode::FORBIDDEN,
            "reauthentication_required",
            "Confirm it is you first: sign in again (POST /api/auth/reauth), then retry within 10 minutes.",
        )
    }

    /// 422 `invalid_field`: the account page's sign-out form named no session of ours.
    pub(crate) fn not_a_session_id() -> Self {
        invalid_field("Not a session id.")
    }

    /// 422 `invalid_field`: `POST /api/account/sessions/revoke` with an `id` that is no
    /// session id.
    pub(crate) fn session_id_field_invalid() -> Self {
        invalid_field("Field id: not a session id.")
    }

    /// 422 `invalid_field`: `POST /api/account/sessions/revoke` naming neither a session nor
    /// all the others.
    pub(crate) fn no_session_chosen() -> Self {
        invalid_field("Give a session id, or all_others: true.")
    }

    /// 422 `invalid_field`: the admin page's role form chose no role there is.
    pub(crate) fn role_not_chosen() -> Self {
        invalid_field("Choose visitor, worker or admin.")
    }

    /// 400 `invalid_query`: a `limit` outside `1..=max`.
    pub(crate) fn limit_out_of_range(max: u32) -> Self {
        AppError::BadRequest(
            "invalid_query",
            format!("Parameter limit: expected a number from 1 to {max}."),
        )
    }

    /// 400 `invalid_query`: an `offset` past the largest row number there can be.
    pub(crate) fn offset_out_of_range() -> Self {
        AppError::BadRequest(
            "invalid_query",
            "Parameter offset: expected a number from 0 to 9223372036854775807.".into(),
        )
    }

    /// 400 `invalid_query`: the admin page's `?page=` is not a page number.
    pub(crate) fn page_not_a_number() -> Self {
        AppError::BadRequest(
            "invalid_query",
            "Parameter page: expected a page number from 1.".into(),
        )
    }

    /// 422 `invalid_field`: `POST /api/admin/users/{id}/role` with a `role` there is not.
    pub(crate) fn role_field_invalid() -> Self {
        invalid_field("Field role: expected visitor, worker or admin.")
    }

    /// 422 `confirmation_required`: the account page's deletion form without its box ticked.
    pub(crate) fn deletion_not_confirmed() -> Self {
        AppError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirmation_required",
            "Tick the box to confirm that everything in your account is to be deleted.",
        )
    }
}

fn invalid_field(message: &'static str) -> AppError {
    AppError::refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
}

//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON API, generated from the
//! handlers' own annotations and response types (`api_types`), so it cannot drift from what
//! the server answers. A test checks that every `/api` route of the route table is in it.
//!
//! The document is public on purpose: it describes the API, not anyone's data, and the same
//! routes and their access rules are in the open-source code.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::openapi_frame::FrameResponses;
use crate::api_types;
use crate::error::AppError;
use crate::routes::{
    account_api, admin_api, auth_api, csp_report, exposures_api, identify_api, journal_api,
    profile_api, retention_api, security, sightings_api, visits_api,
};

/// Name of the session cookie in the document's security schemes.
const SESSION_SCHEME: &str = "session";
/// Name of the anti-forgery header in the document's security schemes.
const CSRF_SCHEME: &str = "csrf";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "WildID API",
        description = "Wildlife identification and field visits. Sessions are cookies; every \
            state-changing request also carries the session's anti-forgery token in \
            `X-CSRF-Token` (get one from `GET /api/security/status`). Errors are \
            `{\"error\": code, \"message\": text}`.",
    ),
    paths(
        security::status,
        security::captcha,
        security::verify,
        csp_report::receive,
        identify_api::identify,
        journal_api::list,
        journal_api::get,
        journal_api::delete,
        journal_api::photo,
        journal_api::thumbnail,
        journal_api::feedback,
        journal_api::set_visibility,
        sightings_api::shared,
        sightings_api::mine,
        auth_api::register,
        auth_api::verify_email,
        auth_api::resend_verification,
        auth_api::login,
        auth_api::logout,
        auth_api::me,
        account_api::request_link,
        account_api::redeem_link,
        account_api::reauth,
        account_api::sessions,
        account_api::revoke,
        account_api::change_password,
        account_api::change_email,
        account_api::confirm_email,
        account_api::totp_setup,
        account_api::totp_confirm,
        account_api::totp_disable,
        account_api::recovery_codes,
        account_api::delete_account,
        profile_api::set_display_name,
        admin_api::users,
        admin_api::set_role,
        admin_api::set_active,
        admin_api::unlock,
        admin_api::end_sessions,
        admin_api::delete_user,
        visits_api::catalogue::sites,
        visits_api::catalogue::services,
        visits_api::catalogue::all_sites,
        visits_api::admin::add_site,
        visits_api::admin::change_site,
        visits_api::admin::add_service,
        visits_api::admin::change_service,
        visits_api::bookings::book,
        visits_api::bookings::mine,
        visits_api::bookings::get,
        visits_api::bookings::token,
        visits_api::bookings::cancel,
        visits_api::worker::worker_bookings,
        visits_api::worker::claim,
        visits_api::worker::check_in,
        visits_api::worker::complete,
        visits_api::admin::reassign,
        exposures_api::report,
        exposures_api::list,
        exposures_api::mark_read,
        retention_api::cleanup,
    ),
    components(schemas(api_types::ErrorBody)),
    modifiers(&SecuritySchemes, &FrameResponses, &Descriptions),
    tags(
        (name = "accounts", description = "Registration, confirmation, password sign-in"),
        (name = "sign-in links", description = "Passwordless sign-in by mail"),
        (name = "account", description = "The signed-in user's sessions and credentials"),
        (name = "admin", description = "Administration (admins with a second factor)"),
        (name = "security", description = "Anti-forgery token, adaptive limit, CAPTCHA, CSP reports"),
        (name = "identification", description = "The animal in a photo, behind the adaptive limit"),
        (name = "journal", description = "The signed-in person's identifications, photos and feedback"),
        (name = "visits", description = "Wildlife sites, kinds of visit, bookings and the workers' queue"),
    )
)]
struct ApiDoc;

/// Declares the session cookie and the anti-forgery header.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-wildid-session",
                "The session cookie (HttpOnly, SameSite=Lax); `wildid-session` when the server \
                 runs without TLS in development.",
            ))),
        );
        components.add_security_scheme(
            CSRF_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's anti-forgery token; required on POST, PUT, PATCH and DELETE.",
            ))),
        );
    }
}

/// OpenAPI requires a description on every response; where an annotation gives none, the
/// status's reason phrase ("OK", "Unauthorized"...) is used.
struct Descriptions;

impl Modify for Descriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in &mut operation.responses.responses {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|code| StatusCode::from_u16(code).ok())
                            .and_then(|code| code.canonical_reason())
                            .unwrap_or("Answer")
                            .to_owned();
                    }
                }
            }
        }
    }
}

/// The document, rendered once.
static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()));

/// The OpenAPI document as a value (for tests).
#[cfg(test)]
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(crate) async fn serve() -> Result<Response, AppError> {
    match &*DOCUMENT {
        Ok(json) => Ok(([(CONTENT_TYPE, "application/json")], json.clone()).into_response()),
        Err(e) => Err(AppError::Internal(format!("OpenAPI document: {e}"))),
    }
}

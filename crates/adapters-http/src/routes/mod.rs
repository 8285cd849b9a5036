//! The router: every route, and the layers every request passes through.

pub(crate) mod account_api;
pub(crate) mod admin_api;
pub(crate) mod auth_api;
pub(crate) mod csp_report;
pub(crate) mod exposures_api;
pub(crate) mod health;
pub(crate) mod identify_api;
pub(crate) mod journal_api;
pub(crate) mod openapi;
pub(crate) mod profile_api;
pub(crate) mod retention_api;
pub(crate) mod security;
pub(crate) mod sightings_api;
pub(crate) mod static_files;
pub(crate) mod visits_api;

#[cfg(test)]
mod tests;

/// The pages that links in mail lead to: named once, used by the route table below and by
/// [`account_links`], so a link in a message always reaches its page.
mod paths {
    pub(super) const HOME: &str = "/";
    pub(super) const SIGN_IN: &str = "/auth/sign-in";
    pub(super) const VERIFY_EMAIL: &str = "/auth/verify";
    pub(super) const MAGIC_LINK: &str = "/auth/magic";
    pub(super) const CONFIRM_EMAIL_CHANGE: &str = "/account/email/confirm";
}

/// Where the links in account mail lead on a server reached at `public_url` (scheme and
/// host): the pages of this router.
pub fn account_links(public_url: &str) -> AccountLinks {
    AccountLinks {
        home: PageLink::new(public_url, paths::HOME),
        verify_email: PageLink::new(public_url, paths::VERIFY_EMAIL),
        magic_link: PageLink::new(public_url, paths::MAGIC_LINK),
        sign_in: PageLink::new(public_url, paths::SIGN_IN),
        confirm_email_change: PageLink::new(public_url, paths::CONFIRM_EMAIL_CHANGE),
    }
}

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use http_body_util::Limited;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use wildid_ports::services::accounts::{AccountLinks, PageLink};

use crate::access::{self, Access};
use crate::csrf::csrf;
use std::sync::Arc;

use crate::error::AppError;
use crate::limits;
use crate::middleware::edge::edge;
use crate::middleware::frame::frame;
use crate::pages::account as account_pages;
use crate::pages::admin as admin_pages;
use crate::pages::captcha as captcha_page;
use crate::pages::email_change as email_pages;
use crate::pages::identify as identify_page;
use crate::pages::journal as journal_pages;
use crate::pages::landing::landing;
use crate::pages::map as map_pages;
use crate::pages::notifications as notification_pages;
use crate::pages::profile as profile_pages;
use crate::pages::visits as visit_pages;
use crate::pages::{auth, magic};
use crate::session::sessions;
use crate::state::AppState;
use tokio::sync::Semaphore;
use wildid_domain::role::Role;
use wildid_ports::services::limits::RouteGroup;

/// Largest request body accepted anywhere but on the upload routes ([`RouteSpec::upload`]).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The upload limit when none is configured.
pub const DEFAULT_UPLOAD_LIMIT: usize = 10 * 1024 * 1024;
/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One route: its method and path, who may use it, its request-limit group, how large its body
/// may be, and its handler. The table below is the only way routes are added, so every route
/// has an access rule and a limit; the role-matrix test walks the same table.
pub(crate) struct RouteSpec {
    /// The method its handler answers (the handler's `MethodRouter` routes by it; the tests
    /// read it here).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the route-table tests"))]
    pub method: Method,
    pub path: &'static str,
    /// A concrete path for tests (path parameters filled in).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the role-matrix test"))]
    pub example: &'static str,
    pub access: Access,
    /// Its request-limit group (`wildid_ports::services::limits`); [`RouteGroup::Default`]
    /// unless the table says otherwise, so a new route is limited from the start.
    pub group: RouteGroup,
    /// Whether its body may be as large as the upload limit (`HttpSettings::max_upload_bytes`)
    /// rather than [`DEFAULT_BODY_LIMIT`]; an upload also takes one of the upload slots.
    pub upload: bool,
    pub handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        example: path,
        access,
        group: RouteGroup::Default,
        upload: false,
        handler,
    }
}

impl RouteSpec {
    /// In limit group `group`.
    fn in_group(self, group: RouteGroup) -> Self {
        Self { group, ..self }
    }

    /// Takes uploads: the upload limit for its body, and an upload slot.
    fn upload(self) -> Self {
        Self {
            upload: true,
            ..self
        }
    }
}

/// Every route of the application, with its access rule.
pub(crate) fn table() -> Vec<RouteSpec> {
    use Access::Public;
    const SIGNED_IN: Access = Access::SIGNED_IN;
    const ADMIN: Access = Access::Role(Role::Admin);
    const OWNER: Access = Access::Owner;
    const WORKER: Access = Access::Role(Role::Worker);
    const BOOKING: &str = "/api/bookings/00000000-0000-4000-8000-000000000000";
    const EXAMPLE_ROLE_PATH: &str = "/admin/users/00000000-0000-4000-8000-000000000000/role";
    use Method as M;
    vec![
        route(M::GET, paths::HOME, Public, get(landing)),
        route(M::GET, "/healthz", Public, get(health::healthz)).in_group(RouteGroup::Unlimited),
        route(M::GET, "/readyz", Public, get(health::readyz)).in_group(RouteGroup::Unlimited),
        RouteSpec {
            example: "/static/app.css",
            ..route(M::GET, "/static/{file}", Public, get(static_files::serve))
                .in_group(RouteGroup::Unlimited)
        },
        route(M::GET, "/robots.txt", Public, get(static_files::robots))
            .in_group(RouteGroup::Unlimited),
        route(
            M::POST,
            "/api/csp-report",
            Public,
            post(csp_report::receive).layer(DefaultBodyLimit::max(csp_report::MAX_REPORT_BYTES)),
        )
        .in_group(RouteGroup::Reports),
        route(M::GET, "/api/openapi.json", Public, get(openapi::serve)),
        // Identification: counted per session and network by the use case, and the request
        // itself by the `Identify` limit group. The body limit is the upload limit (set by
        // `body_limit`, so axum's own default is lifted here).
        route(
            M::POST,
            "/api/identify",
            Public,
            post(identify_api::identify).layer(DefaultBodyLimit::disable()),
        )
        .in_group(RouteGroup::Identify)
        .upload(),
        route(M::GET, "/identify", Public, get(identify_page::page)),
        route(
            M::POST,
            "/identify",
            Public,
            post(identify_page::identify).layer(DefaultBodyLimit::disable()),
        )
        .in_group(RouteGroup::Identify)
        .upload(),
        route(
            M::GET,
            "/api/security/status",
            Public,
            get(security::status),
        ),
        route(
            M::POST,
            "/api/security/captcha",
            Public,
            post(security::captcha),
        )
        .in_group(RouteGroup::Captcha),
        route(
            M::POST,
            "/api/security/verify",
            Public,
            post(security::verify),
        )
        .in_group(RouteGroup::Captcha),
        // Accounts and sign-in: pages.
        route(M::GET, paths::SIGN_IN, Public, get(auth::sign_in_page)),
        route(M::POST, paths::SIGN_IN, Public, post(auth::sign_in)).in_group(RouteGroup::SignIn),
        route(M::GET, "/auth/register", Public, get(auth::register_page)),
        route(M::POST, "/auth/register", Public, post(auth::register)).in_group(RouteGroup::SignIn),
        route(M::GET, paths::VERIFY_EMAIL, Public, get(auth::verify_page)),
        route(M::POST, paths::VERIFY_EMAIL, Public, post(auth::verify))
            .in_group(RouteGroup::SignIn),
        route(M::GET, "/auth/resend", Public, get(auth::resend_page)),
        route(M::POST, "/auth/resend", Public, post(auth::resend)).in_group(RouteGroup::SignIn),
        route(M::POST, "/auth/sign-out", Public, post(auth::sign_out)).in_group(RouteGroup::SignIn),
        route(M::POST, "/auth/magic-link", Public, post(magic::request))
            .in_group(RouteGroup::SignIn),
        route(M::GET, paths::MAGIC_LINK, Public, get(magic::open)),
        route(M::POST, paths::MAGIC_LINK, Public, post(magic::redeem)).in_group(RouteGroup::SignIn),
        route(
            M::GET,
            "/auth/reauth",
            SIGNED_IN,
            get(account_pages::reauth_form),
        ),
        route(
            M::POST,
            "/auth/reauth",
            SIGNED_IN,
            post(account_pages::reauth),
        )
        .in_group(RouteGroup::SignIn),
        route(M::GET, "/privacy", Public, get(auth::privacy)),
        // The CAPTCHA page for rate-limited people.
        route(M::GET, "/security/check", Public, get(captcha_page::page)),
        route(
            M::POST,
            "/security/check",
            Public,
            post(captcha_page::challenge),
        )
        .in_group(RouteGroup::Captcha),
        route(
            M::POST,
            "/security/answer",
            Public,
            post(captcha_page::answer),
        )
        .in_group(RouteGroup::Captcha),
        route(M::GET, "/account", SIGNED_IN, get(account_pages::account)),
        route(
            M::GET,
            "/account/totp",
            SIGNED_IN,
            get(account_pages::totp_form),
        ),
        route(
            M::POST,
            "/account/totp",
            SIGNED_IN,
            post(account_pages::totp_enable),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/account/totp/disable",
            SIGNED_IN,
            post(account_pages::totp_disable),
        ),
        route(
            M::POST,
            "/account/recovery-codes",
            SIGNED_IN,
            post(account_pages::recovery_codes),
        ),
        route(
            M::POST,
            "/account/password",
            SIGNED_IN,
            post(account_pages::password),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/account/email",
            SIGNED_IN,
            post(email_pages::change_email),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::GET,
            paths::CONFIRM_EMAIL_CHANGE,
            SIGNED_IN,
            get(email_pages::confirm_email_page),
        ),
        route(
            M::POST,
            paths::CONFIRM_EMAIL_CHANGE,
            SIGNED_IN,
            post(email_pages::confirm_email),
        ),
        route(
            M::POST,
            "/account/display-name",
            SIGNED_IN,
            post(profile_pages::save),
        ),
        route(
            M::POST,
            "/account/sessions/revoke",
            SIGNED_IN,
            post(account_pages::revoke),
        ),
        route(
            M::GET,
            "/account/export",
            SIGNED_IN,
            get(account_pages::export),
        ),
        route(
            M::POST,
            "/account/delete",
            SIGNED_IN,
            post(account_pages::delete_account),
        ),
        // Accounts and sign-in: JSON API.
        route(
            M::POST,
            "/api/auth/register",
            Public,
            post(auth_api::register),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/auth/verify-email",
            Public,
            post(auth_api::verify_email),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/auth/resend-verification",
            Public,
            post(auth_api::resend_verification),
        )
        .in_group(RouteGroup::SignIn),
        route(M::POST, "/api/auth/login", Public, post(auth_api::login))
            .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/auth/logout",
            SIGNED_IN,
            post(auth_api::logout),
        )
        .in_group(RouteGroup::SignIn),
        route(M::GET, "/api/auth/me", SIGNED_IN, get(auth_api::me)),
        route(
            M::POST,
            "/api/auth/magic-link",
            Public,
            post(account_api::request_link),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/auth/magic-link/redeem",
            Public,
            post(account_api::redeem_link),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/auth/reauth",
            SIGNED_IN,
            post(account_api::reauth),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::GET,
            "/api/account/sessions",
            SIGNED_IN,
            get(account_api::sessions),
        ),
        route(
            M::POST,
            "/api/account/sessions/revoke",
            SIGNED_IN,
            post(account_api::revoke),
        ),
        route(
            M::POST,
            "/api/account/password",
            SIGNED_IN,
            post(account_api::change_password),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/account/email",
            SIGNED_IN,
            post(account_api::change_email),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/account/email/confirm",
            SIGNED_IN,
            post(account_api::confirm_email),
        ),
        route(
            M::POST,
            "/api/account/totp/setup",
            SIGNED_IN,
            post(account_api::totp_setup),
        ),
        route(
            M::POST,
            "/api/account/totp/confirm",
            SIGNED_IN,
            post(account_api::totp_confirm),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::POST,
            "/api/account/totp/disable",
            SIGNED_IN,
            post(account_api::totp_disable),
        )
        .in_group(RouteGroup::SignIn),
        route(
            M::PUT,
            "/api/account/display-name",
            SIGNED_IN,
            put(profile_api::set_display_name),
        ),
        route(
            M::POST,
            "/api/account/recovery-codes",
            SIGNED_IN,
            post(account_api::recovery_codes),
        ),
        route(
            M::DELETE,
            "/api/account",
            SIGNED_IN,
            delete(account_api::delete_account),
        ),
        // The field journal: pages.
        route(M::GET, "/history", SIGNED_IN, get(journal_pages::list)),
        route(M::GET, "/history/map", SIGNED_IN, get(map_pages::own)),
        route(M::GET, "/map", Public, get(map_pages::public)),
        route(M::GET, "/api/sightings", Public, get(sightings_api::shared)),
        route(
            M::GET,
            "/api/sightings/mine",
            SIGNED_IN,
            get(sightings_api::mine),
        ),
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000",
            ..route(M::GET, "/history/{id}", OWNER, get(journal_pages::entry))
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/feedback",
            ..route(
                M::POST,
                "/history/{id}/feedback",
                OWNER,
                post(journal_pages::feedback),
            )
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/visibility",
            ..route(
                M::POST,
                "/history/{id}/visibility",
                OWNER,
                post(journal_pages::set_visibility),
            )
        },
        RouteSpec {
            example: "/history/00000000-0000-4000-8000-000000000000/delete",
            ..route(
                M::POST,
                "/history/{id}/delete",
                OWNER,
                post(journal_pages::delete),
            )
        },
        // The field journal: JSON API (photos are served here only, to their owner).
        route(
            M::GET,
            "/api/identifications",
            SIGNED_IN,
            get(journal_api::list),
        ),
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000",
            ..route(
                M::GET,
                "/api/identifications/{id}",
                OWNER,
                get(journal_api::get),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000",
            ..route(
                M::DELETE,
                "/api/identifications/{id}",
                OWNER,
                delete(journal_api::delete),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/photo",
            ..route(
                M::GET,
                "/api/identifications/{id}/photo",
                OWNER,
                get(journal_api::photo),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/thumbnail",
            ..route(
                M::GET,
                "/api/identifications/{id}/thumbnail",
                OWNER,
                get(journal_api::thumbnail),
            )
        },
        RouteSpec {
            example: "/api/identifications/00000000-0000-4000-8000-000000000000/visibility",
            ..route(
                M::PUT,
                "/api/identifications/{id}/visibility",
                OWNER,
                put(journal_api::set_visibility),
            )
        },
        route(M::POST, "/api/feedback", OWNER, post(journal_api::feedback)),
        // Field visits: pages.
        route(M::GET, "/visits", Public, get(visit_pages::list)),
        route(M::POST, "/visits", SIGNED_IN, post(visit_pages::book)),
        route(M::GET, "/visits/mine", SIGNED_IN, get(visit_pages::mine)),
        RouteSpec {
            example: "/visits/mine/00000000-0000-4000-8000-000000000000/cancel",
            ..route(
                M::POST,
                "/visits/mine/{id}/cancel",
                OWNER,
                post(visit_pages::cancel),
            )
        },
        route(M::GET, "/worker", WORKER, get(visit_pages::dashboard)),
        RouteSpec {
            example: "/worker/bookings/00000000-0000-4000-8000-000000000000/claim",
            ..route(
                M::POST,
                "/worker/bookings/{id}/{action}",
                WORKER,
                post(visit_pages::act),
            )
        },
        route(M::GET, "/admin/visits", ADMIN, get(visit_pages::catalogue)),
        route(
            M::POST,
            "/admin/visits/sites",
            ADMIN,
            post(visit_pages::add_site),
        ),
        RouteSpec {
            example: "/admin/visits/sites/00000000-0000-4000-8000-000000000000",
            ..route(
                M::POST,
                "/admin/visits/sites/{id}",
                ADMIN,
                post(visit_pages::change_site),
            )
        },
        route(
            M::POST,
            "/admin/visits/services",
            ADMIN,
            post(visit_pages::add_service),
        ),
        RouteSpec {
            example: "/admin/visits/services/00000000-0000-4000-8000-000000000000",
            ..route(
                M::POST,
                "/admin/visits/services/{id}",
                ADMIN,
                post(visit_pages::change_service),
            )
        },
        RouteSpec {
            example: "/admin/visits/bookings/00000000-0000-4000-8000-000000000000/reassign",
            ..route(
                M::POST,
                "/admin/visits/bookings/{id}/reassign",
                ADMIN,
                post(visit_pages::reassign),
            )
        },
        route(M::POST, "/admin/cleanup", ADMIN, post(visit_pages::cleanup)),
        route(
            M::POST,
            "/api/admin/cleanup",
            ADMIN,
            post(retention_api::cleanup),
        ),
        // Exposure reports and in-app notifications.
        route(
            M::POST,
            "/api/exposures",
            WORKER,
            post(exposures_api::report),
        ),
        route(
            M::GET,
            "/api/notifications",
            SIGNED_IN,
            get(exposures_api::list),
        ),
        RouteSpec {
            example: "/api/notifications/00000000-0000-4000-8000-000000000000/read",
            ..route(
                M::POST,
                "/api/notifications/{id}/read",
                OWNER,
                post(exposures_api::mark_read),
            )
        },
        route(
            M::GET,
            "/notifications",
            SIGNED_IN,
            get(notification_pages::list),
        ),
        RouteSpec {
            example: "/notifications/00000000-0000-4000-8000-000000000000/read",
            ..route(
                M::POST,
                "/notifications/{id}/read",
                OWNER,
                post(notification_pages::mark_read),
            )
        },
        route(
            M::POST,
            "/worker/exposures",
            WORKER,
            post(visit_pages::report_exposure),
        ),
        // Field visits: the catalogue, visitors' bookings, the workers' queue, admins'
        // changes (JSON).
        route(M::GET, "/api/sites", Public, get(visits_api::sites)),
        route(M::GET, "/api/services", Public, get(visits_api::services)),
        route(
            M::GET,
            "/api/admin/sites",
            ADMIN,
            get(visits_api::all_sites),
        ),
        route(
            M::POST,
            "/api/admin/sites",
            ADMIN,
            post(visits_api::add_site),
        ),
        RouteSpec {
            example: "/api/admin/sites/00000000-0000-4000-8000-000000000000",
            ..route(
                M::PUT,
                "/api/admin/sites/{id}",
                ADMIN,
                put(visits_api::change_site),
            )
        },
        route(
            M::POST,
            "/api/admin/services",
            ADMIN,
            post(visits_api::add_service),
        ),
        RouteSpec {
            example: "/api/admin/services/00000000-0000-4000-8000-000000000000",
            ..route(
                M::PUT,
                "/api/admin/services/{id}",
                ADMIN,
                put(visits_api::change_service),
            )
        },
        route(M::GET, "/api/bookings", SIGNED_IN, get(visits_api::mine)),
        route(M::POST, "/api/bookings", SIGNED_IN, post(visits_api::book)),
        RouteSpec {
            example: BOOKING,
            ..route(M::GET, "/api/bookings/{id}", OWNER, get(visits_api::get))
        },
        RouteSpec {
            example: "/api/bookings/00000000-0000-4000-8000-000000000000/token",
            ..route(
                M::GET,
                "/api/bookings/{id}/token",
                OWNER,
                get(visits_api::token),
            )
        },
        RouteSpec {
            example: "/api/bookings/00000000-0000-4000-8000-000000000000/cancel",
            ..route(
                M::POST,
                "/api/bookings/{id}/cancel",
                OWNER,
                post(visits_api::cancel),
            )
        },
        route(
            M::GET,
            "/api/worker/bookings",
            WORKER,
            get(visits_api::worker_bookings),
        ),
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/claim",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/claim",
                WORKER,
                post(visits_api::claim),
            )
        },
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/check-in",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/check-in",
                WORKER,
                post(visits_api::check_in),
            )
        },
        RouteSpec {
            example: "/api/worker/bookings/00000000-0000-4000-8000-000000000000/complete",
            ..route(
                M::POST,
                "/api/worker/bookings/{id}/complete",
                WORKER,
                post(visits_api::complete),
            )
        },
        RouteSpec {
            example: "/api/admin/bookings/00000000-0000-4000-8000-000000000000/reassign",
            ..route(
                M::POST,
                "/api/admin/bookings/{id}/reassign",
                ADMIN,
                post(visits_api::reassign),
            )
        },
        // Administration.
        route(M::GET, "/admin", ADMIN, get(admin_pages::page)),
        RouteSpec {
            example: EXAMPLE_ROLE_PATH,
            ..route(
                M::POST,
                "/admin/users/{id}/{action}",
                ADMIN,
                post(admin_pages::act),
            )
        },
        route(M::GET, "/api/admin/users", ADMIN, get(admin_api::users)),
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000",
            ..route(
                M::DELETE,
                "/api/admin/users/{id}",
                ADMIN,
                delete(admin_api::delete_user),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/role",
            ..route(
                M::POST,
                "/api/admin/users/{id}/role",
                ADMIN,
                post(admin_api::set_role),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/active",
            ..route(
                M::POST,
                "/api/admin/users/{id}/active",
                ADMIN,
                post(admin_api::set_active),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/unlock",
            ..route(
                M::POST,
                "/api/admin/users/{id}/unlock",
                ADMIN,
                post(admin_api::unlock),
            )
        },
        RouteSpec {
            example: "/api/admin/users/00000000-0000-4000-8000-000000000000/sessions/revoke",
            ..route(
                M::POST,
                "/api/admin/users/{id}/sessions/revoke",
                ADMIN,
                post(admin_api::end_sessions),
            )
        },
    ]
}

/// The whole application: routes plus the layers around them.
pub fn router(state: AppState) -> Router {
    with_layers(routes(&state), state)
}

/// The routes of [`table`].
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    build(table(), state)
}

/// Puts each route behind its guards: its request limit first (so refused requests count
/// too), then the anti-forgery check, then its access rule. Every route goes through here, so
/// none can escape any of them.
pub(crate) fn build(specs: Vec<RouteSpec>, state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for spec in specs {
        let access = spec.access;
        let group = spec.group;
        let guarded = spec
            .handler
            .route_layer(from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    access::enforce(access, state, request, next)
                },
            ))
            .route_layer(from_fn_with_state(state.clone(), csrf))
            .route_layer(from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    limits::enforce(group, state, request, next)
                },
            ));
        let merged = match by_path.remove(spec.path) {
            Some(existing) => existing.merge(guarded),
            None => guarded,
        };
        by_path.insert(spec.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
        .fallback(not_found)
}

/// The layers every request passes through, outermost first. They wrap the fallback too, so
/// 404s carry the same headers and error rendering as everything else.
pub(crate) fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), frame))
                .layer(from_fn_with_state(state.clone(), edge))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(from_fn_with_state(state.clone(), sessions))
                .layer(from_fn_with_state(
                    BodyLimits {
                        state: state.clone(),
                        upload_paths: Arc::new(upload_paths()),
                        uploads: Arc::new(Semaphore::new(upload_slots())),
                    },
                    body_limit,
                )),
        )
        .with_state(state)
}

/// Uploads whose bodies may be in the server at once: two per core, so that every decoding
/// slot (one per core) has the next upload ready while memory stays bounded whatever the
/// number of uploads in flight. The others wait before a byte of their body is read (the
/// request timeout still runs).
fn upload_slots() -> usize {
    2 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The paths of the table's upload routes ([`RouteSpec::upload`]). The body limit applies
/// before routing (so a request to no route is bounded too), hence by path.
fn upload_paths() -> std::collections::BTreeSet<&'static str> {
    table()
        .into_iter()
        .filter(|spec| spec.upload)
        .map(|spec| spec.path)
        .collect()
}

/// What [`body_limit`] needs: the settings, the upload routes' paths, and the upload slots.
#[derive(Clone)]
struct BodyLimits {
    state: AppState,
    upload_paths: Arc<std::collections::BTreeSet<&'static str>>,
    uploads: Arc<Semaphore>,
}

/// Bounds every request body: [`DEFAULT_BODY_LIMIT`], or the upload limit on the upload
/// routes. A declared `Content-Length` beyond it is answered 413 at once; a body
/// that grows beyond it fails its reader with 413. An upload also waits for one of the upload
/// slots ([`upload_slots`]) before its body is read, and holds it (`kit::UploadSlot`) until its
/// photo is checked or, at the latest, until it is answered.
async fn body_limit(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let upload = limits.upload_paths.contains(request.uri().path());
    let limit = if upload {
        limits.state.settings.max_upload_bytes
    } else {
        DEFAULT_BODY_LIMIT
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return AppError::PayloadTooLarge.into_response();
    }
    let mut request = request;
    if upload && request.method() == axum::http::Method::POST {
        match Arc::clone(&limits.uploads).acquire_owned().await {
            Ok(slot) => {
                request
                    .extensions_mut()
                    .insert(crate::kit::UploadSlot::new(slot));
            }
            Err(_) => {
                return AppError::Unavailable("the upload slots are closed".into()).into_response();
            }
        }
    }
    next.run(request.map(|body| Body::new(Limited::new(body, limit))))
        .await
}

async fn not_found() -> AppError {
    AppError::NotFound
}

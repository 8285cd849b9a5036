//! Accounts and sign-in: pages, the CAPTCHA page for rate-limited people, and the JSON API.

use axum::http::Method as M;
use axum::routing::{delete, get, post, put};
use wildid_ports::services::limits::RouteGroup;

use super::{Public, RouteSpec, SIGNED_IN, route};
use crate::pages::account as account_pages;
use crate::pages::captcha as captcha_page;
use crate::pages::email_change as email_pages;
use crate::pages::profile as profile_pages;
use crate::pages::{auth, magic};
use crate::routes::paths;
use crate::routes::{account_api, auth_api, profile_api};

/// The accounts routes.
pub(super) fn routes() -> Vec<RouteSpec> {
    vec![
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
    ]
}

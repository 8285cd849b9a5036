//! Authorisation, declared once per route in the route table (`routes::table`) and enforced by
//! a layer in front of the handler: no handler contains its own permission check.

use axum::extract::Request;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wildid_domain::role::Role;

use crate::context::is_api;
use crate::error::AppError;
use crate::kit;
use crate::session::SessionHandle;
use crate::state::AppState;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (of at least this role).
    Role(Role),
    /// A route about one thing a person owns (an entry of their journal): any signed-in user,
    /// and the handler answers 404 for what is not theirs. A signed-out request is answered
    /// 404 too, the same answer whatever the id, so no answer tells whether something exists.
    Owner,
}

impl Access {
    /// Signed-in users of any role.
    pub const SIGNED_IN: Access = Access::Role(Role::Visitor);

    /// Whether a viewer with `role` (`None`: signed out) may use the route.
    pub fn allows(self, role: Option<Role>) -> bool {
        match self {
            Access::Public => true,
            Access::Role(required) => role.is_some_and(|r| r.includes(required)),
            Access::Owner => role.is_some(),
        }
    }
}

/// Marks a response as a denial by the access layer (read by the role-matrix test).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeniedByAccess;

/// The layer of one route. Besides the role, routes for workers and admins require the second
/// factor when the role is configured to need it (by default: worker and admin).
pub(crate) async fn enforce(
    access: Access,
    state: AppState,
    request: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    let user = request
        .extensions()
        .get::<SessionHandle>()
        .and_then(|h| h.current().user().cloned());
    let role = user.as_ref().map(|u| u.role());
    if access.allows(role) {
        let needs_totp = matches!(access, Access::Role(r) if r.includes(Role::Worker))
            && user.as_ref().is_some_and(|u| {
                state.settings.totp_required_roles.contains(&u.role()) && !u.has_totp()
            });
        if !needs_totp {
            return next.run(request).await;
        }
        tracing::warn!(
            security_event = "access_denied",
            reason = "second_factor_required",
            user = %user.as_ref().map_or_else(|| "anonymous".to_owned(), |u| u.id().to_string()),
            role = role.map_or("none", Role::as_str),
            method = %request.method(),
            path = %request.uri().path(),
            "access refused until the second factor is set up"
        );
        let mut response = if request.method() == Method::GET && !is_api(request.uri().path()) {
            AppError::Redirect("/account/totp".into()).into_response()
        } else {
            AppError::totp_enrollment_required().into_response()
        };
        response.extensions_mut().insert(DeniedByAccess);
        return response;
    }
    let path = request.uri().path().to_owned();
    // The query comes along to the sign-in page and back (a confirmation link's token).
    let target = request
        .uri()
        .path_and_query()
        .map_or(path.as_str(), |pq| pq.as_str())
        .to_owned();
    // Who was refused what (ASVS 16.3.2): the account's opaque id and role, never its
    // address; the path without its query.
    tracing::warn!(
        security_event = "access_denied",
        user = %user.as_ref().map_or_else(|| "anonymous".to_owned(), |u| u.id().to_string()),
        role = role.map_or("none", Role::as_str),
        method = %request.method(),
        path = %path,
        route_access = ?access,
        "access denied"
    );
    let mut response = match role {
        // Nothing about whether it exists.
        None if access == Access::Owner => AppError::NotFound.into_response(),
        // A signed-out visitor opening a page is sent to sign in, and back afterwards.
        None if request.method() == Method::GET && !is_api(&path) => sign_in_redirect(&target),
        None => AppError::Unauthorized.into_response(),
        Some(_) => AppError::Forbidden.into_response(),
    };
    response.extensions_mut().insert(DeniedByAccess);
    response
}

fn sign_in_redirect(path: &str) -> Response {
    let target = format!("/auth/sign-in?next={}", kit::percent_encoded(path));
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&target) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_matrix_of_access_levels() {
        let viewers = [
            None,
            Some(Role::Visitor),
            Some(Role::Worker),
            Some(Role::Admin),
        ];
        let allowed = |a: Access| viewers.iter().map(|v| a.allows(*v)).collect::<Vec<_>>();
        assert_eq!(allowed(Access::Public), [true, true, true, true]);
        assert_eq!(allowed(Access::SIGNED_IN), [false, true, true, true]);
        assert_eq!(
            allowed(Access::Role(Role::Worker)),
            [false, false, true, true]
        );
        assert_eq!(
            allowed(Access::Role(Role::Admin)),
            [false, false, false, true]
        );
        assert_eq!(allowed(Access::Owner), [false, true, true, true]);
    }
}

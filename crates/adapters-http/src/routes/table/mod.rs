//! The route table: every route of the application with its method, path, access rule,
//! request-limit group and body limit. It is the only way routes are added, so every route has
//! an access rule and a limit; the role-matrix test walks the same table. The rows are kept by
//! area, one file each.

mod accounts;
mod admin;
mod journal;
mod public;
mod visits;

use axum::http::Method;
use axum::routing::MethodRouter;
use wildid_domain::role::Role;
use wildid_ports::services::limits::RouteGroup;

pub(crate) use crate::access::Access;
use crate::state::AppState;

use Access::Public;
const SIGNED_IN: Access = Access::SIGNED_IN;
const ADMIN: Access = Access::Role(Role::Admin);
const OWNER: Access = Access::Owner;
const WORKER: Access = Access::Role(Role::Worker);

/// One route: its method and path, who may use it, its request-limit group, how large its body
/// may be, and its handler. The table below is the only way routes are added, so every route
/// has an access rule and a limit; the role-matrix test walks the same table.
pub(crate) struct RouteSpec {
    /// The method its handler answers (the handler's `MethodRouter` routes by it; the tests
    /// and [`declared`] read it here).
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
    /// rather than [`super::body_limit::DEFAULT_BODY_LIMIT`]; an upload also takes one of the upload slots.
    pub upload: bool,
    pub handler: MethodRouter<AppState>,
}

pub(crate) fn route(
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

/// One row of the route table as tools outside this crate see it: which method and path
/// template (`/history/{id}`) it serves, and who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path, with its parameters in braces as the router declares them.
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
}

/// Every route the router serves, in table order: for operators' tooling and for tests that
/// must cover each route (a route added later is then covered without a new test).
pub fn declared() -> Vec<DeclaredRoute> {
    table()
        .into_iter()
        .map(|spec| DeclaredRoute {
            method: spec.method,
            path: spec.path,
            access: spec.access,
        })
        .collect()
}

/// Every route of the application, with its access rule.
pub(crate) fn table() -> Vec<RouteSpec> {
    [
        public::routes(),
        accounts::routes(),
        journal::routes(),
        visits::routes(),
        admin::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

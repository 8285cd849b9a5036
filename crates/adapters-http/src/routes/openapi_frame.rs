//! The answers every API operation can give because of the frame around its handler, added to
//! the OpenAPI document from the route table (so a route's access rule and method decide them,
//! and a new route gets them without anyone remembering):
//!
//! - every operation: 429 (a request limit, with `Retry-After`), 500 and 503 (a dependency
//!   down or out of room, with `Retry-After`);
//! - every state-changing operation: 403 `csrf_failed`, and 413 (the body limit);
//! - every operation with a body: 400 `invalid_json` or `malformed_upload` (unreadable) and
//!   415 `unsupported_media_type` (not its media type); with a JSON body also 422
//!   `invalid_field` (a field missing, unknown or of another type); with query parameters:
//!   400 `invalid_query`;
//! - signed-in routes: 401 when signed out; worker and admin routes: 403 `forbidden` or
//!   `totp_enrollment_required`; owner routes: 404 (the same answer for "not yours" and "none").
//!
//! A handler's own description of a status, where it gives one, is kept and the frame's added.

use axum::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use wildid_domain::role::Role;

use crate::access::Access;

/// Adds the frame's answers to every `/api` operation of the route table.
pub(super) struct FrameResponses;

impl utoipa::Modify for FrameResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for route in super::table::declared() {
            let Some(item) = openapi.paths.paths.get_mut(route.path) else {
                continue;
            };
            let operation = match route.method {
                Method::GET => item.get.as_mut(),
                Method::POST => item.post.as_mut(),
                Method::PUT => item.put.as_mut(),
                Method::PATCH => item.patch.as_mut(),
                Method::DELETE => item.delete.as_mut(),
                _ => None,
            };
            if let Some(operation) = operation {
                add_frame_answers(operation, &route.method, route.access);
            }
        }
    }
}

fn add_frame_answers(operation: &mut Operation, method: &Method, access: Access) {
    let changes_state = !matches!(*method, Method::GET | Method::HEAD);
    let body_types: Vec<String> = match &operation.request_body {
        Some(RefOr::T(body)) => body.content.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let json_body = body_types.iter().any(|t| t == "application/json");
    let has_query = operation.parameters.as_ref().is_some_and(|parameters| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query))
    });
    match access {
        Access::Public => {}
        Access::Owner => answer(
            operation,
            "404",
            "Not found, not the caller's, or signed out: one answer, so none tells whether it exists.",
        ),
        Access::Role(role) => {
            answer(operation, "401", "`unauthorized`: not signed in.");
            if role != Role::Visitor {
                answer(
                    operation,
                    "403",
                    "`forbidden`: the role does not allow it; `totp_enrollment_required`: set up \
                     the second factor first.",
                );
            }
        }
    }
    if changes_state {
        answer(
            operation,
            "403",
            "`csrf_failed`: the `X-CSRF-Token` header is missing or is not the session's.",
        );
        answer(
            operation,
            "413",
            "`payload_too_large`: the body is over the limit.",
        );
    }
    if !body_types.is_empty() {
        answer(
            operation,
            "400",
            "`invalid_json` or `malformed_upload`: the body cannot be read as its media type.",
        );
        answer(
            operation,
            "415",
            &format!(
                "`unsupported_media_type`: the body is not {}.",
                body_types
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        );
    }
    if json_body {
        answer(
            operation,
            "422",
            "`invalid_field`: a field is missing, unknown, or not of its type.",
        );
    }
    if has_query {
        answer(
            operation,
            "400",
            "`invalid_query`: a parameter is missing, unknown or not of its type or range.",
        );
    }
    answer(
        operation,
        "429",
        "`too_many_requests` (or a more specific code): a request limit; see `Retry-After`.",
    );
    answer(
        operation,
        "500",
        "`internal_error`: a fault on the server's side.",
    );
    answer(
        operation,
        "503",
        "`unavailable`: a dependency is down or out of room; see `Retry-After`.",
    );
}

/// Documents `status` with an error body; for a status the handler documents already, adds
/// the description and, when its body is of another shape, the error body as an alternative.
fn answer(operation: &mut Operation, status: &str, description: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(status) {
        Some(RefOr::T(existing)) => {
            if !existing.description.contains(description) {
                existing.description = if existing.description.is_empty() {
                    description.to_owned()
                } else {
                    format!("{} Or {description}", existing.description)
                };
            }
            let RefOr::T(content) = existing
                .content
                .entry("application/json".to_owned())
                .or_insert_with(|| RefOr::T(ContentBuilder::new().build()))
            else {
                return;
            };
            content.schema = Some(match content.schema.take() {
                None => error_body(),
                Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ErrorBody") => RefOr::Ref(r),
                Some(RefOr::T(Schema::OneOf(one_of))) if one_of.items.iter().any(is_error_body) => {
                    RefOr::T(Schema::OneOf(one_of))
                }
                Some(other) => RefOr::T(Schema::OneOf(
                    OneOfBuilder::new().item(other).item(error_body()).build(),
                )),
            });
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(error_body())).build(),
                )
                .build();
            responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}

fn error_body() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("ErrorBody"))
}

fn is_error_body(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::Ref(r) if r.ref_location.ends_with("/ErrorBody"))
}

//! The general request limits (seed 004 item 21), on every route through `routes::build`:
//! each request counts against its route group's windows for the client's network; a full
//! window answers 429 with `Retry-After`. Answers carry the IETF `RateLimit-Policy` and
//! `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) so clients can slow down first.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wildid_domain::rate_limit::RateLimit;
use wildid_ports::services::limits::{LimitVerdict, RouteGroup, WindowState};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::state::AppState;

fn policy_name(group: RouteGroup, limit: &RateLimit) -> String {
    format!("{}_{}", group.name(), limit.per().num_seconds())
}

fn policy(group: RouteGroup, windows: &[RateLimit]) -> String {
    windows
        .iter()
        .map(|l| {
            format!(
                "\"{}\";q={};w={}",
                policy_name(group, l),
                l.max(),
                l.per().num_seconds()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

pub(crate) async fn enforce(
    group: RouteGroup,
    state: AppState,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<RequestContext>()
        .and_then(|c| c.client_ip);
    let limits = &state.services.limits;
    match limits.check(group, client).await {
        Ok(LimitVerdict::Unlimited) => next.run(request).await,
        Ok(LimitVerdict::Allowed(windows)) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            set(
                headers,
                "ratelimit-policy",
                &policy(group, limits.windows(group)),
            );
            if let Some(tightest) = windows.iter().min_by_key(|w: &&WindowState| w.remaining) {
                set(
                    headers,
                    "ratelimit",
                    &format!(
                        "\"{}\";r={};t={}",
                        policy_name(group, &tightest.limit),
                        tightest.remaining,
                        tightest.reset_after
                    ),
                );
            }
            response
        }
        Ok(LimitVerdict::Limited { retry_after, limit }) => {
            tracing::warn!(
                security_event = "rate_limited",
                group = group.name(),
                window_seconds = limit.per().num_seconds(),
                "request limit reached"
            );
            let mut response = AppError::too_many_from_network(retry_after).into_response();
            let headers = response.headers_mut();
            set(
                headers,
                "ratelimit-policy",
                &policy(group, limits.windows(group)),
            );
            set(
                headers,
                "ratelimit",
                &format!("\"{}\";r=0;t={retry_after}", policy_name(group, &limit)),
            );
            response
        }
        Err(e) => AppError::Unavailable(e.to_string()).into_response(),
    }
}

//! `/admin/audit`: the audit log, newest first, filtered by who (an address, `system` or
//! `anonymous`), what (an action) and when (a range of days), a page at a time; and
//! `POST /admin/audit/verify`, which walks the whole chain and says whether it is intact.
//!
//! A filter that cannot be read (an unknown action, a date that is not one, an address with
//! no account) is said above the form, with 400, and nothing is searched.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use chrono::{NaiveDate, TimeDelta};
use serde::Deserialize;
use wildid_domain::audit::{Action, Actor, AuditAction, ChainProblem};
use wildid_domain::email::Email;
use wildid_domain::ids::UserId;
use wildid_ports::repo::{AuditFilter, AuditRow};
use wildid_ports::services::admin::AdminError;
use wildid_ports::services::audit::VerifyOutcome;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::{percent_encoded, requester};
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

const PATH: &str = "/admin/audit";
/// Entries per page.
const PAGE: u32 = 50;

/// `GET /admin/audit` parameters, as typed into the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditQuery {
    /// An address, `system` or `anonymous`.
    actor: String,
    /// An action's stored name (`auth.login.failed`).
    action: String,
    /// `YYYY-MM-DD`, the first day shown.
    from: String,
    /// `YYYY-MM-DD`, the last day shown.
    until: String,
    /// The sequence number the page continues below.
    before: Option<String>,
}

/// One entry as the page shows it.
struct EntryLine {
    seq: i64,
    /// `2026-12-05 17:40:12`.
    at: String,
    at_iso: String,
    /// An address, `system`, `anonymous`, or the id of a deleted account.
    actor: String,
    action: String,
    target: String,
    /// `name=value` pairs.
    details: Vec<String>,
    client: String,
    /// Set when the stored row no longer reads (it counts as altered).
    unreadable: bool,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    actions: &'static [Action],
    actor: String,
    action: String,
    from: String,
    until: String,
    /// What is wrong with the filter, when something is.
    problem: Option<String>,
    entries: Vec<EntryLine>,
    /// The link to the next (older) page, filters kept.
    older: Option<String>,
    /// The link to the first page, filters kept.
    newest: String,
    /// Whether this is a later page.
    later: bool,
    filtered: bool,
    /// The newest entry's sequence number.
    head: Option<i64>,
}

/// A filter the page could not read.
struct Problem(String);

/// `GET /admin/audit`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    jar: SignedCookieJar,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let (jar, flashes) = flash::take(jar, &state.settings);
    let head = state
        .services
        .audit
        .head()
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .map(|(seq, _)| seq);
    let filtered = [&query.actor, &query.action, &query.from, &query.until]
        .iter()
        .any(|v| !v.trim().is_empty());
    let mut page = AuditPage {
        layout: Layout::for_viewer(&ctx, &viewer, PATH).with_flashes(flashes),
        actions: Action::ALL,
        actor: query.actor.trim().to_owned(),
        action: query.action.trim().to_owned(),
        from: query.from.trim().to_owned(),
        until: query.until.trim().to_owned(),
        problem: None,
        entries: Vec::new(),
        older: None,
        newest: PATH.to_owned(),
        later: query.before.is_some(),
        filtered,
        head,
    };
    let read = match filter_of(&state, &query).await? {
        Ok(read) => read,
        Err(Problem(problem)) => {
            page.problem = Some(problem);
            return Ok((jar, render(&page, StatusCode::BAD_REQUEST)?).into_response());
        }
    };
    let (filter, before) = read;
    let found = state
        .services
        .audit
        .search(&filter, before, PAGE)
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    page.entries = lines(&state, found.rows).await?;
    let mut filters = Vec::new();
    for (name, value) in [
        ("actor", &page.actor),
        ("action", &page.action),
        ("from", &page.from),
        ("until", &page.until),
    ] {
        if !value.is_empty() {
            filters.push(format!("{name}={}", percent_encoded(value)));
        }
    }
    page.newest = if filters.is_empty() {
        PATH.to_owned()
    } else {
        format!("{PATH}?{}", filters.join("&"))
    };
    page.older = found.next_before.map(|seq| {
        filters.push(format!("before={seq}"));
        format!("{PATH}?{}", filters.join("&"))
    });
    Ok((jar, render(&page, StatusCode::OK)?).into_response())
}

/// The search `query` asks for, or what is wrong with it.
async fn filter_of(
    state: &AppState,
    query: &AuditQuery,
) -> Result<Result<(AuditFilter, Option<i64>), Problem>, AppError> {
    let problem = |text: &str| Ok(Err(Problem(text.to_owned())));
    let actor = match query.actor.trim() {
        "" => None,
        "system" => Some(Actor::System),
        "anonymous" => Some(Actor::Anonymous),
        raw => {
            let Ok(email) = Email::parse(raw) else {
                return problem("Who: write an email address, system or anonymous.");
            };
            match state.services.admin.find_by_email(&email).await? {
                Some(user) => Some(Actor::User(user.id)),
                None => return problem("Who: no account has that address."),
            }
        }
    };
    let action = match query.action.trim() {
        "" => None,
        raw => match Action::ALL.iter().find(|a| a.as_str() == raw) {
            Some(a) => Some(AuditAction::from(*a)),
            None => return problem("What: that is not an action WildID records."),
        },
    };
    let day = |raw: &str| NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
    let from = match query.from.trim() {
        "" => None,
        raw => match day(raw) {
            Some(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            None => return problem("From: write a date as YYYY-MM-DD."),
        },
    };
    // The last day shown is included: the search stops before the next midnight.
    let until = match query.until.trim() {
        "" => None,
        raw => match day(raw).and_then(|d| d.checked_add_signed(TimeDelta::days(1))) {
            Some(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            None => return problem("Until: write a date as YYYY-MM-DD."),
        },
    };
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return problem("Until must be the same day as From or later.");
    }
    let before = match query.before.as_deref().map(str::trim) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(seq) if seq > 0 => Some(seq),
            _ => return problem("This page's position is not one the log gave; start again."),
        },
    };
    Ok(Ok((
        AuditFilter {
            actor,
            action,
            from,
            until,
        },
        before,
    )))
}

/// The rows as lines, each user actor named by their address while their account exists.
async fn lines(state: &AppState, rows: Vec<AuditRow>) -> Result<Vec<EntryLine>, AppError> {
    let mut names: HashMap<UserId, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let entry = match row {
            AuditRow::Entry(entry) => entry,
            AuditRow::Unreadable { seq } => {
                out.push(EntryLine {
                    seq,
                    at: String::new(),
                    at_iso: String::new(),
                    actor: String::new(),
                    action: String::new(),
                    target: String::new(),
                    details: Vec::new(),
                    client: String::new(),
                    unreadable: true,
                });
                continue;
            }
        };
        let record = &entry.record;
        let actor = match &record.actor {
            Actor::User(id) => {
                if !names.contains_key(id) {
                    let name = match state.services.admin.find(*id).await {
                        Ok(user) => user.email,
                        Err(AdminError::NotFound) => format!("{id} (account deleted)"),
                        Err(other) => return Err(other.into()),
                    };
                    names.insert(*id, name);
                }
                names.get(id).cloned().unwrap_or_default()
            }
            other => other.to_storage(),
        };
        out.push(EntryLine {
            seq: entry.seq,
            at: record.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            at_iso: record.at.to_rfc3339(),
            actor,
            action: record.action.as_str().to_owned(),
            target: record.target.clone().unwrap_or_default(),
            details: record
                .details
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            client: record
                .client
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            unreadable: false,
        });
    }
    Ok(out)
}

/// `POST /admin/audit/verify`: walks the whole chain; back to the log with what it found.
pub(crate) async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    signed_in: SignedIn,
    jar: SignedCookieJar,
) -> Result<Response, AppError> {
    let outcome = state
        .services
        .audit
        .verify_for(
            Actor::User(signed_in.user.id()),
            requester(&viewer).origin(),
        )
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let (kind, message) = match outcome {
        VerifyOutcome::Intact(summary) => (
            FlashKind::Success,
            format!(
                "The chain is intact: all {} entries are unchanged and linked.",
                summary.entries
            ),
        ),
        VerifyOutcome::Broken(found) => (
            FlashKind::Error,
            format!(
                "The chain is broken at entry {}: {}. Compare with a backup and look for who \
                 had write access to the database.",
                found.seq,
                match found.problem {
                    ChainProblem::Altered => "its content was changed".to_owned(),
                    ChainProblem::BrokenLink =>
                        "it does not link to the entry before (entries were replaced)".to_owned(),
                    ChainProblem::Missing { expected_seq } =>
                        format!("entries from {expected_seq} on are missing"),
                }
            ),
        ),
        VerifyOutcome::AnchorMismatch { seq } => (
            FlashKind::Error,
            format!("The newest entries from {seq} on were removed."),
        ),
    };
    let jar = flash::push(jar, &state.settings, kind, &message);
    Ok((jar, Redirect::to(PATH)).into_response())
}

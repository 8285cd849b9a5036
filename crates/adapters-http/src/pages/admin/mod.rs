//! `/admin`: the accounts, a page at a time or found by address, with their roles and state,
//! and the admin actions as forms; the encryption keys and how far re-encryption under the
//! newest one has come. The audit log has its own page ([`audit`]).

pub(crate) mod audit;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::SignedCookieJar;
use serde::Deserialize;
use wildid_domain::audit::Actor;
use wildid_domain::email::Email;
use wildid_domain::role::Role;
use wildid_ports::identify::{Circuit, ProviderStatus};
use wildid_ports::repo::Page;
use wildid_ports::repo::SealedColumn;
use wildid_ports::services::admin::{Deleter, UserSummary};
use wildid_ports::services::reencryption::KeyStatus;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::kit::{requester, target};
use crate::pages::answer::render;
use crate::pages::layout::Layout;
use crate::session::{SignedIn, Viewer};
use crate::state::{AppState, SettingsSection};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    users: Vec<UserSummary>,
    me: String,
    keys: KeysCard,
    /// The address searched for (empty: the list).
    email: String,
    /// What is wrong with the search, or that nothing was found.
    search_note: Option<String>,
    /// Links to the previous and next pages of the list.
    previous: Option<String>,
    next: Option<String>,
    /// `Accounts 51 to 100`.
    showing: String,
    /// The effective configuration (no secret among it).
    settings: Vec<SettingsSection>,
    /// The identification providers, in the order they are tried.
    providers: Vec<ProviderRow>,
}

/// One identification provider as the page shows it.
struct ProviderRow {
    name: String,
    calls: u64,
    failures: u64,
    /// `unavailable at 2026-12-05 17:40 UTC`, or `none`.
    last_failure: String,
    /// `420 ms`, or `no calls yet`.
    median: String,
    /// `closed (called)`, `open (skipped for now)`...
    circuit: &'static str,
}

impl From<ProviderStatus> for ProviderRow {
    fn from(p: ProviderStatus) -> Self {
        Self {
            name: p.name,
            calls: p.calls,
            failures: p.failures,
            last_failure: p.last_failure.map_or_else(
                || "none".to_owned(),
                |(at, kind)| format!("{kind} at {}", at.format("%Y-%m-%d %H:%M UTC")),
            ),
            median: p
                .median_ms
                .map_or_else(|| "no calls yet".to_owned(), |ms| format!("{ms} ms")),
            circuit: match p.circuit {
                Circuit::NoBreaker => "no breaker (runs here)",
                Circuit::Closed => "closed: called",
                Circuit::Open => "open: skipped for now",
                Circuit::HalfOpen => "half-open: one trial call",
            },
        }
    }
}

/// Accounts per page of the list.
const USERS_PAGE: u32 = 50;

/// `GET /admin` parameters.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UsersQuery {
    /// An address to find.
    email: String,
    /// The page of the list, from 1.
    page: Option<String>,
}

/// The key ring and how far re-encryption under its newest key has come.
struct KeysCard {
    key_id: String,
    key_count: usize,
    /// What the admin may do with the older keys.
    verdict: &'static str,
    columns: Vec<ColumnRow>,
}

/// One encrypted column.
struct ColumnRow {
    label: &'static str,
    values: u64,
    examined: u64,
    /// `done`, `waiting`, `in progress` (and unreadable values, when any).
    state: String,
}

fn label(column: SealedColumn) -> &'static str {
    match column {
        SealedColumn::UserEmails => "Email addresses",
        SealedColumn::TotpSecrets => "Two-factor secrets",
        SealedColumn::PendingAddresses => "Addresses waiting for confirmation",
        SealedColumn::QueuedMail => "Mail in the outbox",
        SealedColumn::VisitMappings => "Visit records (who was where)",
        SealedColumn::VisitTokens => "Visit tokens",
    }
}

impl From<KeyStatus> for KeysCard {
    fn from(status: KeyStatus) -> Self {
        let verdict = if status.key_count == 1 {
            "There are no older keys."
        } else if status.older_keys_retirable() {
            "Every value is under the newest key: the older keys can be removed from WILDID_FERNET_KEYS."
        } else {
            "Keep the older keys in WILDID_FERNET_KEYS until every value below is done."
        };
        let columns = status
            .columns
            .iter()
            .map(|c| {
                let (examined, state) = match &c.progress {
                    None => (0, "waiting".to_owned()),
                    Some(p) => {
                        let mut state = if p.finished_at.is_some() {
                            "done".to_owned()
                        } else {
                            "in progress".to_owned()
                        };
                        if p.unreadable > 0 {
                            state.push_str(&format!(
                                "; {} no key can read (kept, see `wildid keys reencrypt`)",
                                p.unreadable
                            ));
                        }
                        (p.examined.min(c.values), state)
                    }
                };
                ColumnRow {
                    label: label(c.column),
                    values: c.values,
                    examined: if c.finished() { c.values } else { examined },
                    state,
                }
            })
            .collect();
        Self {
            key_id: status.key_id,
            key_count: status.key_count,
            verdict,
            columns,
        }
    }
}

/// `GET /admin`: a page of accounts, oldest first, or the one registered under `?email=`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    viewer: Viewer,
    admin: SignedIn,
    jar: SignedCookieJar,
    Query(query): Query<UsersQuery>,
) -> Result<Response, AppError> {
    let admin_service = &state.services.admin;
    let email = query.email.trim().to_owned();
    let mut status = StatusCode::OK;
    let (mut previous, mut next, mut search_note) = (None, None, None);
    let (users, showing) = if email.is_empty() {
        let number = match query.page.as_deref().map(str::trim) {
            None | Some("") => 1,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(AppError::page_not_a_number)?,
        };
        let offset = (number - 1) * u64::from(USERS_PAGE);
        let mut users = admin_service
            .list(Page {
                offset,
                limit: USERS_PAGE + 1,
            })
            .await?;
        if users.len() > USERS_PAGE as usize {
            users.truncate(USERS_PAGE as usize);
            next = Some(format!("/admin?page={}", number + 1));
        }
        if number > 1 {
            previous = Some(format!("/admin?page={}", number - 1));
        }
        let showing = if users.is_empty() {
            "No accounts on this page".to_owned()
        } else {
            format!("Accounts {} to {}", offset + 1, offset + users.len() as u64)
        };
        (users, showing)
    } else {
        let found = match Email::parse(&email) {
            Ok(address) => admin_service.find_by_email(&address).await?,
            Err(_) => {
                status = StatusCode::BAD_REQUEST;
                search_note = Some("That is not an email address.".to_owned());
                None
            }
        };
        if found.is_none() && search_note.is_none() {
            search_note = Some("No account has that address.".to_owned());
        }
        (found.into_iter().collect(), String::new())
    };
    let (jar, flashes) = flash::take(jar, &state.settings);
    let page = AdminPage {
        layout: Layout::for_viewer(&ctx, &viewer, "/admin").with_flashes(flashes),
        users,
        me: admin.user.id().to_string(),
        keys: state
            .services
            .keys
            .status()
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))?
            .into(),
        email,
        search_note,
        previous,
        next,
        showing,
        settings: state.settings.effective.clone(),
        providers: state
            .services
            .providers
            .statuses()
            .into_iter()
            .map(ProviderRow::from)
            .collect(),
    };
    Ok((jar, render(&page, status)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActionForm {
    role: String,
    active: String,
    /// `yes` when the deletion box is ticked.
    confirm: String,
}

/// `POST /admin/users/{id}/{action}`: one form per action, back to the list with a message.
pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    admin: SignedIn,
    jar: SignedCookieJar,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    let user = target(&id)?;
    let actor = Actor::User(admin.user.id());
    let who = requester(&viewer);
    let admin_service = &state.services.admin;
    if action == "delete" && form.confirm != "yes" {
        let jar = flash::push(
            jar,
            &state.settings,
            FlashKind::Error,
            "Nothing was deleted: tick the box beside the button to confirm the deletion.",
        );
        return Ok((jar, Redirect::to("/admin")).into_response());
    }
    let outcome = match action.as_str() {
        "role" => {
            let role: Role = form.role.parse().map_err(|_| AppError::role_not_chosen())?;
            admin_service
                .set_role(actor, user, role, who)
                .await
                .map(|()| format!("Role changed to {role}; their sessions ended."))
        }
        "active" => {
            let active = form.active == "true";
            admin_service
                .set_active(actor, user, active, who)
                .await
                .map(|()| {
                    if active {
                        "Account reactivated.".into()
                    } else {
                        "Account deactivated; its sessions ended.".into()
                    }
                })
        }
        "unlock" => admin_service
            .unlock(actor, user, who)
            .await
            .map(|()| "Lock lifted.".into()),
        "end-sessions" => admin_service
            .end_sessions(actor, user, who)
            .await
            .map(|n| format!("{n} session(s) ended.")),
        "delete" => admin_service
            .delete_account(Deleter::Admin(admin.user.id()), user, who)
            .await
            .map(|()| {
                state.journal_pages.forget(user);
                "Account deleted with everything in it.".into()
            }),
        _ => return Err(AppError::NotFound),
    };
    let jar = match outcome {
        Ok(message) => flash::push(jar, &state.settings, FlashKind::Success, &message),
        Err(e) => {
            let error = AppError::from(e);
            match error {
                AppError::Refused { message, .. } => {
                    flash::push(jar, &state.settings, FlashKind::Error, &message)
                }
                other => return Err(other),
            }
        }
    };
    Ok((jar, Redirect::to("/admin")).into_response())
}

//! The request's session: resumed from the cookie before the handler runs, changed by handlers
//! (start, sign in, sign out), and written back as a cookie after it.
//!
//! The cookie is `__Host-wildid-session` (HttpOnly, Secure, SameSite=Lax, Path=/) whenever
//! cookies can be Secure; only in development on plain http at a non-loopback address does it
//! drop the prefix and `Secure`. It holds an opaque 256-bit token; the database knows only the
//! token's SHA-256.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use cookie::Cookie;
use wildid_domain::role::Role;
use wildid_domain::session::{Session, SessionToken};
use wildid_domain::user::User;
use wildid_ports::services::accounts::Requester;
use wildid_ports::services::sessions::{ClientInfo, Resumed, SessionError, SessionService};
use wildid_ports::services::sign_ins::{SignInPlace, SignedIn as SignedInSession};

use crate::client::client_info;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::state::{AppState, HttpSettings};

/// The session cookie's name.
pub(crate) fn cookie_name(settings: &HttpSettings) -> &'static str {
    if settings.secure_cookies {
        "__Host-wildid-session"
    } else {
        "wildid-session"
    }
}

enum CookieChange {
    Keep,
    Set {
        token: SessionToken,
        persistent: bool,
    },
    Clear,
}

struct Slot {
    resumed: Resumed,
    cookie: CookieChange,
}

/// The session of the current request, shared by middleware, extractors and handlers.
#[derive(Clone)]
pub(crate) struct SessionHandle {
    slot: Arc<Mutex<Slot>>,
    service: SessionService,
    client: ClientInfo,
}

impl SessionHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session and user as resumed (or as changed by this request).
    pub(crate) fn current(&self) -> Resumed {
        self.lock().resumed.clone()
    }

    /// The session, creating an anonymous one if there is none (when a page needs a CSRF token).
    pub(crate) async fn ensure(&self) -> Result<Session, SessionError> {
        if let Some(session) = self.current().session() {
            return Ok(session.clone());
        }
        let started = self.service.start_anonymous(&self.client).await?;
        let session = started.session.clone();
        let mut slot = self.lock();
        slot.resumed = Resumed::Anonymous(started.session);
        slot.cookie = CookieChange::Set {
            token: started.token,
            persistent: false,
        };
        Ok(session)
    }

    /// Where a sign-in from this request happens (the session it replaces, the browser, who
    /// asks), for [`SignIns`](wildid_ports::services::sign_ins::SignIns).
    pub(crate) fn place(&self, who: Requester) -> SignInPlace {
        SignInPlace {
            current: self.current().session().cloned(),
            client: self.client.clone(),
            who,
        }
    }

    /// Takes on the session a finished sign-in started: the browser gets its token (a
    /// persistent cookie) and the rest of this request sees the signed-in user. Returns the
    /// new session (its anti-forgery token is the one to use from now on).
    pub(crate) fn adopt(&self, signed: SignedInSession) -> Session {
        let session = signed.started.session.clone();
        let mut slot = self.lock();
        slot.resumed = Resumed::SignedIn(signed.started.session, Box::new(signed.user));
        slot.cookie = CookieChange::Set {
            token: signed.started.token,
            persistent: true,
        };
        session
    }

    /// Ends the session (logout).
    pub(crate) async fn sign_out(&self) -> Result<(), SessionError> {
        if let Some(session) = self.current().session() {
            self.service.end(session, &self.client).await?;
        }
        let mut slot = self.lock();
        slot.resumed = Resumed::None;
        slot.cookie = CookieChange::Clear;
        Ok(())
    }

    /// Forgets the session without asking the store: for when it is already gone with its
    /// account (`Admin::delete_account`). The browser's cookie is cleared.
    pub(crate) fn forget(&self) {
        let mut slot = self.lock();
        slot.resumed = Resumed::None;
        slot.cookie = CookieChange::Clear;
    }

    /// The browser's description (fingerprint, coarse address, request id).
    pub(crate) fn client(&self) -> &ClientInfo {
        &self.client
    }
}

fn presented_token(headers: &HeaderMap, name: &str) -> Option<SessionToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| Cookie::parse(c.trim().to_owned()).ok())
        .find(|c| c.name() == name)
        .and_then(|c| SessionToken::parse(c.value()).ok())
}

/// Middleware: resumes the session before the handler, writes the cookie after it.
pub(crate) async fn sessions(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let ctx = request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .ok_or_else(|| AppError::Internal("no request context".into()))?;
    let client = client_info(request.headers(), &ctx);
    let name = cookie_name(&state.settings);
    let presented = presented_token(request.headers(), name);
    let service = state.services.sessions.clone();
    let (resumed, cookie) = match &presented {
        None => (Resumed::None, CookieChange::Keep),
        Some(token) => match service.resume(token, &client).await? {
            Resumed::None => (Resumed::None, CookieChange::Clear),
            resumed => (resumed, CookieChange::Keep),
        },
    };
    let handle = SessionHandle {
        slot: Arc::new(Mutex::new(Slot { resumed, cookie })),
        service,
        client,
    };
    request.extensions_mut().insert(handle.clone());
    let mut response = next.run(request).await;
    if (response.status().is_client_error() || response.status().is_server_error())
        && let Resumed::SignedIn(session, user) = handle.current()
    {
        response.extensions_mut().insert(SignedInViewer {
            role: user.role(),
            csrf: session.csrf().encode(),
        });
    }
    let change = std::mem::replace(&mut handle.lock().cookie, CookieChange::Keep);
    if let Some(value) = set_cookie(&state.settings, name, change) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

fn set_cookie(
    settings: &HttpSettings,
    name: &'static str,
    change: CookieChange,
) -> Option<HeaderValue> {
    let cookie = match change {
        CookieChange::Keep => return None,
        CookieChange::Set { token, persistent } => {
            let mut builder = Cookie::build((name, token.encode().expose().clone()))
                .path("/")
                .http_only(true)
                .secure(settings.secure_cookies)
                .same_site(cookie::SameSite::Lax);
            if persistent {
                builder = builder.max_age(cookie::time::Duration::seconds(
                    settings.session_lifetime_seconds,
                ));
            }
            builder.build()
        }
        CookieChange::Clear => Cookie::build((name, ""))
            .path("/")
            .http_only(true)
            .secure(settings.secure_cookies)
            .same_site(cookie::SameSite::Lax)
            .max_age(cookie::time::Duration::ZERO)
            .build(),
    };
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// Who was signed in when an error response was made (the session layer adds it to error
/// responses), so that the error page's navigation is theirs: no "Sign in" for someone who
/// is, and a working sign-out.
#[derive(Debug, Clone)]
pub(crate) struct SignedInViewer {
    /// Their role (which menu entries they see).
    pub role: wildid_domain::role::Role,
    /// Their session's anti-forgery token, for the sign-out form.
    pub csrf: String,
}

/// Who is asking: the signed-in user, if any. Never fails.
pub(crate) struct Viewer {
    /// The session handle (to start, sign in, sign out).
    pub handle: SessionHandle,
    /// The signed-in user.
    pub user: Option<User>,
    /// The client address.
    pub client_ip: Option<std::net::IpAddr>,
    /// The signed-in person's unread notifications, for the navigation's badge: counted for
    /// page views (a `GET` outside `/api`), 0 otherwise.
    pub unread: u32,
}

impl Viewer {
    /// The viewer's role, `None` when signed out.
    pub(crate) fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role())
    }
}

/// The session layer's handle for this request.
fn session_handle(parts: &Parts) -> Result<SessionHandle, AppError> {
    parts
        .extensions
        .get::<SessionHandle>()
        .cloned()
        .ok_or_else(|| AppError::Internal("session layer missing".into()))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let handle = session_handle(parts)?;
        let user = handle.current().user().cloned();
        let client_ip = parts
            .extensions
            .get::<RequestContext>()
            .and_then(|c| c.client_ip);
        let page_view =
            parts.method == axum::http::Method::GET && !parts.uri.path().starts_with("/api/");
        let unread = match &user {
            Some(user) if page_view => state
                .services
                .exposures
                .unread(user.id())
                .await
                .unwrap_or_else(|error| {
                    // The page matters more than its badge.
                    tracing::warn!(%error, "unread notifications could not be counted");
                    0
                }),
            _ => 0,
        };
        Ok(Viewer {
            handle,
            user,
            client_ip,
            unread,
        })
    }
}

/// The signed-in user. Routes that use it are declared signed-in in the route table, so the
/// access layer has already turned anonymous requests away; this extractor refuses them too.
pub(crate) struct SignedIn {
    /// The user, reloaded for this request.
    pub user: User,
    /// The session.
    pub session: Session,
    /// The handle.
    pub handle: SessionHandle,
}

/// A signed-in user who authenticated within the last 10 minutes: required by routes that
/// change email, password or the second factor. Otherwise the request is refused with
/// `reauthentication_required` (pages send the user to re-authenticate and come back).
pub(crate) struct Fresh(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for Fresh {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        if signed_in.handle.service.is_fresh(&signed_in.session) {
            return Ok(Fresh(signed_in));
        }
        let path = parts.uri.path();
        if !crate::context::is_api(path) {
            // Pages go to re-authenticate and come back: to the page itself, or for a form
            // (every sensitive form is on the account page) to the account page, where the
            // form can be sent again.
            let back = if parts.method == axum::http::Method::GET {
                path
            } else {
                "/account"
            };
            return Err(AppError::Redirect(format!(
                "/auth/reauth?next={}",
                crate::kit::percent_encoded(back)
            )));
        }
        Err(AppError::reauthentication_required())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let handle = session_handle(parts)?;
        match handle.current() {
            Resumed::SignedIn(session, user) => Ok(SignedIn {
                user: *user,
                session,
                handle,
            }),
            Resumed::None | Resumed::Anonymous(_) => Err(AppError::Unauthorized),
        }
    }
}

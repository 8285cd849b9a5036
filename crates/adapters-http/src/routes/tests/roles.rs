//! Who may use each route: the role matrix written independently of the route table, and the second factor required by privileged roles.

use super::*;

/// Who may use each route, written down independently of the route table. A route added to
/// the router without a line here fails `every_route_obeys_the_role_matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Anyone,
    SignedIn,
    /// Signed in; a signed-out request gets 404 (`Access::Owner`).
    Owner,
    Worker,
    Admin,
}

const MATRIX: &[(&str, &str, Expect)] = &[
    ("GET", "/", Expect::Anyone),
    ("GET", "/healthz", Expect::Anyone),
    ("GET", "/readyz", Expect::Anyone),
    ("GET", "/static/{file}", Expect::Anyone),
    ("GET", "/robots.txt", Expect::Anyone),
    ("POST", "/api/csp-report", Expect::Anyone),
    ("GET", "/api/security/status", Expect::Anyone),
    ("POST", "/api/identify", Expect::Anyone),
    ("GET", "/identify", Expect::Anyone),
    ("POST", "/identify", Expect::Anyone),
    ("GET", "/history", Expect::SignedIn),
    ("GET", "/history/map", Expect::SignedIn),
    ("GET", "/map", Expect::Anyone),
    ("GET", "/api/sightings", Expect::Anyone),
    ("GET", "/api/sightings/mine", Expect::SignedIn),
    ("GET", "/history/{id}", Expect::Owner),
    ("POST", "/history/{id}/feedback", Expect::Owner),
    ("POST", "/history/{id}/visibility", Expect::Owner),
    ("POST", "/history/{id}/delete", Expect::Owner),
    ("GET", "/api/identifications", Expect::SignedIn),
    ("GET", "/api/identifications/{id}", Expect::Owner),
    ("DELETE", "/api/identifications/{id}", Expect::Owner),
    ("GET", "/api/identifications/{id}/photo", Expect::Owner),
    ("GET", "/api/identifications/{id}/thumbnail", Expect::Owner),
    ("PUT", "/api/identifications/{id}/visibility", Expect::Owner),
    ("POST", "/api/feedback", Expect::Owner),
    ("POST", "/account/delete", Expect::SignedIn),
    ("GET", "/account/export", Expect::SignedIn),
    ("DELETE", "/api/account", Expect::SignedIn),
    ("DELETE", "/api/admin/users/{id}", Expect::Admin),
    ("POST", "/api/security/captcha", Expect::Anyone),
    ("POST", "/api/security/verify", Expect::Anyone),
    ("GET", "/security/check", Expect::Anyone),
    ("POST", "/security/check", Expect::Anyone),
    ("POST", "/security/answer", Expect::Anyone),
    ("GET", "/api/openapi.json", Expect::Anyone),
    ("GET", "/api/docs", Expect::Anyone),
    ("GET", "/auth/sign-in", Expect::Anyone),
    ("POST", "/auth/sign-in", Expect::Anyone),
    ("GET", "/auth/register", Expect::Anyone),
    ("POST", "/auth/register", Expect::Anyone),
    ("GET", "/auth/verify", Expect::Anyone),
    ("POST", "/auth/verify", Expect::Anyone),
    ("GET", "/auth/resend", Expect::Anyone),
    ("POST", "/auth/resend", Expect::Anyone),
    ("POST", "/auth/sign-out", Expect::Anyone),
    ("GET", "/privacy", Expect::Anyone),
    ("POST", "/auth/magic-link", Expect::Anyone),
    ("GET", "/auth/magic", Expect::Anyone),
    ("POST", "/auth/magic", Expect::Anyone),
    ("GET", "/auth/reauth", Expect::SignedIn),
    ("POST", "/auth/reauth", Expect::SignedIn),
    ("GET", "/account", Expect::SignedIn),
    ("GET", "/account/totp", Expect::SignedIn),
    ("POST", "/account/totp", Expect::SignedIn),
    ("POST", "/account/totp/disable", Expect::SignedIn),
    ("POST", "/account/recovery-codes", Expect::SignedIn),
    ("POST", "/account/password", Expect::SignedIn),
    ("POST", "/account/display-name", Expect::SignedIn),
    ("POST", "/account/sessions/revoke", Expect::SignedIn),
    ("POST", "/account/email", Expect::SignedIn),
    ("GET", "/account/email/confirm", Expect::SignedIn),
    ("POST", "/account/email/confirm", Expect::SignedIn),
    ("POST", "/api/auth/register", Expect::Anyone),
    ("POST", "/api/auth/verify-email", Expect::Anyone),
    ("POST", "/api/auth/resend-verification", Expect::Anyone),
    ("POST", "/api/auth/login", Expect::Anyone),
    ("POST", "/api/auth/logout", Expect::SignedIn),
    ("GET", "/api/auth/me", Expect::SignedIn),
    ("POST", "/api/auth/magic-link", Expect::Anyone),
    ("POST", "/api/auth/magic-link/redeem", Expect::Anyone),
    ("POST", "/api/auth/reauth", Expect::SignedIn),
    ("GET", "/api/account/sessions", Expect::SignedIn),
    ("POST", "/api/account/sessions/revoke", Expect::SignedIn),
    ("POST", "/api/account/password", Expect::SignedIn),
    ("POST", "/api/account/email", Expect::SignedIn),
    ("POST", "/api/account/email/confirm", Expect::SignedIn),
    ("POST", "/api/account/totp/setup", Expect::SignedIn),
    ("POST", "/api/account/totp/confirm", Expect::SignedIn),
    ("POST", "/api/account/totp/disable", Expect::SignedIn),
    ("PUT", "/api/account/display-name", Expect::SignedIn),
    ("POST", "/api/account/recovery-codes", Expect::SignedIn),
    ("GET", "/admin", Expect::Admin),
    ("POST", "/admin/users/{id}/{action}", Expect::Admin),
    ("GET", "/admin/audit", Expect::Admin),
    ("POST", "/admin/audit/verify", Expect::Admin),
    ("GET", "/visits", Expect::Anyone),
    ("POST", "/visits", Expect::SignedIn),
    ("GET", "/visits/mine", Expect::SignedIn),
    ("POST", "/visits/mine/{id}/cancel", Expect::Owner),
    ("GET", "/worker", Expect::Worker),
    ("POST", "/worker/bookings/{id}/{action}", Expect::Worker),
    ("GET", "/admin/visits", Expect::Admin),
    ("POST", "/admin/visits/sites", Expect::Admin),
    ("POST", "/admin/visits/sites/{id}", Expect::Admin),
    ("POST", "/admin/visits/services", Expect::Admin),
    ("POST", "/admin/visits/services/{id}", Expect::Admin),
    ("GET", "/api/sites", Expect::Anyone),
    ("GET", "/api/services", Expect::Anyone),
    ("GET", "/api/admin/sites", Expect::Admin),
    ("POST", "/api/admin/sites", Expect::Admin),
    ("PUT", "/api/admin/sites/{id}", Expect::Admin),
    ("POST", "/api/admin/services", Expect::Admin),
    ("PUT", "/api/admin/services/{id}", Expect::Admin),
    ("GET", "/api/bookings", Expect::SignedIn),
    ("POST", "/api/bookings", Expect::SignedIn),
    ("GET", "/api/bookings/{id}", Expect::Owner),
    ("GET", "/api/bookings/{id}/token", Expect::Owner),
    ("POST", "/api/bookings/{id}/cancel", Expect::Owner),
    ("GET", "/api/worker/bookings", Expect::Worker),
    ("POST", "/api/worker/bookings/{id}/claim", Expect::Worker),
    ("POST", "/api/worker/bookings/{id}/check-in", Expect::Worker),
    ("POST", "/api/worker/bookings/{id}/complete", Expect::Worker),
    ("POST", "/api/admin/bookings/{id}/reassign", Expect::Admin),
    ("POST", "/admin/cleanup", Expect::Admin),
    (
        "POST",
        "/admin/visits/bookings/{id}/reassign",
        Expect::Admin,
    ),
    ("POST", "/api/admin/cleanup", Expect::Admin),
    ("POST", "/api/exposures", Expect::Worker),
    ("GET", "/api/notifications", Expect::SignedIn),
    ("POST", "/api/notifications/{id}/read", Expect::Owner),
    ("GET", "/notifications", Expect::SignedIn),
    ("POST", "/notifications/{id}/read", Expect::Owner),
    ("POST", "/worker/exposures", Expect::Worker),
    ("GET", "/api/admin/users", Expect::Admin),
    ("POST", "/api/admin/users/{id}/role", Expect::Admin),
    ("POST", "/api/admin/users/{id}/active", Expect::Admin),
    ("POST", "/api/admin/users/{id}/unlock", Expect::Admin),
    (
        "POST",
        "/api/admin/users/{id}/sessions/revoke",
        Expect::Admin,
    ),
];

fn viewer_token(role: Option<Role>) -> SessionToken {
    SessionToken::from_random(
        [match role {
            None => 60,
            Some(Role::Visitor) => 61,
            Some(Role::Worker) => 62,
            Some(Role::Admin) => 63,
        }; 32],
    )
}

fn viewer_user(role: Role) -> User {
    let mut user = User::new(
        UserId::from_random([role as u8 + 1; 16]),
        EmailLookup::from_bytes([role as u8 + 1; 32]),
        EncryptedField::new("x".into()),
        SystemClock.now(),
    );
    user.set_role(role);
    user.verify_email(SystemClock.now());
    let mut user = user.into_record();
    if role.includes(Role::Worker) {
        user.totp_secret = Some(EncryptedField::new("gAAAA-totp".into()));
    }
    User::restore(user).unwrap()
}

/// A state in which the four viewers have sessions (with CSRF token `known_csrf()`).
fn matrix_state() -> AppState {
    let mut state = state(true);
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(|key| {
        let viewers = [
            None,
            Some(Role::Visitor),
            Some(Role::Worker),
            Some(Role::Admin),
        ];
        Ok(viewers
            .into_iter()
            .find(|r| viewer_token(*r).key() == *key)
            .map(|role| known_session_as(*key, role.map(|r| viewer_user(r).id()))))
    });
    sessions.expect_touch().returning(|_, _| Ok(()));
    let mut users = MockUserRepository::new();
    users.expect_get().returning(|id| {
        Role::ALL
            .into_iter()
            .map(viewer_user)
            .find(|u| u.id() == id)
            .ok_or(RepoError::NotFound)
    });
    let audit = state.services.audit.clone();
    let service = SessionService::new(
        Arc::new(sessions),
        Arc::new(users),
        audit.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        SessionPolicy::default(),
    );
    with_sessions(&mut state, service, audit);
    state
}

/// `state` with another session service (and the audit trail it writes to).
fn with_sessions(state: &mut AppState, sessions: SessionService, audit: AuditTrail) {
    let s = &state.services;
    state.services = Arc::new(Services {
        readiness: s.readiness.clone(),
        audit,
        sign_ins: SignIns::new(s.accounts.clone(), sessions.clone()),
        sessions,
        accounts: s.accounts.clone(),
        admin: s.admin.clone(),
        captchas: s.captchas.clone(),
        limits: s.limits.clone(),
        trust: s.trust.clone(),
        identify: s.identify.clone(),
        journal: s.journal.clone(),
        catalogue: s.catalogue.clone(),
        bookings: s.bookings.clone(),
        exposures: s.exposures.clone(),
        retention: s.retention.clone(),
        keys: s.keys.clone(),
        providers: Arc::clone(&s.providers),
    });
}

/// A state whose every session belongs to one `role` user without a second factor.
fn without_second_factor(role: Role) -> AppState {
    let mut state = matrix_state();
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(|key| {
        Ok(Some(known_session_as(
            *key,
            Some(UserId::from_random([99; 16])),
        )))
    });
    sessions.expect_touch().returning(|_, _| Ok(()));
    let mut users = MockUserRepository::new();
    users.expect_get().returning(move |_| {
        let mut user = viewer_user(role).into_record();
        user.id = UserId::from_random([99; 16]);
        user.totp_secret = None;
        Ok(User::restore(user).unwrap())
    });
    let audit = state.services.audit.clone();
    let service = SessionService::new(
        Arc::new(sessions),
        Arc::new(users),
        audit.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        SessionPolicy::default(),
    );
    with_sessions(&mut state, service, audit);
    state
}

fn get_with_session(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "127.0.0.1")
        .header(
            "cookie",
            format!(
                "__Host-wildid-session={}",
                viewer_token(None).encode().expose()
            ),
        )
        .body(Body::empty())
        .unwrap()
}

/// Worker routes (none exists yet: the worker dashboard arrives with field visits) pass the
/// same layer: a worker without a second factor is sent to set one up, unless the
/// configuration does not require it for workers.
#[tokio::test]
async fn worker_routes_need_the_second_factor_when_the_role_requires_it() {
    let probe = || {
        vec![super::route(
            Method::GET,
            "/worker-probe",
            Access::Role(Role::Worker),
            axum::routing::get(|| async { "worker page" }),
        )]
    };
    let state = without_second_factor(Role::Worker);
    let router = with_layers(build(probe(), &state), state);
    let page = router
        .oneshot(get_with_session("/worker-probe"))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/account/totp");

    let mut state = without_second_factor(Role::Worker);
    Arc::get_mut(&mut state.settings)
        .expect("the only handle")
        .totp_required_roles = vec![Role::Admin];
    let router = with_layers(build(probe(), &state), state);
    let page = router
        .oneshot(get_with_session("/worker-probe"))
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "not required for workers here"
    );
}

#[tokio::test]
async fn admin_routes_need_the_second_factor_when_the_role_requires_it() {
    let state = without_second_factor(Role::Admin);
    let router = with_layers(routes(&state), state);
    let page = router
        .clone()
        .oneshot(get_with_session("/admin"))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/account/totp");
    let api = router
        .oneshot(get_with_session("/api/admin/users"))
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_signed_in_person_is_never_offered_sign_in_even_on_an_error_page() {
    let state = matrix_state();
    let cookie = |role: Option<Role>| {
        format!(
            "__Host-wildid-session={}",
            viewer_token(role).encode().expose()
        )
    };
    let get = |path: &'static str, role: Option<Role>| {
        let (app, cookie) = (with_layers(routes(&state), state.clone()), cookie(role));
        async move {
            send_with(
                app,
                Method::GET,
                path,
                None,
                &[("cookie", &cookie)],
                Vec::new(),
            )
            .await
        }
    };
    let offers_sign_in = |body: &str| body.contains(r#"href="/auth/sign-in""#);

    let (landing, body) = get("/", Some(Role::Visitor)).await;
    assert_eq!(landing.status(), StatusCode::OK);
    assert!(!offers_sign_in(&body), "the landing page offers sign-in");
    assert!(body.contains(r#"href="/account""#));
    let (_, body) = get("/", None).await;
    assert!(
        offers_sign_in(&body),
        "a visitor without an account is offered it"
    );

    // A visitor is refused the admin page: the error page still shows their menu, with a
    // sign-out form that carries their session's token.
    let (refused, body) = get("/admin", Some(Role::Visitor)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        !offers_sign_in(&body),
        "the 403 page offers sign-in: {body}"
    );
    assert!(
        body.contains(&known_csrf().encode()),
        "the sign-out form has the token"
    );
    let (missing, body) = get("/no-such-page", Some(Role::Visitor)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(!offers_sign_in(&body));
    let (_, body) = get("/no-such-page", None).await;
    assert!(offers_sign_in(&body));
}

#[tokio::test]
async fn every_route_obeys_the_role_matrix() {
    let specs = table();
    for spec in &specs {
        assert!(
            MATRIX
                .iter()
                .any(|(m, p, _)| *m == spec.method.as_str() && *p == spec.path),
            "route {} {} has no line in the role matrix",
            spec.method,
            spec.path
        );
    }
    assert_eq!(
        specs.len(),
        MATRIX.len(),
        "the matrix lists a route the router does not have"
    );
    let state = matrix_state();
    let router = with_layers(routes(&state), state);
    for spec in specs {
        let expect = MATRIX
            .iter()
            .find(|(m, p, _)| *m == spec.method.as_str() && *p == spec.path)
            .map(|(_, _, e)| *e)
            .unwrap();
        for role in [
            None,
            Some(Role::Visitor),
            Some(Role::Worker),
            Some(Role::Admin),
        ] {
            let cookie = format!(
                "__Host-wildid-session={}",
                viewer_token(role).encode().expose()
            );
            let csrf = known_csrf().encode();
            let request = Request::builder()
                .method(spec.method.clone())
                .uri(spec.example)
                .header("host", "127.0.0.1")
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let denied = response
                .extensions()
                .get::<crate::access::DeniedByAccess>()
                .is_some();
            let allowed = match (expect, role) {
                (Expect::Anyone, _) => true,
                (_, None) => false,
                (Expect::SignedIn | Expect::Owner, Some(_)) => true,
                (Expect::Worker, Some(r)) => r.includes(Role::Worker),
                (Expect::Admin, Some(r)) => r == Role::Admin,
            };
            assert_eq!(
                !denied,
                allowed,
                "{} {} as {role:?}: status {}",
                spec.method,
                spec.path,
                response.status()
            );
            if denied {
                let status = response.status();
                let expected = match role {
                    None if expect == Expect::Owner => StatusCode::NOT_FOUND,
                    None if spec.method == Method::GET && !spec.path.starts_with("/api") => {
                        StatusCode::SEE_OTHER
                    }
                    None => StatusCode::UNAUTHORIZED,
                    Some(_) => StatusCode::FORBIDDEN,
                };
                assert_eq!(
                    status, expected,
                    "{} {} as {role:?}",
                    spec.method, spec.path
                );
            }
        }
    }
}

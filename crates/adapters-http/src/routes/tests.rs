//! The router driven in-process with mocked ports: headers on every kind of response, error
//! rendering, probes, static files and CSP reports.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use http_body_util::BodyExt;
use tower::ServiceExt;
use wildid_ports::RepoError;
use wildid_ports::builtin::OsRandom;
use wildid_ports::health::MockHealthCheck;
use wildid_ports::repo::MockAuditLog;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::readiness::ReadinessCheck;

mod edge;
mod suite;

use super::{build, route, routes, table, with_layers};
use crate::access::Access;
use crate::state::{AppState, HttpSettings, Services};
use axum::routing::post;
use wildid_domain::captcha::{CaptchaKind, CaptchaPolicy};
use wildid_domain::ids::UserId;
use wildid_domain::pow::PowKey;
use wildid_domain::retention::RetentionPolicy;
use wildid_domain::role::Role;
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionPolicy, SessionToken};
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::builtin::{HmacDigest, MemoryRateLimits};
use wildid_ports::clock::Clock;
use wildid_ports::identify::MockImageChecker;
use wildid_ports::repo::MockCaptchaRepository;
use wildid_ports::repo::MockIdentificationRepository;
use wildid_ports::repo::{
    MockBookingRepository, MockExposureReportRepository, MockJobLeases, MockNotificationRepository,
    MockSealedValues, MockServiceTypeRepository, MockSiteRepository, MockVisitMappingRepository,
};
use wildid_ports::services::captcha::{CaptchaPorts, CaptchaSettings, Captchas};
use wildid_ports::services::identify::Identifications;
use wildid_ports::services::journal::{Journal, JournalSettings};
use wildid_ports::services::limits::RequestLimits;
use wildid_ports::services::reencryption::{Reencryption, ReencryptionPorts};
use wildid_ports::services::trust::TrustGate;
use wildid_ports::services::visits::{
    BookingPorts, Bookings, Catalogue, ExposurePorts, Exposures, RetentionPorts, VisitRetention,
};

use wildid_domain::trust::{RateLimitPolicy, TrustState};
use wildid_ports::builtin::SystemClock;
use wildid_ports::crypto::{MockEmailIndex, MockFieldCipher, MockKeyedDigest};
use wildid_ports::mail::MockMailer;
use wildid_ports::password::{MockPasswordHasher, MockStrengthEstimator};
use wildid_ports::repo::{
    MockLoginTokenRepository, MockMailOutbox, MockRateLimitStore, MockRecoveryCodeRepository,
};
use wildid_ports::repo::{MockSessionRepository, MockUserRepository};
use wildid_ports::services::accounts::{AccountPolicy, AccountPorts, Accounts};
use wildid_ports::services::admin::Admin;
use wildid_ports::services::mail::MailQueue;
use wildid_ports::services::sessions::SessionService;

/// The session every test request may present: cookie `known_token()`, CSRF `known_csrf()`,
/// bound to the fingerprint of requests without browser headers.
fn known_token() -> SessionToken {
    SessionToken::from_random([42; 32])
}

fn known_csrf() -> CsrfToken {
    CsrfToken::from_random([43; 32])
}

fn known_session() -> Session {
    let now = wildid_ports::clock::Clock::now(&SystemClock);
    Session {
        key: known_token().key(),
        user_id: None,
        fingerprint: Fingerprint::from_headers("", "", ""),
        csrf: known_csrf(),
        created_at: now,
        last_seen_at: now,
        authenticated_at: None,
        trust: TrustState::default(),
        coarse_ip: None,
        device: None,
    }
}

fn state(database_up: bool) -> AppState {
    let mut health = MockHealthCheck::new();
    health.expect_ping().returning(move || {
        if database_up {
            Ok(())
        } else {
            Err(RepoError::Unavailable("connection refused".into()))
        }
    });
    let mut sessions = MockSessionRepository::new();
    sessions
        .expect_get()
        .returning(|key| Ok((*key == known_token().key()).then(known_session)));
    sessions.expect_insert().returning(|_| Ok(()));
    sessions.expect_touch().returning(|_, _| Ok(()));
    let audit = AuditTrail::new(Arc::new(MockAuditLog::new()));
    let service = SessionService::new(
        Arc::new(sessions),
        Arc::new(MockUserRepository::new()),
        audit.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        SessionPolicy::default(),
    );
    let accounts = Accounts::new(
        unused_account_ports(&audit),
        AccountPolicy::default(),
        crate::account_links("http://127.0.0.1"),
    );
    let trust = TrustGate::new(
        Arc::new(MockSessionRepository::new()),
        Arc::new(MemoryRateLimits::default()),
        Arc::new(HmacDigest::new(wildid_domain::secret::SecretBytes::new(
            vec![2; 64],
        ))),
        Arc::new(SystemClock),
        RateLimitPolicy::default(),
    );
    AppState {
        services: Arc::new(Services {
            readiness: ReadinessCheck::new(Arc::new(health)),
            audit: audit.clone(),
            sessions: service,
            accounts,
            captchas: unused_captchas(&audit),
            limits: memory_limits(),
            trust: trust.clone(),
            // No provider: identification answers 503 here (the flows are tested against
            // the real server in `tests/tests/suite/identify.rs`).
            identify: Identifications::new(
                trust,
                Arc::new(MockImageChecker::new()),
                Vec::new(),
                Arc::new(SystemClock),
            ),
            // An empty journal for every viewer (the journal's flows are tested against the
            // real server in `tests/tests/suite/journal.rs`).
            journal: Journal::new(
                Arc::new(empty_journal()),
                audit.clone(),
                Arc::new(SystemClock),
                Arc::new(OsRandom),
                Arc::new(HmacDigest::new(wildid_domain::secret::SecretBytes::new(
                    vec![3; 64],
                ))),
                JournalSettings::default(),
            ),
            admin: Admin::new(
                Arc::new(MockUserRepository::new()),
                Arc::new(MockSessionRepository::new()),
                Arc::new(MockFieldCipher::new()),
                audit.clone(),
                Arc::new(SystemClock),
            ),
            // No site, service or booking (the visits' flows are tested against the real
            // server in `tests/tests/suite/visits.rs`).
            catalogue: Catalogue::new(
                Arc::new(no_sites()),
                Arc::new(no_services()),
                audit.clone(),
                Arc::new(SystemClock),
                Arc::new(OsRandom),
            ),
            bookings: Bookings::new(BookingPorts {
                bookings: Arc::new(no_bookings()),
                sites: Arc::new(no_sites()),
                services: Arc::new(no_services()),
                users: Arc::new(MockUserRepository::new()),
                audit,
                clock: Arc::new(SystemClock),
                random: Arc::new(OsRandom),
                cipher: Arc::new(MockFieldCipher::new()),
                digest: Arc::new(MockKeyedDigest::new()),
            }),
            exposures: Exposures::new(ExposurePorts {
                mappings: Arc::new(MockVisitMappingRepository::new()),
                reports: Arc::new(MockExposureReportRepository::new()),
                notifications: Arc::new(no_notifications()),
                sites: Arc::new(no_sites()),
                audit: AuditTrail::new(Arc::new(MockAuditLog::new())),
                clock: Arc::new(SystemClock),
                random: Arc::new(OsRandom),
                cipher: Arc::new(MockFieldCipher::new()),
            }),
            retention: VisitRetention::new(
                RetentionPorts {
                    bookings: Arc::new(MockBookingRepository::new()),
                    mappings: Arc::new(MockVisitMappingRepository::new()),
                    notifications: Arc::new(MockNotificationRepository::new()),
                    leases: Arc::new(MockJobLeases::new()),
                    audit: AuditTrail::new(Arc::new(MockAuditLog::new())),
                    clock: Arc::new(SystemClock),
                },
                RetentionPolicy::default(),
                "test",
            ),
            keys: Reencryption::new(
                ReencryptionPorts {
                    sealed: Arc::new(nothing_sealed()),
                    cipher: Arc::new(one_key()),
                    leases: Arc::new(MockJobLeases::new()),
                    audit: AuditTrail::new(Arc::new(MockAuditLog::new())),
                    clock: Arc::new(SystemClock),
                },
                "test",
            ),
        }),
        settings: Arc::new(HttpSettings {
            production: false,
            secure_cookies: true,
            cookie_key: Key::from(&[3; 64]),
            trusted_proxies: Vec::new(),
            allowed_hosts: crate::HostAllowlist::new(["localhost", "127.0.0.1"]).unwrap(),
            cors: crate::CorsPolicy::new(["https://app.example.org"]).unwrap(),
            csp: crate::ContentSecurityPolicy::default(),
            map_tiles: crate::state::MapTiles::default(),
            public_url: "https://wildid.example.org".into(),
            session_lifetime_seconds: 7 * 24 * 3600,
            totp_required_roles: vec![Role::Worker, Role::Admin],
            max_upload_bytes: crate::routes::DEFAULT_UPLOAD_LIMIT,
        }),
        random: Arc::new(OsRandom),
    }
}

/// CAPTCHAs on (proof of work) with storage these tests never reach (the CAPTCHA flows are
/// tested against the real server in `tests/tests/suite/captcha.rs`).
fn unused_captchas(audit: &AuditTrail) -> Captchas {
    Captchas::new(
        CaptchaPorts {
            captchas: Arc::new(MockCaptchaRepository::new()),
            sessions: Arc::new(MockSessionRepository::new()),
            audit: audit.clone(),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        },
        Some(CaptchaSettings {
            kind: CaptchaKind::ProofOfWork,
            policy: CaptchaPolicy::default(),
            pow_key: PowKey::from_bytes([5; 64]),
            pow_max_number: 1000,
            limit: RateLimitPolicy::default(),
        }),
    )
}

/// The default request limits, counted in memory.
fn memory_limits() -> RequestLimits {
    RequestLimits::new(
        Arc::new(MemoryRateLimits::default()),
        Arc::new(MemoryRateLimits::default()),
        Arc::new(HmacDigest::new(wildid_domain::secret::SecretBytes::new(
            vec![2; 64],
        ))),
        Arc::new(SystemClock),
        std::collections::BTreeMap::new(),
    )
}

/// Account ports that these tests never reach (the account flows are tested against the real
/// server in `tests/tests/suite/auth.rs`).
fn unused_account_ports(audit: &AuditTrail) -> AccountPorts {
    let random = Arc::new(OsRandom);
    let clock = Arc::new(SystemClock);
    let cipher = Arc::new(MockFieldCipher::new());
    AccountPorts {
        users: Arc::new(MockUserRepository::new()),
        tokens: Arc::new(MockLoginTokenRepository::new()),
        rate_limits: Arc::new(MockRateLimitStore::new()),
        recovery_codes: Arc::new(MockRecoveryCodeRepository::new()),
        hasher: Arc::new(MockPasswordHasher::new()),
        strength: Arc::new(MockStrengthEstimator::new()),
        email_index: Arc::new(MockEmailIndex::new()),
        digest: Arc::new(MockKeyedDigest::new()),
        cipher: cipher.clone(),
        mail: MailQueue::new(
            Arc::new(MockMailOutbox::new()),
            cipher,
            Arc::new(MockMailer::new()),
            clock.clone(),
            random.clone(),
        ),
        audit: audit.clone(),
        clock,
        random,
    }
}

fn app() -> Router {
    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }
    async fn echo(body: String) -> String {
        body
    }
    let extra = table()
        .into_iter()
        .chain([
            route(Method::GET, "/boom", Access::Public, get(boom)),
            route(Method::POST, "/echo", Access::Public, post(echo)),
            route(Method::POST, "/api/echo", Access::Public, post(echo)),
        ])
        .collect();
    let state = state(true);
    with_layers(build(extra, &state), state)
}

async fn send(
    app: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (Response<()>, String) {
    send_with(app, method, uri, content_type, &[], body).await
}

async fn send_with(
    app: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (Response<()>, String) {
    let mut request = Request::builder().method(method).uri(uri);
    // Requests are for an allowed host unless a test says otherwise.
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request = request.header(header::HOST, "127.0.0.1:8080");
    }
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, ()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn get_(uri: &str) -> (Response<()>, String) {
    send(app(), Method::GET, uri, None, Vec::new()).await
}

fn header_of<'a>(r: &'a Response<()>, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn assert_security_headers(r: &Response<()>) {
    let csp = header_of(r, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // These settings list no map tile origin: images only from here, data: and blob:.
    assert!(csp.contains("; img-src 'self' data: blob:;"), "{csp}");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert_eq!(header_of(r, "x-content-type-options"), "nosniff");
    assert_eq!(header_of(r, "x-frame-options"), "DENY");
    assert_eq!(
        header_of(r, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert_eq!(header_of(r, "cross-origin-opener-policy"), "same-origin");
    assert_eq!(header_of(r, "x-xss-protection"), "0");
    // The pages use no powerful feature but the location and the camera, for this origin
    // only (the identify page's button, the worker page's code scanner): every other one the
    // policy names is denied to all.
    let permissions = header_of(r, "permissions-policy");
    for feature in ["microphone", "payment", "usb"] {
        assert!(
            permissions.contains(&format!("{feature}=()")),
            "{permissions}"
        );
    }
    assert!(
        permissions.split(", ").all(|rule| rule.ends_with("=()")
            || rule == "geolocation=(self)"
            || rule == "camera=(self)"),
        "{permissions}"
    );
    assert_eq!(header_of(r, "x-request-id").len(), 36);
}

fn nonce_of(r: &Response<()>) -> String {
    let csp = header_of(r, "content-security-policy");
    let start = csp.find("'nonce-").unwrap() + 7;
    csp[start..].split('\'').next().unwrap().to_owned()
}

#[tokio::test]
async fn landing_page_carries_a_fresh_nonce_on_its_inline_script() {
    let (first, html) = get_("/").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        header_of(&first, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header_of(&first, "cache-control"), "no-store");
    assert_security_headers(&first);
    let nonce = nonce_of(&first);
    assert!(nonce.len() >= 22);
    // Every inline script (a `<script>` without `src`) carries this response's nonce.
    let tags: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .collect();
    let inline: Vec<&&str> = tags.iter().filter(|tag| !tag.contains("src=")).collect();
    assert!(!inline.is_empty(), "the landing page has an inline script");
    for tag in inline {
        assert_eq!(
            *tag,
            format!(" nonce=\"{nonce}\""),
            "inline script without the nonce"
        );
    }
    assert!(html.contains("href=\"/identify\"") && html.contains("href=\"/auth/sign-in\""));
    let (second, _) = get_("/").await;
    assert_ne!(nonce_of(&second), nonce);
}

#[tokio::test]
async fn errors_are_json_under_api_and_pages_elsewhere() {
    let (api, body) = get_("/api/nothing").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&api, "content-type"), "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"error": "not_found", "message": "There is nothing at this address."})
    );
    assert_security_headers(&api);

    let (page, html) = get_("/no/such/page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&page, "content-type"), "text/html; charset=utf-8");
    assert!(
        html.contains(header_of(&page, "x-request-id")),
        "the page quotes the request id"
    );
    assert_security_headers(&page);
}

#[tokio::test]
async fn method_not_allowed_keeps_allow_and_panics_reveal_nothing() {
    let (r, body) = send(app(), Method::DELETE, "/healthz", None, Vec::new()).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header_of(&r, "allow").contains("GET"));
    assert!(body.contains("This method is not allowed here."));
    assert_security_headers(&r);

    let (r, body) = get_("/boom").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("secret internal detail") && !body.contains("panicked"));
    assert!(body.contains("Something went wrong on our side."));
    assert_security_headers(&r);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let report = vec![b'a'; 20 * 1024];
    let (r, body) = send(
        app(),
        Method::POST,
        "/api/csp-report",
        Some("application/csp-report"),
        report,
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("payload_too_large"));
    assert_security_headers(&r);
    let (r, _) = send(
        app(),
        Method::POST,
        "/nowhere",
        Some("text/plain"),
        vec![b'a'; 100 * 1024],
    )
    .await;
    assert!(r.status() == StatusCode::PAYLOAD_TOO_LARGE || r.status() == StatusCode::NOT_FOUND);
    assert_security_headers(&r);
}

#[tokio::test]
async fn probes() {
    let (ok, body) = get_("/healthz").await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (ready, body) = get_("/readyz").await;
    assert_eq!(
        (ready.status(), body.as_str()),
        (StatusCode::OK, r#"{"database":"up","status":"ready"}"#)
    );
    let down_state = state(false);
    let down = with_layers(routes(&down_state), down_state);
    let (r, body) = send(down, Method::GET, "/readyz", None, Vec::new()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"database":"down","status":"unavailable"}"#);
    assert!(!body.contains("refused"));
}

#[tokio::test]
async fn static_files_are_typed_cached_and_guarded() {
    let (css, body) = get_("/static/app.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(header_of(&css, "content-type"), "text/css; charset=utf-8");
    assert_eq!(
        header_of(&css, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(body.contains(":root"));
    assert_security_headers(&css);
    let (missing, _) = get_("/static/..%2Fsecrets.toml").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn robots_txt_keeps_crawlers_to_the_public_pages() {
    let (robots, body) = get_("/robots.txt").await;
    assert_eq!(robots.status(), StatusCode::OK);
    assert_eq!(
        header_of(&robots, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_security_headers(&robots);
    for private in ["/api/", "/auth/", "/account", "/admin", "/security/"] {
        assert!(
            body.lines().any(|l| l == format!("Disallow: {private}")),
            "{private}: {body}"
        );
    }
    assert!(body.lines().any(|l| l == "Allow: /"));
}

#[tokio::test]
async fn csp_reports_are_accepted_in_both_formats_and_validated() {
    let legacy =
        br#"{"csp-report":{"document-uri":"http://x/?token=s","violated-directive":"script-src"}}"#
            .to_vec();
    let (r, _) = send(
        app(),
        Method::POST,
        "/api/csp-report",
        Some("application/csp-report"),
        legacy,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let modern = br#"[{"type":"csp-violation","body":{"documentURL":"http://x/","effectiveDirective":"img-src"}}]"#.to_vec();
    let (r, _) = send(
        app(),
        Method::POST,
        "/api/csp-report",
        Some("application/reports+json"),
        modern,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (r, body) = send(
        app(),
        Method::POST,
        "/api/csp-report",
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("application/csp-report"));
    let (r, body) = send(
        app(),
        Method::POST,
        "/api/csp-report",
        Some("application/csp-report"),
        b"{nope".to_vec(),
    )
    .await;
    assert_eq!(
        (r.status(), body.contains("invalid_report")),
        (StatusCode::BAD_REQUEST, true)
    );
}

fn session_cookie() -> String {
    format!("__Host-wildid-session={}", known_token().encode().expose())
}

#[tokio::test]
async fn state_changing_requests_need_the_session_token() {
    let cookie = session_cookie();
    let csrf = known_csrf().encode();
    let post_ = |uri: &'static str,
                 ct: Option<&'static str>,
                 headers: Vec<(&'static str, String)>,
                 body: &'static str| {
        let headers: Vec<(&str, String)> = headers;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send_with(
                app(),
                Method::POST,
                uri,
                ct,
                &refs,
                body.as_bytes().to_vec(),
            )
            .await
        }
    };
    // No session at all.
    let (r, body) = post_("/api/echo", Some("application/json"), vec![], "{}").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(body.contains("\"error\":\"csrf_failed\""), "{body}");
    // A session but no token, or a forged one.
    let (r, _) = post_(
        "/api/echo",
        Some("application/json"),
        vec![("cookie", cookie.clone())],
        "{}",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let forged = CsrfToken::from_random([1; 32]).encode();
    let (r, _) = post_(
        "/api/echo",
        None,
        vec![("cookie", cookie.clone()), ("x-csrf-token", forged)],
        "{}",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The right token, in each of the three places; the body field is removed on the way.
    let (r, body) = post_(
        "/api/echo",
        None,
        vec![("cookie", cookie.clone()), ("x-csrf-token", csrf.clone())],
        "raw",
    )
    .await;
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, "raw"));
    let json: &'static str =
        Box::leak(format!(r#"{{"a":1,"csrf_token":"{csrf}"}}"#).into_boxed_str());
    let (r, body) = post_(
        "/api/echo",
        Some("application/json"),
        vec![("cookie", cookie.clone())],
        json,
    )
    .await;
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, r#"{"a":1}"#));
    let form: &'static str = Box::leak(format!("name=ann&csrf_token={csrf}").into_boxed_str());
    let (r, body) = post_(
        "/echo",
        Some("application/x-www-form-urlencoded"),
        vec![("cookie", cookie.clone())],
        form,
    )
    .await;
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, "name=ann"));
    // Cross-site browsers are refused even with the token.
    let (r, _) = post_(
        "/api/echo",
        None,
        vec![
            ("cookie", cookie.clone()),
            ("x-csrf-token", csrf.clone()),
            ("sec-fetch-site", "cross-site".into()),
        ],
        "{}",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (r, _) = post_(
        "/api/echo",
        None,
        vec![
            ("cookie", cookie.clone()),
            ("x-csrf-token", csrf),
            ("origin", "https://evil.example".into()),
            ("host", "127.0.0.1".into()),
        ],
        "{}",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A stale form goes back to its page (the browser's Referer) with a message, not to an
    // error page.
    let (r, _) = post_(
        "/echo",
        Some("application/x-www-form-urlencoded"),
        vec![
            ("cookie", cookie),
            ("referer", "http://127.0.0.1:8080/echo".into()),
        ],
        "name=ann",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&r, "location"), "/echo");
    assert!(header_of(&r, "set-cookie").starts_with("__Host-wildid-flash="));
}

#[tokio::test]
async fn the_status_endpoint_starts_an_anonymous_session() {
    let (r, body) = get_("/api/security/status").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = header_of(&r, "set-cookie");
    assert!(cookie.starts_with("__Host-wildid-session="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Max-Age"),
        "anonymous sessions end with the browser"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["csrf_token"].as_str().unwrap().len(), 43);
    assert_eq!(json["authenticated"], false);
    assert_eq!(json["rate_limit_threshold"], 10);
    assert_eq!(json["captcha_kind"], "proof_of_work");
    // With the known session, its token comes back and no new cookie is set.
    let (r, body) = send_with(
        app(),
        Method::GET,
        "/api/security/status",
        None,
        &[("cookie", &session_cookie())],
        vec![],
    )
    .await;
    assert!(r.headers().get("set-cookie").is_none());
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["csrf_token"], known_csrf().encode());
    // An unknown or malformed cookie is cleared.
    let (r, _) = send_with(
        app(),
        Method::GET,
        "/healthz",
        None,
        &[("cookie", "__Host-wildid-session=AAAA")],
        vec![],
    )
    .await;
    assert!(
        r.headers().get("set-cookie").is_none(),
        "malformed cookies are ignored"
    );
    let stranger = format!(
        "__Host-wildid-session={}",
        SessionToken::from_random([9; 32]).encode().expose()
    );
    let (r, _) = send_with(
        app(),
        Method::GET,
        "/healthz",
        None,
        &[("cookie", &stranger)],
        vec![],
    )
    .await;
    assert!(header_of(&r, "set-cookie").contains("Max-Age=0"));
}

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
    user.role = role;
    user.email_verified_at = Some(SystemClock.now());
    if role.includes(Role::Worker) {
        user.totp_secret = Some(EncryptedField::new("gAAAA-totp".into()));
    }
    user
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
            .map(|role| Session {
                key: *key,
                user_id: role.map(|r| viewer_user(r).id),
                ..known_session()
            }))
    });
    sessions.expect_touch().returning(|_, _| Ok(()));
    let mut users = MockUserRepository::new();
    users.expect_get().returning(|id| {
        Role::ALL
            .into_iter()
            .map(viewer_user)
            .find(|u| u.id == id)
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
    });
}

/// No encrypted value anywhere, and no walk begun.
fn nothing_sealed() -> MockSealedValues {
    let mut sealed = MockSealedValues::new();
    sealed.expect_count().returning(|_| Ok(0));
    sealed.expect_progress().returning(|_| Ok(None));
    sealed
}

/// A ring of one key.
fn one_key() -> MockFieldCipher {
    let mut cipher = MockFieldCipher::new();
    cipher
        .expect_key_id()
        .returning(|| "0123456789abcdef".into());
    cipher.expect_key_count().returning(|| 1);
    cipher
}

/// Nobody has a notification.
fn no_notifications() -> MockNotificationRepository {
    let mut repo = MockNotificationRepository::new();
    repo.expect_for_user().returning(|_, _| Ok(Vec::new()));
    repo.expect_unread().returning(|_| Ok(0));
    repo.expect_mark_read()
        .returning(|_, _, _| Err(RepoError::NotFound));
    repo
}

/// A catalogue without sites: every lookup misses, every change finds nothing.
fn no_sites() -> MockSiteRepository {
    let mut repo = MockSiteRepository::new();
    repo.expect_list().returning(|_| Ok(Vec::new()));
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_insert().returning(|_| Ok(()));
    repo.expect_update().returning(|_| Err(RepoError::NotFound));
    repo
}

/// A catalogue without services.
fn no_services() -> MockServiceTypeRepository {
    let mut repo = MockServiceTypeRepository::new();
    repo.expect_list().returning(|| Ok(Vec::new()));
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_insert().returning(|_| Ok(()));
    repo.expect_update().returning(|_| Err(RepoError::NotFound));
    repo
}

/// No bookings at all.
fn no_bookings() -> MockBookingRepository {
    let mut repo = MockBookingRepository::new();
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_for_visitor().returning(|_, _| Ok(Vec::new()));
    repo.expect_open().returning(|_, _| Ok(Vec::new()));
    repo.expect_held_by().returning(|_, _| Ok(Vec::new()));
    repo.expect_sealed_token().returning(|_| Ok(None));
    repo
}

/// A journal repository in which nobody has any entry.
fn empty_journal() -> MockIdentificationRepository {
    let mut repo = MockIdentificationRepository::new();
    repo.expect_get().returning(|_, _| Err(RepoError::NotFound));
    repo.expect_picture()
        .returning(|_, _, _| Err(RepoError::NotFound));
    repo.expect_delete()
        .returning(|_, _| Err(RepoError::NotFound));
    repo.expect_put_feedback()
        .returning(|_, _, _| Err(RepoError::NotFound));
    repo.expect_set_visibility()
        .returning(|_, _, _| Err(RepoError::NotFound));
    repo.expect_stored_bytes().returning(|_| Ok(0));
    repo.expect_shared_in().returning(|_, _, _| Ok(Vec::new()));
    repo.expect_sightings_of().returning(|_, _| Ok(Vec::new()));
    repo.expect_list().returning(|_, _, _, _| {
        Ok(wildid_ports::repo::JournalSlice {
            entries: Vec::new(),
            next: None,
        })
    });
    repo
}

/// A state whose every session belongs to one `role` user without a second factor.
fn without_second_factor(role: Role) -> AppState {
    let mut state = matrix_state();
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(|key| {
        Ok(Some(Session {
            key: *key,
            user_id: Some(UserId::from_random([99; 16])),
            ..known_session()
        }))
    });
    sessions.expect_touch().returning(|_, _| Ok(()));
    let mut users = MockUserRepository::new();
    users.expect_get().returning(move |_| {
        let mut user = viewer_user(role);
        user.id = UserId::from_random([99; 16]);
        user.totp_secret = None;
        Ok(user)
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

/// Routes that answer under `/api` but are not part of the described API: the document itself.
const UNDESCRIBED: &[(&str, &str)] = &[("GET", "/api/openapi.json")];

#[test]
fn the_openapi_document_describes_every_api_route_and_nothing_else() {
    let doc = super::openapi::document();
    let table = table();
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                described.push((method.to_owned(), path.clone()));
            }
        }
    }
    described.sort();
    let mut routed: Vec<(String, String)> = table
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .filter(|(m, p)| !UNDESCRIBED.contains(&(m.as_str(), p.as_str())))
        .collect();
    routed.sort();
    assert_eq!(described, routed);
    // Every described answer that is an error has the error body.
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post].into_iter().flatten() {
            for (status, response) in &op.responses.responses {
                let json = serde_json::to_value(response).unwrap_or_default();
                assert!(
                    json["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{path} {status} needs a description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = AGREED_ERROR_SHAPES
                        .iter()
                        .find(|(p, s, _)| p == path && s == status)
                        .map_or("ErrorBody", |(_, _, schema)| schema);
                    assert_eq!(
                        json["content"]["application/json"]["schema"]["$ref"],
                        format!("#/components/schemas/{schema}"),
                        "{path} {status} must document the error body"
                    );
                }
            }
        }
    }
}

/// Error answers whose shape was agreed with external clients before the common error body
/// (seed §7's `{"success": false, "error"}`).
const AGREED_ERROR_SHAPES: &[(&str, &str, &str)] =
    &[("/api/security/verify", "400", "CaptchaFailed")];

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let (r, body) = get_("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "content-type"), "application/json");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    assert!(doc["paths"]["/api/auth/login"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["csrf"].is_object());
}

//! The state, router and request helpers every router test starts from: a known session, mocked ports without expectations, and the security headers every response carries.

use super::*;

/// The session every test request may present: cookie `known_token()`, CSRF `known_csrf()`,
/// bound to the fingerprint of requests without browser headers.
pub(super) fn known_token() -> SessionToken {
    SessionToken::from_random([42; 32])
}

pub(super) fn known_csrf() -> CsrfToken {
    CsrfToken::from_random([43; 32])
}

pub(super) fn known_session() -> Session {
    let now = wildid_ports::clock::Clock::now(&SystemClock);
    Session::new_anonymous(
        known_token().key(),
        Fingerprint::from_headers("", "", ""),
        known_csrf(),
        now,
    )
}

/// [`known_session`] stored under `key`, of `user` (without an authentication time).
pub(super) fn known_session_as(key: SessionKey, user: Option<UserId>) -> Session {
    let mut record = known_session().into_record();
    record.key = key;
    record.user_id = user;
    Session::restore(record).unwrap()
}

pub(super) fn state(database_up: bool) -> AppState {
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
            sign_ins: SignIns::new(accounts.clone(), service.clone()),
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
                Arc::new(MockEmailIndex::new()),
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
            providers: Arc::new(NoProviders),
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
            effective: Vec::new(),
        }),
        random: Arc::new(OsRandom),
        journal_pages: Arc::default(),
    }
}

/// CAPTCHAs on (proof of work) with storage these tests never reach (the CAPTCHA flows are
/// tested against the real server in `tests/tests/suite/captcha.rs`).
pub(super) fn unused_captchas(audit: &AuditTrail) -> Captchas {
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
pub(super) fn memory_limits() -> RequestLimits {
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
pub(super) fn unused_account_ports(audit: &AuditTrail) -> AccountPorts {
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

pub(super) fn app() -> Router {
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

pub(super) async fn send(
    app: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (Response<()>, String) {
    send_with(app, method, uri, content_type, &[], body).await
}

pub(super) async fn send_with(
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

pub(super) async fn get_(uri: &str) -> (Response<()>, String) {
    send(app(), Method::GET, uri, None, Vec::new()).await
}

pub(super) fn header_of<'a>(r: &'a Response<()>, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

pub(super) fn assert_security_headers(r: &Response<()>) {
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

pub(super) fn nonce_of(r: &Response<()>) -> String {
    let csp = header_of(r, "content-security-policy");
    let start = csp.find("'nonce-").unwrap() + 7;
    csp[start..].split('\'').next().unwrap().to_owned()
}

pub(super) fn session_cookie() -> String {
    format!("__Host-wildid-session={}", known_token().encode().expose())
}

/// No encrypted value anywhere, and no walk begun.
pub(super) fn nothing_sealed() -> MockSealedValues {
    let mut sealed = MockSealedValues::new();
    sealed.expect_count().returning(|_| Ok(0));
    sealed.expect_progress().returning(|_| Ok(None));
    sealed
}

/// A ring of one key.
pub(super) fn one_key() -> MockFieldCipher {
    let mut cipher = MockFieldCipher::new();
    cipher
        .expect_key_id()
        .returning(|| "0123456789abcdef".into());
    cipher.expect_key_count().returning(|| 1);
    cipher
}

/// Nobody has a notification.
pub(super) fn no_notifications() -> MockNotificationRepository {
    let mut repo = MockNotificationRepository::new();
    repo.expect_for_user().returning(|_, _| Ok(Vec::new()));
    repo.expect_unread().returning(|_| Ok(0));
    repo.expect_mark_read()
        .returning(|_, _, _| Err(RepoError::NotFound));
    repo
}

/// A catalogue without sites: every lookup misses, every change finds nothing.
pub(super) fn no_sites() -> MockSiteRepository {
    let mut repo = MockSiteRepository::new();
    repo.expect_list().returning(|_| Ok(Vec::new()));
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_insert().returning(|_| Ok(()));
    repo.expect_update().returning(|_| Err(RepoError::NotFound));
    repo
}

/// A catalogue without services.
pub(super) fn no_services() -> MockServiceTypeRepository {
    let mut repo = MockServiceTypeRepository::new();
    repo.expect_list().returning(|| Ok(Vec::new()));
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_insert().returning(|_| Ok(()));
    repo.expect_update().returning(|_| Err(RepoError::NotFound));
    repo
}

/// No bookings at all.
pub(super) fn no_bookings() -> MockBookingRepository {
    let mut repo = MockBookingRepository::new();
    repo.expect_get().returning(|_| Err(RepoError::NotFound));
    repo.expect_for_visitor().returning(|_, _| Ok(Vec::new()));
    repo.expect_open().returning(|_, _| Ok(Vec::new()));
    repo.expect_held_by().returning(|_, _| Ok(Vec::new()));
    repo.expect_sealed_token().returning(|_| Ok(None));
    repo
}

/// A journal repository in which nobody has any entry.
pub(super) fn empty_journal() -> MockIdentificationRepository {
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

/// A chain with no provider, as the admin console would see it.
struct NoProviders;

impl wildid_ports::identify::ProviderMonitor for NoProviders {
    fn statuses(&self) -> Vec<wildid_ports::identify::ProviderStatus> {
        Vec::new()
    }
}

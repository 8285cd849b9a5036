//! Responses of every kind: the nonce on inline scripts, errors as JSON or pages, 405, 413, probes, static files, robots.txt and CSP reports.

use super::*;

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

/// A failing dependency's cause (a host, SQL, a file path) goes to the log, never into the
/// answer, on the API and on pages (ASVS 13.4.2, 16.5.1).
#[tokio::test]
async fn a_failing_dependency_is_answered_without_its_cause() {
    let causes = [
        (
            RepoError::Unavailable("connect to db.internal.example:5432 refused".into()),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            RepoError::Corrupt("SELECT * FROM sessions in /var/lib/wildid/wildid.db".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ];
    for (error, status) in causes {
        let mut state = state(true);
        let mut sessions = MockSessionRepository::new();
        let failing = error.clone();
        sessions
            .expect_get()
            .returning(move |_| Err(failing.clone()));
        Arc::get_mut(&mut state.services).unwrap().sessions = SessionService::new(
            Arc::new(sessions),
            Arc::new(MockUserRepository::new()),
            AuditTrail::new(Arc::new(MockAuditLog::new())),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
            SessionPolicy::default(),
        );
        let app = with_layers(routes(&state), state);
        for path in ["/api/auth/me", "/account"] {
            let (r, body) = send_with(
                app.clone(),
                Method::GET,
                path,
                None,
                &[("cookie", &session_cookie())],
                vec![],
            )
            .await;
            assert_eq!(r.status(), status, "{path}: {body}");
            for leak in [
                "db.internal",
                "5432",
                "SELECT",
                "sessions",
                "/var/lib",
                "wildid.db",
            ] {
                assert!(!body.contains(leak), "{path} answers {leak:?}: {body}");
            }
            assert_security_headers(&r);
        }
    }
}

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

use super::{routes, with_layers};
use crate::state::{AppState, HttpSettings, Services};

fn state(database_up: bool) -> AppState {
    let mut health = MockHealthCheck::new();
    health.expect_ping().returning(move || {
        if database_up {
            Ok(())
        } else {
            Err(RepoError::Unavailable("connection refused".into()))
        }
    });
    AppState {
        services: Arc::new(Services {
            readiness: ReadinessCheck::new(Arc::new(health)),
            audit: AuditTrail::new(Arc::new(MockAuditLog::new())),
        }),
        settings: Arc::new(HttpSettings {
            production: false,
            secure_cookies: true,
            cookie_key: Key::from(&[3; 64]),
        }),
        random: Arc::new(OsRandom),
    }
}

fn app() -> Router {
    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }
    let panicking = routes().route("/boom", get(boom));
    with_layers(panicking, state(true))
}

async fn send(
    app: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (Response<()>, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
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
    assert_eq!(header_of(r, "x-content-type-options"), "nosniff");
    assert_eq!(header_of(r, "x-frame-options"), "DENY");
    assert_eq!(
        header_of(r, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert_eq!(header_of(r, "cross-origin-opener-policy"), "same-origin");
    assert_eq!(header_of(r, "x-xss-protection"), "0");
    assert!(!header_of(r, "permissions-policy").is_empty());
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
    let inline_scripts = html.matches("<script nonce=").count();
    assert_eq!(inline_scripts, html.matches("<script nonce=\"").count());
    assert_eq!(
        html.matches(&format!("<script nonce=\"{nonce}\">")).count(),
        inline_scripts
    );
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
    let down = with_layers(routes(), state(false));
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

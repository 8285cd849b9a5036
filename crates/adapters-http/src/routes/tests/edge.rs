//! The edge checks through the whole router: the `Host` allowlist on every route, CORS on the
//! API only and for listed origins only, and the production redirect to HTTPS that only a
//! trusted proxy can avoid.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;

use super::*;

const LISTED: &str = "https://app.example.org";

fn access_control_headers(r: &Response<()>) -> Vec<String> {
    r.headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-allow"))
        .collect()
}

#[tokio::test]
async fn every_route_refuses_a_host_that_is_not_allowed_before_anything_else() {
    let mut specs: Vec<(Method, &str)> =
        table().into_iter().map(|s| (s.method, s.example)).collect();
    specs.push((Method::GET, "/no-such-page"));
    for (method, path) in specs {
        for host in ["evil.example", "127.0.0.1.evil.example", "localhost."] {
            let cookie = session_cookie();
            let csrf = known_csrf().encode();
            let (r, body) = send_with(
                app(),
                method.clone(),
                path,
                Some("application/json"),
                &[("host", host), ("cookie", &cookie), ("x-csrf-token", &csrf)],
                b"{}".to_vec(),
            )
            .await;
            assert_eq!(
                r.status(),
                StatusCode::BAD_REQUEST,
                "{method} {path} {host}"
            );
            if path.starts_with("/api/") {
                assert!(body.contains(r#""error":"host_not_allowed""#), "{body}");
            } else {
                assert!(body.contains("does not answer for that host"), "{body}");
            }
            assert!(!body.contains(host), "the refused host is not echoed");
            assert!(r.headers().get(header::SET_COOKIE).is_none());
            assert_security_headers(&r);
        }
    }
}

#[tokio::test]
async fn listed_origins_get_credentials_on_the_api_and_nobody_else_gets_anything() {
    let (r, _) = send_with(
        app(),
        Method::GET,
        "/api/security/status",
        None,
        &[("origin", LISTED)],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "access-control-allow-origin"), LISTED);
    assert_eq!(header_of(&r, "access-control-allow-credentials"), "true");
    assert!(header_of(&r, "access-control-expose-headers").contains("x-request-id"));
    assert!(header_of(&r, "vary").contains("origin"));

    // Error answers are readable by the listed front end too.
    let (r, _) = send_with(
        app(),
        Method::GET,
        "/api/nothing-here",
        None,
        &[("origin", LISTED)],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&r, "access-control-allow-origin"), LISTED);

    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.org.evil.example",
    ] {
        let (r, _) = send_with(
            app(),
            Method::GET,
            "/api/security/status",
            None,
            &[("origin", origin)],
            Vec::new(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(access_control_headers(&r), Vec::<String>::new(), "{origin}");
        assert!(header_of(&r, "vary").contains("origin"));
    }
    // Pages are never shared, whoever asks.
    let (r, _) = send_with(
        app(),
        Method::GET,
        "/",
        None,
        &[("origin", LISTED)],
        Vec::new(),
    )
    .await;
    assert_eq!(access_control_headers(&r), Vec::<String>::new());
}

#[tokio::test]
async fn preflights_are_answered_for_listed_origins_and_refused_for_others() {
    let preflight = |origin: &'static str, method: &'static str| async move {
        send_with(
            app(),
            Method::OPTIONS,
            "/api/auth/login",
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", method),
                (
                    "access-control-request-headers",
                    "content-type,x-csrf-token",
                ),
            ],
            Vec::new(),
        )
        .await
    };
    let (r, _) = preflight(LISTED, "POST").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(header_of(&r, "access-control-allow-origin"), LISTED);
    assert!(header_of(&r, "access-control-allow-methods").contains("POST"));
    assert!(header_of(&r, "access-control-allow-headers").contains("x-csrf-token"));
    assert_eq!(header_of(&r, "access-control-allow-credentials"), "true");
    assert!(
        r.headers().get(header::SET_COOKIE).is_none(),
        "no session for a preflight"
    );
    assert_security_headers(&r);

    let (r, body) = preflight("https://evil.example", "POST").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        body.contains(r#""error":"cors_origin_not_allowed""#),
        "{body}"
    );
    assert_eq!(access_control_headers(&r), Vec::<String>::new());

    let (r, _) = preflight(LISTED, "TRACE").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(access_control_headers(&r), Vec::<String>::new());
}

#[tokio::test]
async fn a_listed_origin_may_write_with_the_token_and_no_other_origin_may() {
    let cookie = session_cookie();
    let csrf = known_csrf().encode();
    let write = |origin: &'static str, token: String| {
        let cookie = cookie.clone();
        async move {
            send_with(
                app(),
                Method::POST,
                "/api/echo",
                None,
                &[
                    ("origin", origin),
                    ("sec-fetch-site", "same-site"),
                    ("cookie", &cookie),
                    ("x-csrf-token", &token),
                ],
                b"hello".to_vec(),
            )
            .await
        }
    };
    let (r, body) = write(LISTED, csrf.clone()).await;
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, "hello"));
    assert_eq!(header_of(&r, "access-control-allow-origin"), LISTED);

    let forged = CsrfToken::from_random([9; 32]).encode();
    let (r, body) = write(LISTED, forged).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the token is still required"
    );
    assert!(body.contains("csrf_failed"));

    let (r, body) = write("https://evil.example", csrf).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(body.contains("csrf_failed"));
}

/// The application in production behind `trusted` proxies.
fn production_app(trusted: &[&str]) -> Router {
    let mut state = state(true);
    let settings = Arc::get_mut(&mut state.settings).unwrap();
    settings.production = true;
    settings.allowed_hosts = crate::HostAllowlist::new(["wildid.example.org"]).unwrap();
    settings.trusted_proxies = trusted.iter().map(|t| t.parse().unwrap()).collect();
    let routes = routes(&state);
    with_layers(routes, state)
}

async fn from_peer(app: Router, peer: &str, uri: &str, headers: &[(&str, &str)]) -> Response<()> {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::HOST, "wildid.example.org");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.oneshot(request).await.unwrap();
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, ())
}

#[tokio::test]
async fn production_sends_plain_http_to_the_public_https_url() {
    let app = production_app(&["10.0.0.0/8"]);
    // Plain HTTP, straight from a client: the same path and query on the public URL.
    let r = from_peer(
        app.clone(),
        "198.51.100.7:5000",
        "/auth/sign-in?next=%2Faccount",
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        header_of(&r, "location"),
        "https://wildid.example.org/auth/sign-in?next=%2Faccount"
    );
    let hsts = header_of(&r, "strict-transport-security");
    assert!(hsts.contains("; includeSubDomains"), "{hsts}");
    let max_age: u64 = hsts
        .strip_prefix("max-age=")
        .and_then(|rest| rest.split(';').next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no max-age first in {hsts}"));
    assert!(max_age >= 365 * 24 * 3600, "HSTS for under a year: {hsts}");
    // A client cannot claim HTTPS for itself.
    let r = from_peer(
        app.clone(),
        "198.51.100.7:5000",
        "/",
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    // A trusted proxy that terminated TLS can.
    let r = from_peer(
        app.clone(),
        "10.0.0.2:5000",
        "/",
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = from_peer(
        app.clone(),
        "10.0.0.2:5000",
        "/",
        &[("x-forwarded-proto", "http")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    // Probes answer over plain HTTP, for orchestrators.
    let r = from_peer(app, "198.51.100.7:5000", "/healthz", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// The application with `windows` for the sign-in group.
pub(super) fn limited_app(windows: Vec<wildid_domain::rate_limit::RateLimit>) -> Router {
    let mut state = state(true);
    let services = Arc::get_mut(&mut state.services).unwrap();
    services.limits = wildid_ports::services::limits::RequestLimits::new(
        Arc::new(wildid_ports::builtin::MemoryRateLimits::default()),
        Arc::new(wildid_ports::builtin::MemoryRateLimits::default()),
        Arc::new(wildid_ports::builtin::HmacDigest::new(
            wildid_domain::secret::SecretBytes::new(vec![1; 64]),
        )),
        Arc::new(SystemClock),
        std::collections::BTreeMap::from([(
            wildid_ports::services::limits::RouteGroup::SignIn,
            windows,
        )]),
    );
    Arc::get_mut(&mut state.settings).unwrap().allowed_hosts =
        crate::HostAllowlist::new(["127.0.0.1", "wildid.example.org"]).unwrap();
    let routes = routes(&state);
    with_layers(routes, state)
}

pub(super) async fn post_from(app: Router, peer: &str, uri: &str) -> Response<()> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let (parts, _) = app.oneshot(request).await.unwrap().into_parts();
    Response::from_parts(parts, ())
}

#[tokio::test]
async fn route_groups_are_limited_with_ratelimit_fields() {
    use wildid_domain::rate_limit::RateLimit;
    let app = limited_app(vec![
        RateLimit::new(2, chrono::TimeDelta::seconds(60)).unwrap(),
        RateLimit::new(10, chrono::TimeDelta::seconds(3600)).unwrap(),
    ]);
    // Refused by the anti-forgery check, but counted: the limit comes first.
    for left in ["1", "0"] {
        let r = post_from(app.clone(), "203.0.113.9:4000", "/api/auth/magic-link").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            header_of(&r, "ratelimit-policy"),
            r#""sign_in_60";q=2;w=60, "sign_in_3600";q=10;w=3600"#
        );
        assert!(
            header_of(&r, "ratelimit").starts_with(&format!(r#""sign_in_60";r={left};t="#)),
            "{}",
            header_of(&r, "ratelimit")
        );
    }
    let r = post_from(app.clone(), "203.0.113.9:4001", "/auth/sign-in").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the whole group shares it"
    );
    let retry: i64 = header_of(&r, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert!(header_of(&r, "ratelimit").starts_with(r#""sign_in_60";r=0;t="#));
    assert_security_headers(&r);
    // Another network is not affected, nor is another group.
    let r = post_from(app.clone(), "198.51.100.1:4000", "/api/auth/magic-link").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_from(
        app.clone(),
        "203.0.113.9:4000",
        "/api/account/sessions/revoke",
    )
    .await;
    assert!(header_of(&r, "ratelimit-policy").starts_with(r#""default_60";q=600"#));
    // Probes are never limited.
    let r = from_peer(app, "203.0.113.9:4000", "/healthz", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "ratelimit-policy"), "");
}

#[test]
fn every_route_has_the_group_its_cost_calls_for() {
    use wildid_ports::services::limits::RouteGroup;
    // Credential writes outside /auth/ that cost a password hash or a code check.
    const SIGN_IN_WRITES: &[&str] = &[
        "/account/password",
        "/account/email",
        "/account/totp",
        "/api/account/password",
        "/api/account/email",
        "/api/account/totp/confirm",
        "/api/account/totp/disable",
    ];
    let post = |spec: &super::super::RouteSpec| spec.method == Method::POST;
    for spec in table() {
        let expected =
            if ["/healthz", "/readyz", "/static/{file}", "/robots.txt"].contains(&spec.path) {
                RouteGroup::Unlimited
            } else if spec.path == "/api/csp-report" {
                RouteGroup::Reports
            } else if post(&spec) && spec.upload {
                RouteGroup::Identify
            } else if post(&spec)
                && spec.path.contains("/security/")
                && spec.path != "/api/security/status"
            {
                RouteGroup::Captcha
            } else if post(&spec)
                && (spec.path.starts_with("/auth/")
                    || spec.path.starts_with("/api/auth/")
                    || SIGN_IN_WRITES.contains(&spec.path))
            {
                RouteGroup::SignIn
            } else {
                RouteGroup::Default
            };
        assert_eq!(spec.group, expected, "{} {}", spec.method, spec.path);
    }
    let uploads: Vec<_> = table()
        .into_iter()
        .filter(|s| s.upload)
        .map(|s| (s.method, s.path))
        .collect();
    assert_eq!(
        uploads,
        [(Method::POST, "/api/identify"), (Method::POST, "/identify")],
        "only the identification routes take photos"
    );
    let new = super::super::route(
        Method::GET,
        "/some/new/route",
        crate::access::Access::Public,
        axum::routing::get(|| async { "" }),
    );
    assert_eq!(
        new.group,
        RouteGroup::Default,
        "new routes are limited from the start"
    );
    assert!(!new.upload, "new routes take small bodies");
}

/// `X-Forwarded-Host` is never believed, not even from a trusted proxy (ASVS 4.1.3): the host
/// allowlist reads `Host`, and redirects go to the public URL.
#[tokio::test]
async fn a_forwarded_host_changes_nothing_even_from_a_trusted_proxy() {
    let app = production_app(&["10.0.0.0/8"]);
    for peer in ["198.51.100.7:5000", "10.1.2.3:5000"] {
        let r = from_peer(
            app.clone(),
            peer,
            "/auth/sign-in",
            &[("x-forwarded-host", "evil.example")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "{peer}");
        assert_eq!(
            header_of(&r, "location"),
            "https://wildid.example.org/auth/sign-in",
            "{peer}"
        );
    }
    // Through the trusted proxy over https: served, and nothing in the page names the forged
    // host.
    let response = through_proxy(app.clone(), "wildid.example.org", "evil.example").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(!String::from_utf8_lossy(&body).contains("evil.example"));
    // A forged host in `Host` itself is refused, whatever `X-Forwarded-Host` says.
    let response = through_proxy(app, "evil.example", "wildid.example.org").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// `GET /` over https through the trusted proxy 10.1.2.3, with `host` and `forwarded_host`.
async fn through_proxy(app: Router, host: &str, forwarded_host: &str) -> Response<Body> {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri("/")
        .header(header::HOST, host)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", forwarded_host)
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo("10.1.2.3:5000".parse::<SocketAddr>().unwrap()));
    app.oneshot(request).await.unwrap()
}

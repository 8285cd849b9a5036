//! The security suite driven by the route table itself, so a route added later is covered
//! without a new test: every state-changing route refuses a missing, forged or cross-site
//! request before its handler runs (the handlers' ports are mocks without expectations, which
//! would answer 500 if reached), and every route answers with the security headers.

use super::*;
use crate::csrf::EXEMPT;

/// One forged attempt: its content type, extra headers and body.
type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn mutating() -> Vec<(Method, &'static str)> {
    table()
        .into_iter()
        .filter(|s| s.method != Method::GET && !EXEMPT.contains(&s.path))
        .map(|s| (s.method, s.example))
        .collect()
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_missing_or_forged_token() {
    let routes = mutating();
    assert!(routes.len() > 30, "the table has its state-changing routes");
    let cookie = session_cookie();
    let forged = CsrfToken::from_random([8; 32]).encode();
    let forged_json: &'static str =
        Box::leak(format!(r#"{{"csrf_token":"{forged}"}}"#).into_boxed_str());
    let forged_form: &'static str = Box::leak(format!("csrf_token={forged}").into_boxed_str());
    for (method, path) in routes {
        let api = path.starts_with("/api/");
        let attempts: [Attempt<'_>; 4] = [
            ("application/json", vec![("cookie", &cookie)], "{}"),
            (
                "application/json",
                vec![("cookie", &cookie), ("x-csrf-token", &forged)],
                "{}",
            ),
            ("application/json", vec![("cookie", &cookie)], forged_json),
            (
                "application/x-www-form-urlencoded",
                vec![("cookie", &cookie)],
                forged_form,
            ),
        ];
        for (content_type, headers, body) in attempts {
            let (r, text) = send_with(
                app(),
                method.clone(),
                path,
                Some(content_type),
                &headers,
                body.as_bytes().to_vec(),
            )
            .await;
            let form = content_type.starts_with("application/x-www");
            if api {
                assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path} {body}");
                assert!(
                    text.contains(r#""error":"csrf_failed""#),
                    "{method} {path}: {text}"
                );
            } else if !form {
                // JSON sent to a page: refused, with the page-style error answer.
                assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path} {body}");
                assert!(text.contains("could not be verified"), "{method} {path}");
            } else {
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "{method} {path} (form)");
                assert_eq!(
                    header_of(&r, "location"),
                    "/",
                    "no Referer: back to the start"
                );
                assert!(
                    header_of(&r, "set-cookie").contains("wildid-flash"),
                    "a message"
                );
            }
            assert_security_headers(&r);
        }
    }
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_cross_site_request_even_with_the_token() {
    let cookie = session_cookie();
    let csrf = known_csrf().encode();
    for (method, path) in mutating() {
        for cross in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
            ("origin", "null"),
        ] {
            let (r, text) = send_with(
                app(),
                method.clone(),
                path,
                Some("application/json"),
                &[("cookie", &cookie), ("x-csrf-token", &csrf), cross],
                b"{}".to_vec(),
            )
            .await;
            assert_eq!(
                r.status(),
                StatusCode::FORBIDDEN,
                "{method} {path} {cross:?}"
            );
            let refusal = if path.starts_with("/api/") {
                "csrf_failed"
            } else {
                "could not be verified"
            };
            assert!(text.contains(refusal), "{method} {path}: {text}");
        }
    }
}

#[tokio::test]
async fn a_refused_form_goes_back_to_its_page_with_a_message() {
    let (r, _) = send_with(
        app(),
        Method::POST,
        "/auth/sign-out",
        Some("application/x-www-form-urlencoded"),
        &[
            ("cookie", &session_cookie()),
            ("referer", "http://127.0.0.1:8080/account?tab=sessions"),
        ],
        b"csrf_token=wrong".to_vec(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&r, "location"), "/account?tab=sessions");
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers() {
    let mut kinds = 0;
    for spec in table() {
        let (r, _) = send_with(
            app(),
            spec.method.clone(),
            spec.example,
            Some("application/json"),
            &[("cookie", &session_cookie())],
            b"{}".to_vec(),
        )
        .await;
        assert_security_headers(&r);
        assert_envelope(&r, spec.path);
        kinds += 1;
    }
    // And the answers no route gives: 404, 405, 413 and a caught panic.
    let csrf = known_csrf().encode();
    for (method, path, body) in [
        (Method::GET, "/no/such/page", Vec::new()),
        (Method::DELETE, "/", Vec::new()),
        (Method::POST, "/api/echo", vec![b'x'; 70 * 1024]),
        (Method::GET, "/boom", Vec::new()),
    ] {
        let (r, _) = send_with(
            app(),
            method,
            path,
            Some("text/plain"),
            &[("cookie", &session_cookie()), ("x-csrf-token", &csrf)],
            body,
        )
        .await;
        assert!(
            [404, 405, 413, 500].contains(&r.status().as_u16()),
            "{path}: {}",
            r.status()
        );
        assert_security_headers(&r);
        assert_envelope(&r, path);
        kinds += 1;
    }
    // And 429, from a request limit (counted before any other check).
    let limited_app = super::edge::limited_app(vec![
        wildid_domain::rate_limit::RateLimit::new(1, chrono::TimeDelta::seconds(60)).unwrap(),
    ]);
    let peer = "203.0.113.7:4000";
    super::edge::post_from(limited_app.clone(), peer, "/api/auth/magic-link").await;
    let limited = super::edge::post_from(limited_app, peer, "/api/auth/magic-link").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_security_headers(&limited);
    assert_envelope(&limited, "/api/auth/login (429)");
    assert!(kinds > 50);
}

/// ASVS 4.1.1 and 14.3.2: a body always says its type, with the character set where IANA
/// defines one; nothing but the fingerprinted static files and `robots.txt` (public, about no
/// one) may be stored by a cache.
fn assert_envelope(r: &Response<()>, what: &str) {
    let content_type = header_of(r, "content-type");
    let length = header_of(r, "content-length");
    if length != "0" {
        assert!(
            !content_type.is_empty(),
            "{what}: a body without Content-Type"
        );
    }
    // IANA defines a charset parameter for text/* and XML types (required here); JSON has
    // none (RFC 8259: always UTF-8), so it must be plain `application/json`.
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.starts_with("text/") || essence.ends_with("+xml") || essence.ends_with("/xml") {
        assert!(
            content_type.to_ascii_lowercase().contains("charset=utf-8"),
            "{what}: {content_type} without its character set"
        );
    }
    if essence.ends_with("json") {
        assert_eq!(content_type, "application/json", "{what}");
    }
    let cache = header_of(r, "cache-control");
    if what.starts_with("/static/") && r.status() == StatusCode::OK {
        assert!(cache.contains("immutable"), "{what}: {cache}");
    } else if what == "/robots.txt" && r.status() == StatusCode::OK {
        // The same for everyone and about no one: a day in any cache.
        assert_eq!(cache, "public, max-age=86400", "{what}");
    } else {
        assert_eq!(cache, "no-store", "{what} ({})", r.status());
    }
}

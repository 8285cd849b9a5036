//! The anti-forgery checks: state-changing requests need the session token, and the status endpoint starts an anonymous session.

use super::*;

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
    // The right token, in each of the three places; the body reaches the handler exactly as
    // it came (JSON handlers pass the field over as they parse, `api_json::WithoutToken`).
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
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, json));
    let form: &'static str = Box::leak(format!("name=ann&csrf_token={csrf}").into_boxed_str());
    let (r, body) = post_(
        "/echo",
        Some("application/x-www-form-urlencoded"),
        vec![("cookie", cookie.clone())],
        form,
    )
    .await;
    assert_eq!((r.status(), body.as_str()), (StatusCode::OK, form));
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
    let flash = header_of(&r, "set-cookie");
    assert!(flash.starts_with("__Host-wildid-flash="), "{flash}");
    // The message cookie has the session cookie's protections (ASVS 3.3.1, 3.3.2, 3.3.4).
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(flash.contains(attribute), "{flash}");
    }
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

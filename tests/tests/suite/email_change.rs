//! Black-box tests of changing an account's address against the real server: the request
//! needs a fresh authentication, the link goes to the new address and works once, only for
//! the account that asked, the old address is told, and sessions are rotated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use wildid_tests::accounts::{PASSWORD, age_authentications, assert_audited, options, registered};
use wildid_tests::client::{Answer, Client, link_in, outbox, wait_for_mail};
use wildid_tests::server::Server;

/// Registers, confirms and signs in `email` with the password.
async fn signed_in(server: &Server, email: &str) -> Client {
    let mut b = registered(server, email).await;
    assert_eq!(login(&mut b, email).await.status, 200);
    b
}

async fn login(b: &mut Client, email: &str) -> Answer {
    b.post_json(
        "/api/auth/login",
        &json!({"email": email, "password": PASSWORD}),
    )
    .await
}

/// Asks to move `b`'s account to `new_email`; returns the mails that arrived.
async fn ask(server: &Server, b: &mut Client, new_email: &str) -> Vec<String> {
    let before = outbox(&server.data_dir).len();
    let r = b
        .post_json("/api/account/email", &json!({"new_email": new_email}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()["status"], "confirmation_sent");
    wait_for_mail(&server.data_dir, before + 1).await[before..].to_vec()
}

#[tokio::test]
async fn an_account_moves_to_a_confirmed_address_and_the_old_one_is_told() {
    let server = Server::start_with(options()).unwrap();
    let mut laptop = signed_in(&server, "old.heron@example.org").await;
    let mut phone = Client::with_user_agent(&server.url(""), "WildID phone test");
    assert_eq!(login(&mut phone, "old.heron@example.org").await.status, 200);

    // A stale authentication is not enough.
    age_authentications(&server.data_dir);
    let r = laptop
        .post_json(
            "/api/account/email",
            &json!({"new_email": "new.heron@example.org"}),
        )
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "reauthentication_required")
    );
    let r = laptop
        .post_json("/api/auth/reauth", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let mails = ask(&server, &mut laptop, "  New.Heron@Example.org ").await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: new.heron@example.org"),
        "{}",
        mails[0]
    );
    let (link, token) = link_in(&mails[0], "/account/email/confirm");
    assert!(link.starts_with("https://wildid.example.org/account/email/confirm?token="));

    // Opening the link signed out leads to sign-in and back, token included.
    let mut stranger = Client::new(&server.url(""));
    let page = stranger
        .get(&format!("/account/email/confirm?token={token}"))
        .await;
    assert_eq!(page.status, 303);
    let location = page.header("location").unwrap();
    assert!(location.starts_with("/auth/sign-in?next="), "{location}");
    assert!(location.contains(&token), "{location}");

    // Another account cannot use it, and does not use it up.
    let mut other = signed_in(&server, "other.heron@example.org").await;
    let r = other
        .post_json("/api/account/email/confirm", &json!({"token": token}))
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_link"));

    // The owner can, once; the phone session ends as asked; the laptop gets a new session id.
    let old_cookie = laptop.session_cookie().unwrap();
    let before = outbox(&server.data_dir).len();
    let r = laptop
        .post_json(
            "/api/account/email/confirm",
            &json!({"token": token, "end_other_sessions": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "changed");
    assert_ne!(laptop.session_cookie().unwrap(), old_cookie);
    let me = laptop.get("/api/auth/me").await.json();
    assert_eq!(me["user"]["email"], "new.heron@example.org");
    assert_eq!(me["user"]["email_verified"], true);
    assert_eq!(phone.get("/api/auth/me").await.status, 401);
    let mut replay = Client::new(&server.url(""));
    replay.set_session_cookie(&old_cookie);
    assert_eq!(replay.get("/api/auth/me").await.status, 401);

    let notice = wait_for_mail(&server.data_dir, before + 1).await[before].clone();
    assert!(notice.contains("To: old.heron@example.org"), "{notice}");
    assert!(notice.contains("n***@example.org"), "{notice}");
    assert!(
        !notice.contains("new.heron"),
        "the notice masks the new address"
    );

    let r = laptop
        .post_json("/api/account/email/confirm", &json!({"token": token}))
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (400, "invalid_link"),
        "once"
    );

    // Sign-in follows the address.
    let mut fresh = Client::new(&server.url(""));
    assert_eq!(login(&mut fresh, "old.heron@example.org").await.status, 401);
    assert_eq!(login(&mut fresh, "new.heron@example.org").await.status, 200);
    assert_audited(
        &server.data_dir,
        &["account.email.change_requested", "account.email.changed"],
    );
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

#[tokio::test]
async fn bad_requests_are_refused_clearly_and_send_nothing() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "plain.kite@example.org").await;
    let before = outbox(&server.data_dir).len();
    for (body, status, code) in [
        (json!({"new_email": "not an address"}), 422, "invalid_email"),
        (
            json!({"new_email": "PLAIN.Kite@example.org "}),
            422,
            "same_address",
        ),
        (
            json!({"new_email": "a@example.org", "admin": true}),
            422,
            "invalid_field",
        ),
        (json!({}), 422, "invalid_field"),
        (
            json!({"new_email": format!("{}@example.org", "k".repeat(300))}),
            422,
            "invalid_email",
        ),
    ] {
        let r = b.post_json("/api/account/email", &body).await;
        assert_eq!((r.status, r.error().as_str()), (status, code), "{body}");
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
    }
    for token in ["", "short", &"A".repeat(43)] {
        let r = b
            .post_json("/api/account/email/confirm", &json!({"token": token}))
            .await;
        assert_eq!((r.status, r.error().as_str()), (400, "invalid_link"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(outbox(&server.data_dir).len(), before, "nothing sent");
    let r = Client::new(&server.url(""))
        .post_json("/api/account/email", &json!({"new_email": "x@example.org"}))
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn an_address_in_use_is_not_revealed_and_one_taken_meanwhile_changes_nothing() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "first.lynx@example.org").await;
    let _owner = signed_in(&server, "taken.lynx@example.org").await;

    // Same answer as for a free address; the address's owner is told, no link exists.
    let mails = ask(&server, &mut b, "taken.lynx@example.org").await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: taken.lynx@example.org"));
    assert!(mails[0].contains("already has an account"), "{}", mails[0]);
    assert!(!mails[0].contains("/account/email/confirm"));

    // A free address is taken by a registration before the link is used.
    let mails = ask(&server, &mut b, "late.lynx@example.org").await;
    let (_, token) = link_in(&mails[0], "/account/email/confirm");
    let _late = signed_in(&server, "late.lynx@example.org").await;
    let r = b
        .post_json("/api/account/email/confirm", &json!({"token": token}))
        .await;
    assert_eq!((r.status, r.error().as_str()), (409, "email_taken"));
    assert_eq!(
        b.get("/api/auth/me").await.json()["user"]["email"],
        "first.lynx@example.org"
    );
}

#[tokio::test]
async fn the_account_page_changes_the_address_with_forms() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "form.wren@example.org").await;
    let page = b.get("/account").await;
    assert!(page.body.contains(r#"action="/account/email""#));

    let r = b
        .post_form("/account/email", &[("new_email", "not an address")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains(r#"id="new_email-error""#), "{}", r.body);
    assert!(r.body.contains(r#"value="not an address""#));

    let before = outbox(&server.data_dir).len();
    let r = b
        .post_form("/account/email", &[("new_email", "moved.wren@example.org")])
        .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/account")));
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    let (_, token) = link_in(&mails[before], "/account/email/confirm");

    let page = b
        .get(&format!("/account/email/confirm?token={token}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&token));
    assert!(page.body.contains(r#"name="end_other_sessions""#));
    let r = b
        .post_form(
            "/account/email/confirm",
            &[("token", &token), ("end_other_sessions", "true")],
        )
        .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/account")));
    let page = b.get("/account").await;
    assert!(
        page.body.contains("moved.wren@example.org"),
        "{}",
        page.body
    );
    assert!(page.body.contains("uses the new address now"));

    // A used link shows why nothing happened.
    let r = b
        .post_form("/account/email/confirm", &[("token", &token)])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("The address was not changed"));

    // A stale authentication sends the form to re-authenticate, then back to the account.
    age_authentications(&server.data_dir);
    let r = b
        .post_form("/account/email", &[("new_email", "third.wren@example.org")])
        .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/auth/reauth?next=/account"))
    );
}

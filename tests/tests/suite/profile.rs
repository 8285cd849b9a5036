//! Black-box tests of the display name against the real server on SQLite: the free text a
//! user writes is stored as plain text without markup or control characters (ammonia), bad
//! input gets a 422 naming the field and changes nothing, the page escapes what it shows, and
//! neither the audit log nor the server log holds the name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use wildid_tests::accounts::{audit_actions, count, options, sign_in_by_link};
use wildid_tests::client::Client;
use wildid_tests::server::Server;

const PATH: &str = "/api/account/display-name";

async fn stored_name(b: &mut Client) -> Value {
    let me = b.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    me.json()["user"]["display_name"].clone()
}

#[tokio::test]
async fn the_api_stores_clean_plain_text_and_refuses_bad_input_without_changing_anything() {
    let server = Server::start_with(options()).unwrap();
    let mut b = sign_in_by_link(&server, "ann.ranger@example.org").await;
    assert_eq!(stored_name(&mut b).await, Value::Null, "no name at first");

    let r = b
        .put_json(
            PATH,
            &json!({"display_name": "  <script>alert(1)</script>Ann <b>the</b> Ranger\u{7}\u{202E} "}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["display_name"], "Ann the Ranger");
    assert_eq!(stored_name(&mut b).await, "Ann the Ranger");
    assert_eq!(
        count(
            &server.data_dir,
            "users WHERE display_name = 'Ann the Ranger'"
        ),
        1,
        "the database holds the cleaned text"
    );

    // Tags written as entities are markup too; text that merely looks technical is kept.
    let r = b
        .put_json(
            PATH,
            &json!({"display_name": "&lt;img src=x onerror=alert(1)&gt;Ann & Co <3"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["display_name"], "Ann & Co <3");

    // Refusals: each names the field, and the stored name stays what it was.
    for (body, status, code) in [
        (
            json!({"display_name": "a".repeat(61)}),
            422,
            "invalid_display_name",
        ),
        (
            json!({"display_name": "<b></b><script>x</script>"}),
            422,
            "invalid_display_name",
        ),
        (json!({"display_name": 42}), 422, ""),
        (json!({}), 422, ""),
        (json!({"display_name": "Ann", "nickname": "x"}), 422, ""),
    ] {
        let r = b.put_json(PATH, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        if !code.is_empty() {
            assert_eq!(r.error(), code, "{}", r.body);
        }
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("display_name") || message.contains("nickname"),
            "the message names the field: {message}"
        );
        assert_eq!(
            stored_name(&mut b).await,
            "Ann & Co <3",
            "{body} changed nothing"
        );
    }
    let r = b
        .put_json(PATH, &json!({"display_name": "a".repeat(61)}))
        .await;
    assert!(
        r.json()["message"].as_str().unwrap().contains("60"),
        "{}",
        r.body
    );

    // Exactly 60 characters (after cleaning) is allowed; null or blank clears the name.
    let sixty = "é".repeat(60);
    let r = b
        .put_json(PATH, &json!({"display_name": format!("<i>{sixty}</i>")}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["display_name"], sixty.as_str());
    let r = b.put_json(PATH, &json!({"display_name": "   "})).await;
    assert_eq!(
        (r.status, r.json()["display_name"].clone()),
        (200, Value::Null)
    );
    b.put_json(PATH, &json!({"display_name": "Ann"})).await;
    let r = b.put_json(PATH, &json!({"display_name": null})).await;
    assert_eq!(
        (r.status, r.json()["display_name"].clone()),
        (200, Value::Null)
    );
    assert_eq!(stored_name(&mut b).await, Value::Null);

    // Signed out: 401; a forged anti-forgery token: 403. Neither changes anything.
    let mut stranger = Client::new(&server.url(""));
    let r = stranger
        .put_json(PATH, &json!({"display_name": "Mallory"}))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    b.csrf = Some("forged".into());
    let r = b.put_json(PATH, &json!({"display_name": "Mallory"})).await;
    assert_eq!((r.status, r.error()), (403, "csrf_failed".to_owned()));
    b.csrf = None;
    assert_eq!(stored_name(&mut b).await, Value::Null);

    let actions = audit_actions(&server.data_dir);
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "account.display_name_changed")
            .count(),
        6,
        "every stored change is audited: {actions:?}"
    );
    assert_eq!(
        count(&server.data_dir, "audit_log WHERE details LIKE '%Ann%'"),
        0,
        "the audit log does not hold the name"
    );
    let (_, logs) = server.stop();
    assert!(
        !logs
            .iter()
            .any(|l| l.contains("Ranger") || l.contains("Mallory")),
        "the server log does not hold the name"
    );
}

#[tokio::test]
async fn the_account_page_saves_the_name_and_escapes_what_it_shows() {
    let server = Server::start_with(options()).unwrap();
    let mut b = sign_in_by_link(&server, "ben.ranger@example.org").await;
    b.refresh_csrf().await;

    let r = b
        .post_form(
            "/account/display-name",
            &[(
                "display_name",
                "Ben <em>\"Heron\" & Co</em><script>x()</script>",
            )],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/account"));
    let page = b.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your display name is saved."));
    assert!(
        page.body.contains("<dd>Ben &#34;Heron&#34; &#38; Co</dd>"),
        "shown escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<em>") && !page.body.contains("x()"));
    assert_eq!(stored_name(&mut b).await, "Ben \"Heron\" & Co");

    // A refused name comes back beside its error, escaped in the field, and nothing changed.
    let long = format!("<b>{}</b>", "x".repeat(61));
    let r = b
        .post_form("/account/display-name", &[("display_name", &long)])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("display_name: the text is longer than 60 characters")
    );
    assert!(r.body.contains("value=\"&#60;b&#62;xxx"), "{}", r.body);
    assert!(!r.body.contains("<b>xxx"));
    assert_eq!(stored_name(&mut b).await, "Ben \"Heron\" & Co");

    // An empty field removes the name.
    let r = b
        .post_form("/account/display-name", &[("display_name", "")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(stored_name(&mut b).await, Value::Null);
}

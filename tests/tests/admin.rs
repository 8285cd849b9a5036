//! Black-box tests of administration: appointing an admin from the shell, the second factor
//! it then needs, role changes, deactivation, lifting a lock and ending sessions, all audited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use serde_json::{Value, json};
use wildid_domain::totp::TotpSecret;
use wildid_tests::accounts::{PASSWORD, assert_audited, options, sign_in_by_link};
use wildid_tests::client::{Client, outbox};
use wildid_tests::server::{Server, run_cli};

async fn users(admin: &mut Client) -> Vec<Value> {
    let r = admin.get("/api/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["users"].as_array().unwrap().clone()
}

fn id_of(list: &[Value], email: &str) -> String {
    list.iter().find(|u| u["email"] == email).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_admin_appointed_from_the_shell_manages_accounts() {
    let server = Server::start_with(options()).unwrap();
    let (status, _, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "set-role", "nobody@example.org", "admin"],
    );
    assert_eq!(status.code(), Some(1), "{err}");

    let mut admin = sign_in_by_link(&server, "chief@example.org").await;
    let mut ranger = sign_in_by_link(&server, "ranger@example.org").await;
    assert_eq!(
        ranger.get("/api/admin/users").await.status,
        403,
        "visitors are refused"
    );
    assert_eq!(
        Client::new(&server.url(""))
            .get("/api/admin/users")
            .await
            .status,
        401
    );

    let (status, out, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "set-role", "Chief@Example.org", "admin"],
    );
    assert!(status.success(), "{out}{err}");
    assert_eq!(
        admin.get("/api/auth/me").await.status,
        401,
        "a privilege change ends the sessions"
    );

    let mut admin = sign_in_by_link(&server, "chief@example.org").await;
    let r = admin.get("/api/admin/users").await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "totp_enrollment_required")
    );
    let page = admin.get("/admin").await;
    assert_eq!(page.header("location"), Some("/account/totp"));
    let setup = admin
        .post_json("/api/account/totp/setup", &json!({}))
        .await
        .json();
    let secret = TotpSecret::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let r = admin
        .post_json(
            "/api/account/totp/confirm",
            &json!({"pending": setup["pending"], "code": secret.code_at(Utc::now()).unwrap()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let list = users(&mut admin).await;
    assert_eq!(list.len(), 2);
    let ranger_id = id_of(&list, "ranger@example.org");
    let me = id_of(&list, "chief@example.org");
    let r = admin.get("/api/admin/users?offset=1&limit=1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = r.json()["users"].as_array().unwrap().clone();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0], list[1], "paging keeps the oldest-first order");
    let r = admin.get("/api/admin/users?limit=lots").await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_query"));
    assert!(r.body.contains("limit"), "{}", r.body);
    let r = admin.get("/api/admin/users?sort=email").await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_query"));

    // Role change: the ranger's session ends; the new role shows after signing in again.
    let r = admin
        .post_json(
            &format!("/api/admin/users/{ranger_id}/role"),
            &json!({"role": "worker"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ranger.get("/api/auth/me").await.status, 401);
    let mut ranger = sign_in_by_link(&server, "ranger@example.org").await;
    assert_eq!(
        ranger.get("/api/auth/me").await.json()["user"]["role"],
        "worker"
    );
    let r = admin
        .post_json(
            &format!("/api/admin/users/{ranger_id}/role"),
            &json!({"role": "emperor"}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (422, "invalid_field"));

    // Deactivation ends the session and stops sign-in; reactivation restores it.
    let r = admin
        .post_json(
            &format!("/api/admin/users/{ranger_id}/active"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(ranger.get("/api/auth/me").await.status, 401);
    let before = outbox(&server.data_dir).len();
    let mut b = Client::new(&server.url(""));
    assert_eq!(
        b.post_json(
            "/api/auth/magic-link",
            &json!({"email": "ranger@example.org"})
        )
        .await
        .status,
        202
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        outbox(&server.data_dir).len(),
        before,
        "no link for a deactivated account"
    );
    admin
        .post_json(
            &format!("/api/admin/users/{ranger_id}/active"),
            &json!({"active": true}),
        )
        .await;
    let mut ranger = sign_in_by_link(&server, "ranger@example.org").await;

    // A lock is lifted by an admin.
    ranger
        .post_json("/api/account/password", &json!({"new_password": PASSWORD}))
        .await;
    let mut attacker = Client::new(&server.url(""));
    for _ in 0..5 {
        attacker
            .post_json(
                "/api/auth/login",
                &json!({"email": "ranger@example.org", "password": "guess guess guess"}),
            )
            .await;
    }
    let locked = users(&mut admin)
        .await
        .into_iter()
        .find(|u| u["id"] == ranger_id.as_str())
        .unwrap();
    assert!(locked["locked_until"].is_string());
    assert_eq!(
        admin
            .post_json(&format!("/api/admin/users/{ranger_id}/unlock"), &json!({}))
            .await
            .status,
        200
    );
    let mut fresh = Client::new(&server.url(""));
    assert_eq!(
        fresh
            .post_json(
                "/api/auth/login",
                &json!({"email": "ranger@example.org", "password": PASSWORD})
            )
            .await
            .status,
        200
    );

    // Ending all of a user's sessions.
    let r = admin
        .post_json(
            &format!("/api/admin/users/{ranger_id}/sessions/revoke"),
            &json!({}),
        )
        .await;
    assert!(r.json()["ended"].as_u64().unwrap() >= 2);
    assert_eq!(fresh.get("/api/auth/me").await.status, 401);

    // Admins cannot lock themselves out.
    let r = admin
        .post_json(
            &format!("/api/admin/users/{me}/role"),
            &json!({"role": "visitor"}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (409, "self_change"));
    let r = admin
        .post_json(
            "/api/admin/users/not-a-uuid/role",
            &json!({"role": "visitor"}),
        )
        .await;
    assert_eq!(r.status, 404);

    assert_audited(
        &server.data_dir,
        &[
            "user.role.changed",
            "user.deactivated",
            "user.reactivated",
            "auth.lockout",
            "auth.lockout.lifted",
            "session.revoked",
            "auth.totp.enabled",
        ],
    );
    let (status, out, _) = run_cli(&server.data_dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}");
}

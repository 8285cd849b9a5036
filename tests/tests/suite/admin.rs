//! Black-box tests of administration: appointing an admin from the shell, the second factor
//! it then needs, role changes, deactivation, lifting a lock and ending sessions, all audited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use wildid_tests::accounts::{
    PASSWORD, assert_audited, enrol_totp, options, sign_in_by_link, staff_with_totp,
};
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
    // Logged as a refused access (ASVS 16.3.2), with who and why, never the address.
    let line = server.wait_for_log("second_factor_required");
    assert!(
        line.contains("access_denied") && line.contains("admin"),
        "{line}"
    );
    assert!(!line.contains("chief@"), "{line}");
    enrol_totp(&mut admin).await;

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
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

/// Sets up and confirms a second factor for the signed-in `user`.
/// The page's forms do what the API does: each answers 303 back to `/admin` with a message
/// saying what happened (or why not), and each change is audited.
#[tokio::test]
async fn the_admin_page_forms_change_roles_deactivate_unlock_and_end_sessions() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "boss@example.org", "admin").await;
    let mut warden = sign_in_by_link(&server, "warden@example.org").await;
    let list = users(&mut admin).await;
    let id = id_of(&list, "warden@example.org");
    let me = id_of(&list, "boss@example.org");
    let page = admin.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("warden@example.org"));
    assert!(
        page.body
            .contains(&format!(r#"action="/admin/users/{id}/role""#))
    );
    let act = async |admin: &mut Client, action: &str, fields: &[(&str, &str)]| {
        let r = admin
            .post_form(&format!("/admin/users/{id}/{action}"), fields)
            .await;
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/admin")),
            "{action}: {}",
            r.body
        );
        admin.get("/admin").await.body
    };

    let shown = act(&mut admin, "role", &[("role", "worker")]).await;
    assert!(
        shown.contains("Role changed to worker; their sessions ended."),
        "{shown}"
    );
    assert_eq!(warden.get("/api/auth/me").await.status, 401);
    let refused = admin
        .post_form(&format!("/admin/users/{id}/role"), &[("role", "emperor")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Choose visitor, worker or admin."));

    let shown = act(&mut admin, "active", &[("active", "false")]).await;
    assert!(
        shown.contains("Account deactivated; its sessions ended.") && shown.contains("deactivated")
    );
    let shown = act(&mut admin, "active", &[("active", "true")]).await;
    assert!(shown.contains("Account reactivated."));

    // A lock: shown on the page with its button, then lifted.
    let mut warden = sign_in_by_link(&server, "warden@example.org").await;
    warden
        .post_json("/api/account/password", &json!({"new_password": PASSWORD}))
        .await;
    let mut attacker = Client::new(&server.url(""));
    for _ in 0..5 {
        attacker
            .post_json(
                "/api/auth/login",
                &json!({"email": "warden@example.org", "password": "guess guess guess"}),
            )
            .await;
    }
    let page = admin.get("/admin").await.body;
    assert!(page.contains("locked until") && page.contains(&format!("/admin/users/{id}/unlock")));
    let shown = act(&mut admin, "unlock", &[]).await;
    assert!(shown.contains("Lock lifted.") && !shown.contains("locked until"));
    let mut fresh = Client::new(&server.url(""));
    let r = fresh
        .post_json(
            "/api/auth/login",
            &json!({"email": "warden@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let shown = act(&mut admin, "end-sessions", &[]).await;
    assert!(shown.contains("2 session(s) ended."), "{shown}");
    assert_eq!(fresh.get("/api/auth/me").await.status, 401);
    assert_eq!(warden.get("/api/auth/me").await.status, 401);

    // Refusals come back as a message; an unknown action is no page.
    let r = admin
        .post_form(&format!("/admin/users/{me}/role"), &[("role", "visitor")])
        .await;
    assert_eq!(r.status, 303);
    let shown = admin.get("/admin").await.body;
    assert!(shown.contains("flash-error"), "{shown}");
    assert_eq!(
        admin
            .post_form(&format!("/admin/users/{id}/promote"), &[])
            .await
            .status,
        404
    );
    let signed_out = warden.get("/admin").await;
    assert_eq!(signed_out.status, 303, "signed out above");
    assert!(
        signed_out
            .header("location")
            .unwrap()
            .starts_with("/auth/sign-in")
    );
    let mut visitor = sign_in_by_link(&server, "visitor@example.org").await;
    assert_eq!(
        visitor
            .post_form(&format!("/admin/users/{id}/role"), &[("role", "admin")])
            .await
            .status,
        403,
        "only admins"
    );
    assert_audited(
        &server.data_dir,
        &[
            "user.role.changed",
            "user.deactivated",
            "user.reactivated",
            "auth.lockout.lifted",
            "session.revoked",
        ],
    );
}

/// An admin deletes an account from the page (a ticked box required) or the API; never their
/// own; the person's sessions end with it, and each deletion is audited.
#[tokio::test]
async fn an_admin_deletes_accounts_but_not_their_own() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "keeper@example.org", "admin").await;
    let mut first = sign_in_by_link(&server, "first@example.org").await;
    let mut second = sign_in_by_link(&server, "second@example.org").await;
    let list = users(&mut admin).await;
    let (first_id, second_id, me) = (
        id_of(&list, "first@example.org"),
        id_of(&list, "second@example.org"),
        id_of(&list, "keeper@example.org"),
    );
    let r = admin
        .post_form(&format!("/admin/users/{first_id}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get("/admin").await.body;
    assert!(page.contains("Nothing was deleted: tick the box"), "{page}");
    assert_eq!(first.get("/api/auth/me").await.status, 200, "still there");
    let r = admin
        .post_form(
            &format!("/admin/users/{first_id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        admin
            .get("/admin")
            .await
            .body
            .contains("Account deleted with everything in it.")
    );
    assert_eq!(first.get("/api/auth/me").await.status, 401);

    let r = admin.delete(&format!("/api/admin/users/{second_id}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(second.get("/api/auth/me").await.status, 401);
    let r = admin.delete(&format!("/api/admin/users/{second_id}")).await;
    assert_eq!(r.status, 404);
    let r = admin.delete(&format!("/api/admin/users/{me}")).await;
    assert_eq!((r.status, r.error().as_str()), (409, "self_change"));
    let left: Vec<String> = users(&mut admin)
        .await
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["keeper@example.org"]);
    assert_audited(&server.data_dir, &["account.deleted"]);
}

/// `wildid users` for `server`: exit code, standard output and error.
fn shell(server: &Server, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["users"];
    all.extend_from_slice(args);
    let (status, out, err) = run_cli(&server.data_dir, &[], &all);
    (status.code(), out, err)
}

/// The tab-separated line of `email` in `out` (as `list` and `find` print it), as columns.
fn row<'a>(out: &'a str, email: &str) -> Vec<&'a str> {
    out.lines()
        .find(|l| l.ends_with(&format!("\t{email}")))
        .unwrap_or_else(|| panic!("{email} not in:\n{out}"))
        .split('\t')
        .collect()
}

#[tokio::test]
async fn the_shell_lists_finds_and_manages_accounts_all_audited() {
    let server = Server::start_with(options()).unwrap();
    let mut walker = sign_in_by_link(&server, "walker@example.org").await;
    wildid_tests::accounts::registered(&server, "locked@example.org").await;
    let mut b = Client::new(&server.url(""));
    for _ in 0..5 {
        b.post_json(
            "/api/auth/login",
            &json!({"email": "locked@example.org", "password": "wrong horse battery"}),
        )
        .await;
    }

    // list: a header, then one line per account, oldest first.
    let (code, out, err) = shell(&server, &["list"]);
    assert_eq!(code, Some(0), "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("ID\tROLE\tSTATE\tCONFIRMED\t2FA\tLAST_SIGN_IN\tEMAIL")
    );
    assert_eq!(lines.count(), 2, "{out}");
    let walker_row = row(&out, "walker@example.org");
    assert_eq!(&walker_row[1..5], ["visitor", "active", "yes", "no"]);
    assert!(
        row(&out, "locked@example.org")[2].starts_with("locked-until-"),
        "{out}"
    );
    let (_, page, _) = shell(&server, &["list", "--offset", "1", "--limit", "1"]);
    assert_eq!(page.lines().count(), 2, "{page}");
    assert!(page.contains("locked@example.org"), "{page}");

    // find: by the address, however it is spelt; an unknown one is exit 1.
    let (code, out, _) = shell(&server, &["find", " Walker@Example.ORG "]);
    assert_eq!(code, Some(0));
    assert_eq!(row(&out, "walker@example.org")[0], walker_row[0]);
    let (code, _, err) = shell(&server, &["find", "nobody@example.org"]);
    assert_eq!(
        (code, err.trim()),
        (Some(1), "error: no account has that address")
    );

    // unlock, end-sessions, deactivate, reactivate.
    let (code, out, _) = shell(&server, &["unlock", "locked@example.org"]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out, _) = shell(&server, &["find", "locked@example.org"]);
    assert_eq!(row(&out, "locked@example.org")[2], "active");
    let r = b
        .post_json(
            "/api/auth/login",
            &json!({"email": "locked@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "unlocked: {}", r.body);

    let (code, out, _) = shell(&server, &["end-sessions", "walker@example.org"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("1 session(s) of walker@example.org ended"),
        "{out}"
    );
    assert_eq!(walker.get("/api/auth/me").await.status, 401);

    let (code, _, _) = shell(&server, &["deactivate", "locked@example.org"]);
    assert_eq!(code, Some(0));
    let (_, out, _) = shell(&server, &["find", "locked@example.org"]);
    assert_eq!(row(&out, "locked@example.org")[2], "deactivated");
    let password = json!({"email": "locked@example.org", "password": PASSWORD});
    let r = b.post_json("/api/auth/login", &password).await;
    assert_ne!(r.status, 200, "a deactivated account cannot sign in");
    let (code, _, _) = shell(&server, &["reactivate", "locked@example.org"]);
    assert_eq!(code, Some(0));
    let r = b.post_json("/api/auth/login", &password).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A role outside the fixed list is refused before anything is opened.
    let (code, _, err) = shell(&server, &["set-role", "walker@example.org", "boss"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("[possible values: visitor, worker, admin]"),
        "{err}"
    );

    assert_audited(
        &server.data_dir,
        &[
            "auth.lockout.lifted",
            "session.revoked",
            "user.deactivated",
            "user.reactivated",
        ],
    );
}

/// A worker meets the second factor before the worker pages and API, on the real server, as an
/// admin does (ASVS 6.3.3); once it is set up, they open.
#[tokio::test]
async fn a_worker_sets_up_the_second_factor_before_the_worker_routes() {
    let server = Server::start_with(options()).unwrap();
    sign_in_by_link(&server, "warden@example.org").await;
    let (status, out, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "set-role", "warden@example.org", "worker"],
    );
    assert!(status.success(), "{out}{err}");
    let mut warden = sign_in_by_link(&server, "warden@example.org").await;
    let r = warden.get("/api/worker/bookings").await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "totp_enrollment_required")
    );
    let page = warden.get("/worker").await;
    assert_eq!(page.header("location"), Some("/account/totp"));
    let line = server.wait_for_log("second_factor_required");
    assert!(
        line.contains("worker") && !line.contains("warden@"),
        "{line}"
    );
    enrol_totp(&mut warden).await;
    assert_eq!(warden.get("/api/worker/bookings").await.status, 200);
    assert_eq!(warden.get("/worker").await.status, 200);
}

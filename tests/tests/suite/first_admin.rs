//! The first admin of a fresh install, from the shell (`wildid admin create --email`): a
//! one-time sign-in link printed for the operator to hand over, the second factor the admin
//! pages then ask for, and the refusals that keep the command from changing other accounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use wildid_tests::accounts::{assert_audited, enrol_totp, options, sign_in_by_link};
use wildid_tests::client::Client;
use wildid_tests::server::{Server, run_cli};

/// Runs `wildid admin create --email EMAIL`; (exit code, printed link token, stderr).
fn create(server: &Server, email: &str) -> (Option<i32>, Option<String>, String, String) {
    let (status, out, err) = run_cli(
        &server.data_dir,
        &[],
        &["admin", "create", "--email", email],
    );
    let token = out
        .split_whitespace()
        .find_map(|word| word.split_once("?token=").map(|(_, t)| t.to_owned()));
    (status.code(), token, out, err)
}

async fn redeem(client: &mut Client, token: &str) -> (u16, String) {
    let r = client
        .post_json("/api/auth/magic-link/redeem", &json!({"token": token}))
        .await;
    (r.status, r.error())
}

#[tokio::test]
async fn the_first_admin_signs_in_with_a_link_from_the_shell_and_sets_up_a_second_factor() {
    let server = Server::start_with(options()).unwrap();

    let (code, first, out, err) = create(&server, "First.Admin@Example.org");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("Created an admin account"), "{out}");
    assert!(out.contains("works once"), "{out}");
    // Run again before the link was used (say it was lost): a new link; the first stops working.
    let (code, second, out, err) = create(&server, "first.admin@example.org");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("The admin account exists"), "{out}");
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_ne!(first, second);

    let mut admin = Client::new(&server.url(""));
    assert_eq!(
        redeem(&mut admin, &first).await,
        (400, "invalid_link".into())
    );
    // The account exists already: no privacy notice to accept, no password to set.
    let (status, error) = redeem(&mut admin, &second).await;
    assert_eq!(status, 200, "{error}");
    let me = admin.get("/api/auth/me").await.json();
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(me["user"]["email"], "first.admin@example.org");
    assert_eq!(
        redeem(&mut Client::new(&server.url("")), &second).await,
        (400, "invalid_link".into()),
        "the link works once"
    );

    // Like every admin, the second factor comes first; then the console answers.
    let r = admin.get("/api/admin/users").await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "totp_enrollment_required")
    );
    enrol_totp(&mut admin).await;
    let r = admin.get("/api/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["users"].as_array().unwrap().len(), 1);
    assert_audited(
        &server.data_dir,
        &[
            "user.registered",
            "auth.magic_link.issued",
            "auth.magic_link.used",
        ],
    );
}

#[tokio::test]
async fn the_command_changes_no_other_account_and_names_each_problem() {
    let server = Server::start_with(options()).unwrap();
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;

    let (code, token, out, err) = create(&server, "walker@example.org");
    assert_eq!(code, Some(1), "{out}");
    assert!(token.is_none(), "{out}");
    assert!(
        err.contains("visitor account") && err.contains("wildid users set-role"),
        "{err}"
    );
    let me = visitor.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "the visitor's session goes on");
    assert_eq!(me.json()["user"]["role"], "visitor", "and keeps its role");

    let (code, _, _, err) = create(&server, "not an address");
    assert_eq!(code, Some(2));
    assert!(err.contains("the address is not valid"), "{err}");

    let (status, _, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "deactivate", "walker@example.org"],
    );
    assert!(status.success(), "{err}");
    let (code, _, _, err) = create(&server, "walker@example.org");
    assert_eq!(code, Some(1));
    assert!(err.contains("deactivated"), "{err}");
}

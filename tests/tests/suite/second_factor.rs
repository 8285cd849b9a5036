//! Black-box tests of sign-in links, the second factor, re-authentication and session
//! management against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use diesel::{Connection, SqliteConnection};
use serde_json::{Value, json};
use wildid_domain::totp::TotpSecret;
use wildid_tests::accounts::{
    PASSWORD, age_authentications, assert_audited, audit_entries, link_for, options,
};
use wildid_tests::client::{Answer, Client, outbox, wait_for_mail};
use wildid_tests::server::{Server, run_cli};

async fn redeem(browser: &mut Client, token: &str, extra: Value) -> Answer {
    let mut body = json!({"token": token});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    browser
        .post_json("/api/auth/magic-link/redeem", &body)
        .await
}

/// Registers, confirms and signs in `email` with the password.
async fn signed_in(server: &Server, email: &str) -> Client {
    let mut b = Client::new(&server.url(""));
    let token = link_for(server, &mut b, email).await;
    let r = redeem(&mut b, &token, json!({"accept_privacy": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b
        .post_json("/api/account/password", &json!({"new_password": PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    b
}

/// The recovery codes an answer shows.
fn recovery_codes_in(answer: &Answer) -> Vec<String> {
    answer.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Enables TOTP for the signed-in browser; returns the secret and the recovery codes.
async fn enable_totp(b: &mut Client) -> (TotpSecret, Vec<String>) {
    let setup = b.post_json("/api/account/totp/setup", &json!({})).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let setup = setup.json();
    assert!(
        setup["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/WildID:")
    );
    let secret = TotpSecret::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let wrong = b
        .post_json(
            "/api/account/totp/confirm",
            &json!({"pending": setup["pending"], "code": "000000"}),
        )
        .await;
    assert_eq!((wrong.status, wrong.error().as_str()), (422, "wrong_code"));
    let code = secret.code_at(Utc::now()).unwrap();
    let r = b
        .post_json(
            "/api/account/totp/confirm",
            &json!({"pending": setup["pending"], "code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes = recovery_codes_in(&r);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn a_link_signs_up_a_new_address_after_consent_and_works_once() {
    let server = Server::start_with(options()).unwrap();
    let mut b = Client::new(&server.url(""));
    let token = link_for(&server, &mut b, "newcomer@example.org").await;
    let mail = outbox(&server.data_dir).pop().unwrap();
    assert!(mail.contains("works once") && mail.contains("15 minutes"));
    let page = b.get(&format!("/auth/magic?token={token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create my account") && page.body.contains("privacy notice"));
    let refused = redeem(&mut b, &token, json!({})).await;
    assert_eq!(
        (refused.status, refused.error().as_str()),
        (422, "privacy_not_accepted")
    );
    let r = redeem(&mut b, &token, json!({"accept_privacy": true})).await;
    assert_eq!(
        r.status, 200,
        "the refusal did not use the link up: {}",
        r.body
    );
    let user = &r.json()["user"];
    assert_eq!(
        (
            user["email"].as_str(),
            user["email_verified"].as_bool(),
            user["has_password"].as_bool()
        ),
        (Some("newcomer@example.org"), Some(true), Some(false))
    );
    assert_eq!(b.get("/api/auth/me").await.status, 200);
    let mut other = Client::new(&server.url(""));
    let again = redeem(&mut other, &token, json!({"accept_privacy": true})).await;
    assert_eq!(
        (again.status, again.error().as_str()),
        (400, "invalid_link")
    );
}

#[tokio::test]
async fn asking_for_a_link_answers_the_same_for_any_address() {
    let server = Server::start_with(options()).unwrap();
    signed_in(&server, "known@example.org").await;
    let mut b = Client::new(&server.url(""));
    let known = b
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "known@example.org"}),
        )
        .await;
    let unknown = b
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "unknown@example.org"}),
        )
        .await;
    assert_eq!((known.status, known.body), (unknown.status, unknown.body));
    let bad = b
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "ｋｎｏｗｎ@example.org"}),
        )
        .await;
    assert_eq!((bad.status, bad.error().as_str()), (422, "invalid_email"));
}

#[tokio::test]
async fn a_link_works_during_a_lockout_and_clears_it() {
    let server = Server::start_with(options()).unwrap();
    let _ = signed_in(&server, "owner@example.org").await;
    let mut attacker = Client::new(&server.url(""));
    for _ in 0..5 {
        attacker
            .post_json(
                "/api/auth/login",
                &json!({"email": "owner@example.org", "password": "guess guess guess"}),
            )
            .await;
    }
    let mut owner = Client::new(&server.url(""));
    let locked = owner
        .post_json(
            "/api/auth/login",
            &json!({"email": "owner@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(locked.error(), "account_locked");
    let token = link_for(&server, &mut owner, "owner@example.org").await;
    let r = redeem(&mut owner, &token, json!({})).await;
    assert_eq!(r.status, 200, "the owner is never locked out: {}", r.body);
    owner.post_json("/api/auth/logout", &json!({})).await;
    let again = owner
        .post_json(
            "/api/auth/login",
            &json!({"email": "owner@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "a successful sign-in resets the counter: {}",
        again.body
    );
}

#[tokio::test]
async fn two_uses_of_one_link_at_once_sign_in_once() {
    let server = Server::start_with(options()).unwrap();
    let mut b = Client::new(&server.url(""));
    let token = link_for(&server, &mut b, "racer@example.org").await;
    let mut first = Client::new(&server.url(""));
    let mut second = Client::new(&server.url(""));
    first.refresh_csrf().await;
    second.refresh_csrf().await;
    let body = json!({"token": token, "accept_privacy": true});
    let (a, z) = tokio::join!(
        first.post_json("/api/auth/magic-link/redeem", &body),
        second.post_json("/api/auth/magic-link/redeem", &body)
    );
    let mut statuses = [a.status, z.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

/// ASVS 6.6.2: asking for a new sign-in link voids the earlier ones; only the newest signs in.
#[tokio::test]
async fn a_new_sign_in_link_voids_the_earlier_ones() {
    let server = Server::start_with(options()).unwrap();
    let mut b = Client::new(&server.url(""));
    let older = link_for(&server, &mut b, "twice@example.org").await;
    let newer = link_for(&server, &mut b, "twice@example.org").await;
    assert_ne!(older, newer);
    let redeem = |token: &str| json!({"token": token, "accept_privacy": true});
    let mut other = Client::new(&server.url(""));
    other.refresh_csrf().await;
    let r = other
        .post_json("/api/auth/magic-link/redeem", &redeem(&older))
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_link"));
    let r = other
        .post_json("/api/auth/magic-link/redeem", &redeem(&newer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// ASVS 16.3.1: a sign-in link refused because it was used already, is malformed or is
/// unknown is audited with the reason, and the audit event reaches the log stream; the person
/// is told only that the link does not work.
#[tokio::test]
async fn refused_sign_in_links_are_audited_and_logged_with_why() {
    let server = Server::start_with(options()).unwrap();
    let mut b = Client::new(&server.url(""));
    let token = link_for(&server, &mut b, "replay@example.org").await;
    let redeem = |token: &str| json!({"token": token, "accept_privacy": true});
    let mut first = Client::new(&server.url(""));
    first.refresh_csrf().await;
    let r = first
        .post_json("/api/auth/magic-link/redeem", &redeem(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let unknown = wildid_domain::token::RawToken::from_random([7; 32])
        .encode()
        .expose()
        .to_owned();
    let mut replayer = Client::new(&server.url(""));
    replayer.refresh_csrf().await;
    let mut answers = Vec::new();
    for attempt in [token.as_str(), "not-a-link", unknown.as_str()] {
        let r = replayer
            .post_json("/api/auth/magic-link/redeem", &redeem(attempt))
            .await;
        assert_eq!(
            (r.status, r.error().as_str()),
            (400, "invalid_link"),
            "{attempt}"
        );
        answers.push(r.body);
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "the answers do not say why: {answers:?}"
    );
    let reasons: Vec<Value> = audit_entries(&server.data_dir)
        .into_iter()
        .filter(|(action, _)| action == "auth.magic_link.refused")
        .map(|(_, details)| details["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [json!("used"), json!("malformed"), json!("unknown")]
    );
    let line = server.wait_for_log("auth.magic_link.refused");
    assert!(
        line.contains("audit event") && line.contains("reason"),
        "{line}"
    );
}

#[tokio::test]
async fn totp_is_required_checked_not_replayable_and_recovery_codes_work_once() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "tfa@example.org").await;
    let (secret, codes) = enable_totp(&mut b).await;
    b.post_json("/api/auth/logout", &json!({})).await;

    let login = |code: Option<String>| json!({"email": "tfa@example.org", "password": PASSWORD, "totp_code": code});
    let r = b.post_json("/api/auth/login", &login(None)).await;
    assert_eq!((r.status, r.error().as_str()), (401, "totp_required"));
    let r = b
        .post_json("/api/auth/login", &login(Some("123456".into())))
        .await;
    assert_eq!((r.status, r.error().as_str()), (401, "invalid_credentials"));
    // The code accepted at enrolment cannot be used again, nor can the next one twice.
    let later = Utc::now() + chrono::TimeDelta::seconds(30);
    let next = secret.code_at(later).unwrap();
    let r = b
        .post_json("/api/auth/login", &login(Some(next.clone())))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    b.post_json("/api/auth/logout", &json!({})).await;
    let replay = b.post_json("/api/auth/login", &login(Some(next))).await;
    assert_eq!(
        (replay.status, replay.error().as_str()),
        (401, "invalid_credentials"),
        "a code works once"
    );

    let r = b
        .post_json("/api/auth/login", &login(Some(codes[0].to_uppercase())))
        .await;
    assert_eq!(
        r.status, 200,
        "a recovery code stands in for the app: {}",
        r.body
    );
    b.post_json("/api/auth/logout", &json!({})).await;
    let r = b
        .post_json("/api/auth/login", &login(Some(codes[0].clone())))
        .await;
    assert_eq!(r.status, 401, "each recovery code works once");

    // Sign-in links do not bypass the second factor.
    let token = link_for(&server, &mut b, "tfa@example.org").await;
    let r = redeem(&mut b, &token, json!({})).await;
    assert_eq!((r.status, r.error().as_str()), (401, "totp_required"));
    let r = redeem(&mut b, &token, json!({"totp_code": codes[1]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Every entry stored for a request is also a line of the log stream.
    let logged = wildid_tests::accounts::assert_every_entry_logged(&server);
    assert!(logged.len() >= 3, "{logged:?}");
    assert_audited(
        &server.data_dir,
        &[
            "auth.totp.enabled",
            "auth.login.succeeded",
            "auth.login.failed",
            "auth.recovery_code.used",
            "auth.magic_link.issued",
            "auth.magic_link.used",
        ],
    );
    let (status, out, _) = run_cli(&server.data_dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}");
    let db = std::fs::read(server.data_dir.join("wildid.db")).unwrap();
    assert!(
        !String::from_utf8_lossy(&db).contains(&secret.base32().expose().clone()),
        "the secret is stored encrypted"
    );
}

/// Wrong second-factor codes after the right password count toward the lock like wrong
/// passwords: five in a row lock the account, and then even the right code is refused.
#[tokio::test]
async fn wrong_codes_after_the_right_password_lock_the_account() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "codes@example.org").await;
    let (secret, _) = enable_totp(&mut b).await;
    b.post_json("/api/auth/logout", &json!({})).await;
    let login = |code: String| json!({"email": "codes@example.org", "password": PASSWORD, "totp_code": code});

    let mut answers = Vec::new();
    for _ in 0..5 {
        // One digit off the current code: wrong in this step and, but for a one-in-a-million
        // coincidence, in the neighbouring ones.
        let mut wrong = secret.code_at(Utc::now()).unwrap().into_bytes();
        wrong[0] = b'0' + (wrong[0] - b'0' + 1) % 10;
        let r = b
            .post_json("/api/auth/login", &login(String::from_utf8(wrong).unwrap()))
            .await;
        answers.push((r.status, r.error()));
    }
    let refused = (401, "invalid_credentials".to_owned());
    assert_eq!(answers[..4], vec![refused; 4]);
    assert_eq!(answers[4], (403, "account_locked".to_owned()));
    let later = secret
        .code_at(Utc::now() + chrono::TimeDelta::seconds(30))
        .unwrap();
    let r = b.post_json("/api/auth/login", &login(later)).await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "account_locked"),
        "the right code is refused during the lock"
    );
    assert_audited(&server.data_dir, &["auth.lockout"]);
}

/// Regenerating recovery codes replaces every one of them; turning the second factor off
/// needs a fresh authentication, and afterwards the password alone signs in. Both are audited.
#[tokio::test]
async fn recovery_codes_are_replaced_and_the_second_factor_turned_off() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "regen@example.org").await;
    let (secret, old) = enable_totp(&mut b).await;

    let r = b.post_json("/api/account/recovery-codes", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new = recovery_codes_in(&r);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)), "fresh codes");

    let login = |code: Option<&str>| json!({"email": "regen@example.org", "password": PASSWORD, "totp_code": code});
    b.post_json("/api/auth/logout", &json!({})).await;
    let r = b.post_json("/api/auth/login", &login(Some(&old[0]))).await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (401, "invalid_credentials"),
        "the old codes are gone"
    );
    let r = b.post_json("/api/auth/login", &login(Some(&new[0]))).await;
    assert_eq!(r.status, 200, "{}", r.body);

    age_authentications(&server.data_dir);
    let r = b.post_json("/api/account/totp/disable", &json!({})).await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "reauthentication_required")
    );
    b.post_json("/api/auth/logout", &json!({})).await;
    let next = secret
        .code_at(Utc::now() + chrono::TimeDelta::seconds(30))
        .unwrap();
    let r = b.post_json("/api/auth/login", &login(Some(&next))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.post_json("/api/account/totp/disable", &json!({})).await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (200, Some("disabled"))
    );

    b.post_json("/api/auth/logout", &json!({})).await;
    let r = b.post_json("/api/auth/login", &login(None)).await;
    assert_eq!(r.status, 200, "the password alone signs in: {}", r.body);
    let r = b.post_json("/api/account/recovery-codes", &json!({})).await;
    assert_eq!((r.status, r.error().as_str()), (409, "totp_not_enabled"));
    assert_audited(
        &server.data_dir,
        &["auth.recovery_codes.regenerated", "auth.totp.disabled"],
    );
}

/// New recovery codes and turning the second factor off offer to end the other sessions, as
/// every credential change does: from the API (`end_other_sessions`) and from the account
/// page's box. Without it the other sessions stay.
#[tokio::test]
async fn second_factor_changes_can_end_the_other_sessions() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "both@example.org").await;
    let (_, old) = enable_totp(&mut b).await;
    let sign_in_elsewhere = async |code: &str| {
        let mut phone = Client::with_user_agent(
            &server.url(""),
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
        );
        let r = phone
            .post_json(
                "/api/auth/login",
                &json!({"email": "both@example.org", "password": PASSWORD, "totp_code": code}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        phone
    };
    let mut phone = sign_in_elsewhere(&old[0]).await;

    let r = b.post_json("/api/account/recovery-codes", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        phone.get("/api/auth/me").await.status,
        200,
        "not asked: kept"
    );
    let r = b
        .post_json("/api/account/recovery-codes", &json!({"end_others": true}))
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (422, "invalid_field"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("end_others"),
        "the field is named: {}",
        r.body
    );
    let r = b
        .post_json(
            "/api/account/recovery-codes",
            &json!({"end_other_sessions": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let newest = recovery_codes_in(&r);
    assert_eq!(phone.get("/api/auth/me").await.status, 401, "asked: ended");
    assert_eq!(b.get("/api/auth/me").await.status, 200, "this one stays");

    // The account page: one box for both buttons, ticked by default.
    let mut phone = sign_in_elsewhere(&newest[0]).await;
    let page = b.get("/account").await.body;
    assert!(
        page.contains(
            r#"id="tfa_end_other_sessions" name="end_other_sessions" value="true" checked"#
        ) && page.contains(r#"formaction="/account/totp/disable""#),
        "{page}"
    );
    let r = b
        .post_form("/account/totp/disable", &[("end_other_sessions", "true")])
        .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/account")),
        "{}",
        r.body
    );
    assert_eq!(phone.get("/api/auth/me").await.status, 401);
    let me = b.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "this one stays, under a new id");
    assert_eq!(me.json()["user"]["totp_enabled"], false, "{}", me.body);
    assert_audited(
        &server.data_dir,
        &[
            "auth.recovery_codes.regenerated",
            "auth.totp.disabled",
            "session.revoked",
        ],
    );
}

#[tokio::test]
async fn sensitive_changes_need_a_fresh_authentication() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "fresh@example.org").await;
    age_authentications(&server.data_dir);
    let r = b
        .post_json(
            "/api/account/password",
            &json!({"new_password": "a different passphrase"}),
        )
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "reauthentication_required")
    );
    let r = b.post_json("/api/account/totp/setup", &json!({})).await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "reauthentication_required")
    );
    let page = b.get("/account/totp").await;
    assert_eq!(
        (page.status, page.header("location")),
        (303, Some("/auth/reauth?next=/account/totp"))
    );
    let wrong = b
        .post_json("/api/auth/reauth", &json!({"password": "not my password"}))
        .await;
    assert_eq!(wrong.status, 401);
    let ok = b
        .post_json("/api/auth/reauth", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let r = b
        .post_json(
            "/api/account/password",
            &json!({"new_password": "a different passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_and_a_password_change_can_end_the_others() {
    let server = Server::start_with(options()).unwrap();
    let mut laptop = signed_in(&server, "multi@example.org").await;
    let mut phone = Client::with_user_agent(
        &server.url(""),
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
    );
    assert_eq!(
        phone
            .post_json(
                "/api/auth/login",
                &json!({"email": "multi@example.org", "password": PASSWORD})
            )
            .await
            .status,
        200
    );
    let list = laptop.get("/api/account/sessions").await.json();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["device"], "Safari on iOS");
    assert_eq!(other["network"], "127.0.0.0/24");
    let r = laptop
        .post_json("/api/account/sessions/revoke", &json!({"id": other["id"]}))
        .await;
    assert_eq!(r.json()["ended"], 1);
    assert_eq!(phone.get("/api/auth/me").await.status, 401);

    assert_eq!(
        phone
            .post_json(
                "/api/auth/login",
                &json!({"email": "multi@example.org", "password": PASSWORD})
            )
            .await
            .status,
        200
    );
    let r = laptop
        .post_json(
            "/api/account/password",
            &json!({"new_password": "cedar harbour compass", "end_other_sessions": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        phone.get("/api/auth/me").await.status,
        401,
        "other sessions ended"
    );
    assert_eq!(
        laptop.get("/api/auth/me").await.status,
        200,
        "this one kept, under a new id"
    );
    let old = phone
        .post_json(
            "/api/auth/login",
            &json!({"email": "multi@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status, 401);
    let new = phone
        .post_json(
            "/api/auth/login",
            &json!({"email": "multi@example.org", "password": "cedar harbour compass"}),
        )
        .await;
    assert_eq!(new.status, 200);
}

/// "Revoke all others", from the JSON API and from the account page's form: every other
/// session of the user ends, this one stays, and the revocations are audited.
#[tokio::test]
async fn all_other_sessions_end_at_once_from_the_api_and_the_page() {
    let server = Server::start_with(options()).unwrap();
    let mut laptop = signed_in(&server, "many@example.org").await;
    let sign_in = async |user_agent: &str| {
        let mut b = Client::with_user_agent(&server.url(""), user_agent);
        let r = b
            .post_json(
                "/api/auth/login",
                &json!({"email": "many@example.org", "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        b
    };
    let mut phone =
        sign_in("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1").await;
    let mut tablet = sign_in("Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0").await;
    let neither = laptop
        .post_json("/api/account/sessions/revoke", &json!({}))
        .await;
    assert_eq!(
        (neither.status, neither.error().as_str()),
        (422, "invalid_field")
    );
    let r = laptop
        .post_json("/api/account/sessions/revoke", &json!({"all_others": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["ended"], 2);
    assert_eq!(phone.get("/api/auth/me").await.status, 401);
    assert_eq!(tablet.get("/api/auth/me").await.status, 401);
    assert_eq!(
        laptop.get("/api/auth/me").await.status,
        200,
        "this one stays"
    );
    let listed = laptop.get("/api/account/sessions").await.json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);

    // The account page's button does the same.
    let mut phone =
        sign_in("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1").await;
    let page = laptop.get("/account").await;
    assert!(
        page.body.contains(r#"name="all_others" value="true""#),
        "the page offers it"
    );
    let r = laptop
        .post_form("/account/sessions/revoke", &[("all_others", "true")])
        .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/account")));
    assert!(
        laptop
            .get("/account")
            .await
            .body
            .contains("Signed out of 1 other session(s).")
    );
    assert_eq!(phone.get("/api/auth/me").await.status, 401);
    assert_eq!(laptop.get("/api/auth/me").await.status, 200);
    assert_audited(&server.data_dir, &["session.revoked"]);
}

#[tokio::test]
async fn the_sign_in_link_lifetime_is_configurable() {
    #[derive(diesel::QueryableByName)]
    struct Lifetime {
        #[diesel(sql_type = diesel::sql_types::Double)]
        minutes: f64,
    }
    let server = Server::start_with(options().env("WILDID_MAGIC_LINK_MINUTES", "10")).unwrap();
    let mut b = Client::new(&server.url(""));
    let r = b
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "brief@example.org"}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("expires in 10 minutes")
    );
    let mail = wait_for_mail(&server.data_dir, 1).await.remove(0);
    assert!(mail.contains("(in 10 minutes)"), "{mail}");
    let mut conn =
        SqliteConnection::establish(server.data_dir.join("wildid.db").to_str().unwrap()).unwrap();
    let lifetime: Lifetime = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (julianday(expires_at) - julianday(created_at)) * 1440.0 AS minutes \
             FROM login_tokens",
        ),
        &mut conn,
    )
    .unwrap();
    assert!(
        (lifetime.minutes - 10.0).abs() < 0.01,
        "{}",
        lifetime.minutes
    );
}

#[tokio::test]
async fn a_wrong_first_code_keeps_the_secret_already_scanned() {
    let server = Server::start_with(options()).unwrap();
    let mut b = signed_in(&server, "scanner@example.org").await;
    let between = |page: &str, start: &str, end: &str| -> String {
        let from = page.find(start).unwrap() + start.len();
        page[from..].split(end).next().unwrap().to_owned()
    };
    let page = b.get("/account/totp").await;
    assert_eq!(page.status, 200);
    let secret = between(&page.body, r#"<code id="totp-secret">"#, "<");
    let pending = between(&page.body, r#"name="pending" value=""#, "\"");
    let again = b
        .post_form(
            "/account/totp",
            &[("pending", &pending), ("code", "000000")],
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(
        between(&again.body, r#"<code id="totp-secret">"#, "<"),
        secret
    );
    // A tampered pending state starts over with a new secret.
    let over = b
        .post_form(
            "/account/totp",
            &[("pending", "garbage"), ("code", "000000")],
        )
        .await;
    assert_eq!(over.status, 400);
    assert_ne!(
        between(&over.body, r#"<code id="totp-secret">"#, "<"),
        secret
    );
    let code = TotpSecret::from_base32(&secret)
        .unwrap()
        .code_at(Utc::now())
        .unwrap();
    let done = b
        .post_form("/account/totp", &[("pending", &pending), ("code", &code)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your recovery codes"));
}

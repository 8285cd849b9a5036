//! The CAPTCHA flows over HTTP against the real server, for both kinds (seed §7 and its tests):
//! the status exposes the token and the threshold; a challenge marks the session rate-limited;
//! a wrong answer is refused, the right one makes the session trusted, and neither a replay,
//! another session nor a fourth try gets through. Two servers on one Postgres share
//! challenges.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use wildid_tests::captcha::{issue, solve, wrong};
use wildid_tests::client::{Answer, Client};
use wildid_tests::server::{Server, ServerOptions, two_on_one_postgres};

fn server(kind: &str) -> Server {
    Server::start_with(ServerOptions::default().env("WILDID_CAPTCHA_KIND", kind)).unwrap()
}

async fn verify(client: &mut Client, id: &Value, answer: Value) -> Answer {
    client
        .post_json(
            "/api/security/verify",
            &json!({ "captcha_id": id, "answer": answer }),
        )
        .await
}

/// The keys of a JSON object, sorted: external clients rely on the exact shapes, so a key
/// added or dropped fails the test.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// The seed's keys, and `identifications_left` (WildID's addition: what the next
/// identification meets, the network's count included).
const STATUS_KEYS: [&str; 10] = [
    "authenticated",
    "captcha_enabled",
    "captcha_kind",
    "csrf_token",
    "identifications_left",
    "is_trusted",
    "rate_limit_threshold",
    "rate_limit_window_seconds",
    "rate_limited",
    "request_count",
];

async fn the_seed_flow(kind: &str) {
    let server = server(kind);
    let mut client = Client::new(&server.url(""));
    let status = client.get("/api/security/status").await.json();
    assert_eq!(keys(&status), STATUS_KEYS);
    assert!(status["csrf_token"].as_str().unwrap().len() >= 32);
    assert_eq!(status["captcha_enabled"], true);
    assert_eq!(status["captcha_kind"], kind);
    assert_eq!(status["rate_limit_threshold"], 10);
    assert_eq!(status["rate_limit_window_seconds"], 3600);
    assert_eq!(status["is_trusted"], false);
    assert_eq!(status["authenticated"], false);

    let challenge = issue(&mut client).await;
    assert_eq!(challenge["kind"], kind);
    assert_eq!(challenge["expires_in"], 300);
    let puzzle = if kind == "arithmetic" {
        "question"
    } else {
        "challenge"
    };
    let mut expected = vec!["captcha_id", "expires_in", "kind", puzzle];
    expected.sort_unstable();
    assert_eq!(keys(&challenge), expected);
    match kind {
        "arithmetic" => {
            assert!(
                challenge["question"]
                    .as_str()
                    .unwrap()
                    .starts_with("What is ")
            );
            assert!(challenge.get("challenge").is_none());
        }
        _ => {
            assert!(challenge.get("question").is_none());
            let c = &challenge["challenge"];
            assert_eq!(
                keys(c),
                ["algorithm", "challenge", "maxnumber", "salt", "signature"],
                "the ALTCHA challenge object"
            );
            assert_eq!(c["algorithm"], "SHA-256");
            assert_eq!(c["maxnumber"], 100_000);
            assert!(c["salt"].as_str().unwrap().contains("?expires="));
        }
    }
    let status = client.get("/api/security/status").await.json();
    assert_eq!(
        status["rate_limited"], true,
        "a challenge marks the session"
    );

    let refused = verify(&mut client, &challenge["captcha_id"], wrong(&challenge)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"success": false, "error": "incorrect_answer"})
    );

    let right = solve(&challenge);
    let passed = verify(&mut client, &challenge["captcha_id"], right.clone()).await;
    assert_eq!(passed.status, 200, "{}", passed.body);
    let passed = passed.json();
    assert_eq!(keys(&passed), ["status", "success"]);
    assert_eq!(keys(&passed["status"]), STATUS_KEYS);
    assert_eq!(passed["success"], true);
    assert_eq!(passed["status"]["is_trusted"], true);
    assert_eq!(passed["status"]["rate_limited"], false);
    assert_eq!(passed["status"]["request_count"], 0);
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["is_trusted"], true, "the trust is stored");

    let replay = verify(&mut client, &challenge["captcha_id"], right).await;
    assert_eq!(replay.json()["error"], "unknown_captcha", "single use");
}

#[tokio::test]
async fn the_seed_flow_with_the_arithmetic_question() {
    the_seed_flow("arithmetic").await;
}

#[tokio::test]
async fn the_seed_flow_with_proof_of_work() {
    the_seed_flow("proof_of_work").await;
}

#[tokio::test]
async fn three_wrong_answers_end_a_challenge_and_it_is_no_one_else_s() {
    let server = server("arithmetic");
    let mut owner = Client::new(&server.url(""));
    owner.refresh_csrf().await;
    let challenge = issue(&mut owner).await;
    let id = &challenge["captcha_id"];

    let mut stranger = Client::new(&server.url(""));
    stranger.refresh_csrf().await;
    let theirs = verify(&mut stranger, id, solve(&challenge)).await;
    assert_eq!(theirs.json()["error"], "unknown_captcha");

    for expected in ["incorrect_answer", "incorrect_answer", "too_many_attempts"] {
        let answer = verify(&mut owner, id, json!(1000)).await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json()["error"], expected);
    }
    let late = verify(&mut owner, id, solve(&challenge)).await;
    assert_eq!(
        late.json()["error"],
        "unknown_captcha",
        "the challenge is gone"
    );
    let status = owner.get("/api/security/status").await.json();
    assert_eq!(status["is_trusted"], false);
}

#[tokio::test]
async fn bad_answers_are_refused_clearly() {
    let server = server("proof_of_work");
    let mut client = Client::new(&server.url(""));
    client.refresh_csrf().await;
    let challenge = issue(&mut client).await;
    let id = challenge["captcha_id"].clone();
    for (body, code) in [
        (
            json!({"captcha_id": id, "answer": "not base64 !"}),
            "incorrect_answer",
        ),
        (
            json!({"captcha_id": "nonsense", "answer": "1"}),
            "unknown_captcha",
        ),
        (
            json!({"captcha_id": "00000000-0000-4000-8000-000000000000", "answer": "1"}),
            "unknown_captcha",
        ),
    ] {
        let answer = client.post_json("/api/security/verify", &body).await;
        assert_eq!(
            (answer.status, answer.json()["error"].as_str().unwrap()),
            (400, code)
        );
    }
    let extra = client
        .post_json(
            "/api/security/verify",
            &json!({"captcha_id": id, "answer": "1", "admin": true}),
        )
        .await;
    assert_eq!(extra.status, 422);
    assert!(extra.body.contains("admin"), "{}", extra.body);
    let missing = client
        .post_json("/api/security/verify", &json!({"captcha_id": id}))
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("answer"), "{}", missing.body);

    // Without the anti-forgery token nothing is issued.
    client.csrf = Some("forged".into());
    let forged = client.post_json("/api/security/captcha", &json!({})).await;
    assert_eq!(forged.status, 403);
    assert_eq!(forged.error(), "csrf_failed");
}

#[tokio::test]
async fn captchas_can_be_turned_off() {
    let server = server("off");
    let mut client = Client::new(&server.url(""));
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["captcha_enabled"], false);
    assert_eq!(status["captcha_kind"], Value::Null);
    let answer = client.post_json("/api/security/captcha", &json!({})).await;
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (404, "captcha_disabled")
    );
}

#[tokio::test]
async fn a_challenge_issued_by_one_server_is_verified_by_another_on_the_same_postgres() {
    let Some((first, second)) = two_on_one_postgres(|| {
        ServerOptions::default().env("WILDID_CAPTCHA_KIND", "proof_of_work")
    })
    .await
    else {
        return;
    };
    let mut on_first = Client::new(&first.url(""));
    on_first.refresh_csrf().await;
    let challenge = issue(&mut on_first).await;

    let mut on_second = Client::new(&second.url(""));
    on_second.set_session_cookie(&on_first.session_cookie().unwrap());
    on_second.csrf = on_first.csrf.clone();
    let passed = verify(&mut on_second, &challenge["captcha_id"], solve(&challenge)).await;
    assert_eq!(passed.status, 200, "{}", passed.body);
    assert_eq!(passed.json()["status"]["is_trusted"], true);
    let status = on_first.get("/api/security/status").await.json();
    assert_eq!(
        status["is_trusted"], true,
        "the first server sees the trust"
    );
}

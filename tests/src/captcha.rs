//! Answering CAPTCHAs as a client would: the arithmetic question by reading it, the proof of
//! work by solving the ALTCHA challenge.

use base64::Engine as _;
use serde_json::{Value, json};
use wildid_domain::pow::PowChallenge;

use crate::client::Client;

/// A fresh challenge for the client's session (`POST /api/security/captcha`).
pub async fn issue(client: &mut Client) -> Value {
    let answer = client.post_json("/api/security/captcha", &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// Issues a challenge and answers it rightly; the session is trusted afterwards. Returns the
/// status the verification answered.
pub async fn pass(client: &mut Client) -> Value {
    let challenge = issue(client).await;
    let answer = client
        .post_json(
            "/api/security/verify",
            &json!({ "captcha_id": challenge["captcha_id"], "answer": solve(&challenge) }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["status"].clone()
}

/// The right answer to a challenge, as a client would compute it.
pub fn solve(challenge: &Value) -> Value {
    match challenge["kind"].as_str().unwrap() {
        "arithmetic" => {
            let question = challenge["question"].as_str().unwrap();
            let words: Vec<&str> = question
                .trim_start_matches("What is ")
                .trim_end_matches('?')
                .split(' ')
                .collect();
            let (a, b): (i64, i64) = (words[0].parse().unwrap(), words[2].parse().unwrap());
            let result = match words[1] {
                "+" => a + b,
                "-" => a - b,
                "×" => a * b,
                other => panic!("unknown operator {other}"),
            };
            json!(result)
        }
        "proof_of_work" => {
            let c = &challenge["challenge"];
            assert_eq!(c["algorithm"], "SHA-256");
            let pow = PowChallenge {
                challenge: c["challenge"].as_str().unwrap().to_owned(),
                max_number: c["maxnumber"].as_u64().unwrap(),
                salt: c["salt"].as_str().unwrap().to_owned(),
                signature: c["signature"].as_str().unwrap().to_owned(),
            };
            let number = pow.solve().expect("the challenge has a solution");
            let payload = json!({
                "algorithm": "SHA-256",
                "challenge": pow.challenge,
                "number": number,
                "salt": pow.salt,
                "signature": pow.signature,
                "took": 12,
            });
            json!(base64_encode(payload.to_string().as_bytes()))
        }
        other => panic!("unknown kind {other}"),
    }
}

/// A wrong answer of the right shape.
pub fn wrong(challenge: &Value) -> Value {
    match challenge["kind"].as_str().unwrap() {
        "arithmetic" => json!(1000),
        _ => {
            let right = solve(challenge);
            let payload = base64_decode(right.as_str().unwrap());
            let mut v: Value = serde_json::from_slice(&payload).unwrap();
            v["number"] = json!(v["number"].as_u64().unwrap() + 1);
            json!(base64_encode(v.to_string().as_bytes()))
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

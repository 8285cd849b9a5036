//! Remote providers made robust, against a real HTTP server on loopback playing the provider
//! (`tests/src/provider.rs`): retries of 429 and 5xx within a time budget, `Retry-After`
//! honoured, a spent quota not retried, a hang cut at the budget, the circuit breaker opening
//! and closing; and, on the real server, a failing provider replaced by the next of the chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use wildid_adapters_ai::{
    BreakerPolicy, CircuitState, OpenAiCompatible, ProviderSettings, Resilient, RetryPolicy,
};
use wildid_ports::identify::{CheckedImage, IdentifyError, ImageFormat, SpeciesIdentifier};
use wildid_tests::client::Client;
use wildid_tests::provider::{FakeProvider, Reply};
use wildid_tests::server::{Server, ServerOptions};

fn image() -> CheckedImage {
    CheckedImage {
        source_format: ImageFormat::Jpeg,
        format: ImageFormat::Jpeg,
        bytes: vec![0xFF, 0xD8, 0xFF, 0xD9],
        width: 1,
        height: 1,
        thumbnail: None,
        upload_sha256: [0; 32],
    }
}

/// The provider behind retries (fast backoff) and a breaker, with `budget` for each photo.
fn resilient(
    provider: &FakeProvider,
    retries: u32,
    budget: Duration,
    breaker: BreakerPolicy,
) -> Resilient {
    let client = OpenAiCompatible::new(ProviderSettings {
        name: "test".into(),
        base_url: provider.base_url(),
        api_key: None,
        model: "test-vision".into(),
        timeout: budget,
        max_tokens: 100,
        json_schema: false,
    })
    .unwrap();
    Resilient::new(
        Arc::new(client),
        RetryPolicy {
            retries,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(3),
            budget,
        },
        breaker,
    )
}

fn no_breaker() -> BreakerPolicy {
    BreakerPolicy {
        failures: 100,
        cool_down: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_an_answer() {
    let provider = FakeProvider::start();
    let p = resilient(&provider, 2, Duration::from_secs(10), no_breaker());
    provider.script(vec![Reply::Throttled(None), Reply::Status(503)]);
    let result = p.identify(&image()).await.unwrap();
    assert_eq!(result.species.as_str(), "Chelonia mydas");
    assert_eq!(provider.calls().len(), 3, "429, 503, then the answer");

    // More failures than retries: the last one is the answer, after 1 + 2 calls.
    provider.script(vec![
        Reply::Status(500),
        Reply::Status(502),
        Reply::Status(500),
        Reply::Status(500),
    ]);
    let e = p.identify(&image()).await.unwrap_err();
    assert!(matches!(e, IdentifyError::Transient { .. }), "{e:?}");
    assert_eq!(provider.calls().len(), 6);
}

#[tokio::test]
async fn retry_after_is_waited_for_and_one_beyond_the_budget_is_not() {
    let provider = FakeProvider::start();
    let p = resilient(&provider, 2, Duration::from_secs(10), no_breaker());
    provider.script(vec![Reply::Throttled(Some(1))]);
    let started = Instant::now();
    p.identify(&image()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as asked"
    );
    assert_eq!(provider.calls().len(), 2);

    // A provider that asks for longer than the photo's budget allows is not waited for.
    let short = resilient(&provider, 2, Duration::from_secs(2), no_breaker());
    provider.script(vec![Reply::Throttled(Some(30))]);
    let e = short.identify(&image()).await.unwrap_err();
    assert!(
        matches!(&e, IdentifyError::Transient { retry_after: Some(d), .. } if *d == Duration::from_secs(30)),
        "{e:?}"
    );
    assert_eq!(provider.calls().len(), 3, "one call, no retry");
}

#[tokio::test]
async fn a_spent_quota_and_other_refusals_are_not_retried() {
    let provider = FakeProvider::start();
    let p = resilient(&provider, 2, Duration::from_secs(10), no_breaker());
    for (reply, calls) in [
        (Reply::QuotaSpent, 1),
        (Reply::Status(401), 2),
        (Reply::Status(400), 3),
    ] {
        provider.script(vec![reply]);
        let e = p.identify(&image()).await.unwrap_err();
        assert!(matches!(e, IdentifyError::Unavailable(_)), "{e:?}");
        assert_eq!(provider.calls().len(), calls, "no retry");
    }
    let quota = {
        provider.script(vec![Reply::QuotaSpent]);
        p.identify(&image()).await.unwrap_err().to_string()
    };
    assert!(quota.contains("insufficient_quota"), "{quota}");
}

#[tokio::test]
async fn a_hanging_provider_costs_the_budget_once() {
    let provider = FakeProvider::start();
    let p = resilient(&provider, 2, Duration::from_secs(1), no_breaker());
    provider.reply(Reply::Slow(Duration::from_secs(4)));
    let started = Instant::now();
    let e = p.identify(&image()).await.unwrap_err();
    assert!(matches!(e, IdentifyError::Unavailable(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut at the budget, not left to hang"
    );
    assert_eq!(provider.calls().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn the_breaker_skips_a_failing_provider_then_tries_it_again() {
    let provider = FakeProvider::start();
    let breaker = BreakerPolicy {
        failures: 2,
        cool_down: Duration::from_millis(600),
    };
    let p = resilient(&provider, 0, Duration::from_secs(5), breaker);
    provider.reply(Reply::Status(500));
    for _ in 0..2 {
        assert!(p.identify(&image()).await.is_err());
    }
    assert_eq!(p.circuit(), CircuitState::Open);
    assert_eq!(provider.calls().len(), 2);
    // Skipped: answered at once, the provider not called.
    let e = p.identify(&image()).await.unwrap_err();
    assert!(e.to_string().contains("cooling down"), "{e}");
    assert_eq!(provider.calls().len(), 2);

    // After the cool-down one trial goes through; it fails, so the circuit opens again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(p.identify(&image()).await.is_err());
    assert_eq!(provider.calls().len(), 3);
    assert_eq!(p.circuit(), CircuitState::Open);

    // The provider recovers: the next trial succeeds and closes the circuit.
    tokio::time::sleep(Duration::from_millis(700)).await;
    provider.reply(Reply::Content(wildid_tests::provider::turtle_answer()));
    p.identify(&image()).await.unwrap();
    assert_eq!(p.circuit(), CircuitState::Closed);
    p.identify(&image()).await.unwrap();
    assert_eq!(provider.calls().len(), 5);
}

#[tokio::test]
async fn on_the_server_a_failing_provider_is_replaced_by_the_offline_model() {
    let provider = FakeProvider::start();
    provider.reply(Reply::Status(500));
    let server = Server::start_with(
        ServerOptions::default()
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", provider.base_url())
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_RETRIES", "1")
            .env("WILDID_AI_FALLBACK", "local-model"),
    )
    .unwrap();
    let mut client = Client::new(&server.url(""));
    let photo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/adapters-ai/tests/photos/fish.jpg"),
    )
    .unwrap();
    let answer = client
        .post_multipart("/api/identify", &[("image", &photo)])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(
        body["provider"], "local-model",
        "the result names who answered"
    );
    assert_eq!(body["identification"]["common_name"], "Goldfish");
    assert_eq!(
        provider.calls().len(),
        2,
        "the first provider: one call and one retry"
    );
    assert_eq!(body["status"]["request_count"], 1, "counted once");
    let line = server.wait_for_log("asking the next one");
    assert!(
        line.contains("provider=\"test\"") || line.contains("test"),
        "{line}"
    );
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "nothing of the provider leaks"
    );
}

/// Before it says it is listening, the server asks each remote provider for its model listing
/// (nothing identified, nothing billed) and logs what it found right after the address: that
/// it answered, that it refused the key, or that it did not answer, naming what to check. The
/// start goes on in every case: identifications fall back or answer 503.
#[tokio::test]
async fn remote_providers_are_checked_at_start_and_a_silent_one_is_named() {
    let provider = FakeProvider::start();
    let options = |base: &str| {
        ServerOptions::default()
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", base)
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_API_KEY", "sk-start-up-check-secret")
    };
    // `wildid config check` makes the same checks, and a silent provider fails it.
    let data = tempfile::tempdir().unwrap();
    let provider_env = |base: &str| {
        vec![
            ("WILDID_AI_PROVIDER", "test".to_owned()),
            ("WILDID_AI_BASE_URL", base.to_owned()),
            ("WILDID_AI_MODEL", "test-vision".to_owned()),
        ]
    };
    let check = |base: &str| {
        let env = provider_env(base);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        wildid_tests::server::run_cli(data.path(), &env, &["config", "check"])
    };
    let (status, out, err) = check(&provider.base_url());
    assert!(status.success(), "{out}{err}");
    assert!(
        out.contains("[connections]\nidentification provider test answered (HTTP 200)"),
        "{out}"
    );
    assert_eq!(provider.listings(), 1);
    let (status, out, _) = check(&silent_base());
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(
        out.contains("ERROR: identification provider test did not answer at start"),
        "{out}"
    );

    let server = Server::start_with(options(&provider.base_url())).unwrap();
    let line = server.wait_for_log("identification provider test answered (HTTP 200)");
    assert!(line.contains("INFO"), "{line}");
    assert_eq!(provider.listings(), 2, "asked once, at start");
    assert!(provider.calls().is_empty(), "nothing was identified");
    let (_, logs) = server.stop();
    let listening = logs
        .iter()
        .position(|l| l.contains("listening on"))
        .unwrap();
    let checked = logs
        .iter()
        .position(|l| l.contains("provider test answered"))
        .unwrap();
    assert!(
        listening < checked,
        "the address stays the first line: {logs:#?}"
    );

    provider.refuse_every_key();
    let server = Server::start_with(options(&provider.base_url())).unwrap();
    let line = server.wait_for_log("refused the key (HTTP 401): check WILDID_AI_API_KEY");
    assert!(line.contains("WARN"), "{line}");
    drop(server);

    // Nothing listens there: the server starts all the same and says what to check.
    let server = Server::start_with(options(&silent_base())).unwrap();
    let line = server.wait_for_log("identification provider test did not answer at start");
    assert!(
        line.contains("WARN") && line.contains("check WILDID_AI_BASE_URL"),
        "{line}"
    );
    let mut client = Client::new(&server.url(""));
    assert_eq!(client.get("/readyz").await.status, 200, "the server serves");
    let logs = server.logs();
    assert!(
        !logs.iter().any(|l| l.contains("sk-start-up-check-secret")),
        "the key is never logged"
    );
}

/// A provider address on loopback where nothing listens (port 1, which no test binds; a
/// port freed by the test could be taken by another test's server meanwhile).
fn silent_base() -> String {
    "http://127.0.0.1:1/v1".to_owned()
}

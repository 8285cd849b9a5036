//! A real OpenAI-compatible provider for the tests: an HTTP server on loopback that answers
//! `POST /v1/chat/completions` as the test tells it to (an answer, an error status, silence,
//! an oversized body, a redirect) and records what it was sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// How the provider answers the next calls.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a chat completion whose message content is this text.
    Content(String),
    /// 200 with this exact body.
    Raw(String),
    /// This status, with an error body.
    Status(u16),
    /// Waits this long, then answers as `Content` with a fixed answer.
    Slow(Duration),
    /// 200 with a body of this many bytes.
    Huge(usize),
    /// 307 to this URL.
    Redirect(String),
    /// 429 as OpenAI sends it when requests come too fast, with `Retry-After` in seconds if
    /// given.
    Throttled(Option<u64>),
    /// 429 as OpenAI sends it when the account's quota is spent (`insufficient_quota`).
    QuotaSpent,
}

/// One call the provider received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

impl Call {
    /// The data URL of the image the call carried.
    pub fn image_url(&self) -> String {
        self.body["messages"][1]["content"][1]["image_url"]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Default)]
struct Shared {
    reply: Mutex<Option<Reply>>,
    /// Replies for the next calls, one each, before `reply` applies again.
    script: Mutex<std::collections::VecDeque<Reply>>,
    calls: Mutex<Vec<Call>>,
    /// `GET /v1/models` answers 401, as for a refused key.
    refuse_key: std::sync::atomic::AtomicBool,
    /// How many times `GET /v1/models` was asked.
    listings: std::sync::atomic::AtomicUsize,
}

/// The running provider; stops when dropped.
pub struct FakeProvider {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What a well-behaved model answers.
pub fn turtle_answer() -> String {
    json!({
        "is_animal": true,
        "species": "Chelonia mydas",
        "common_name": "Green sea turtle",
        "animal_type": "reptile",
        "conservation_status": "Endangered",
        "confidence": "high",
        "description": "A green sea turtle resting on sand.",
        "notes": null,
    })
    .to_string()
}

impl FakeProvider {
    /// Starts on an ephemeral loopback port, answering [`turtle_answer`].
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        *shared.reply.lock().unwrap() = Some(Reply::Content(turtle_answer()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .route("/elsewhere/chat/completions", post(answer))
            .route("/v1/models", axum::routing::get(models))
            .with_state(Arc::clone(&shared));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            address,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The API root to configure (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// From now on the model listing (`GET /v1/models`, what WildID asks at start) answers
    /// 401, as a provider does for a missing or revoked key.
    pub fn refuse_every_key(&self) {
        self.shared
            .refuse_key
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many times the model listing was asked for.
    pub fn listings(&self) -> usize {
        self.shared
            .listings
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets how the next calls are answered.
    pub fn reply(&self, reply: Reply) {
        *self.shared.reply.lock().unwrap() = Some(reply);
    }

    /// Answers the next calls with `replies`, one each, then as [`FakeProvider::reply`] set.
    pub fn script(&self, replies: Vec<Reply>) {
        *self.shared.script.lock().unwrap() = replies.into();
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn completion(content: &str) -> Response {
    let body = json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"}],
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn answer(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let call = Call {
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    shared.calls.lock().unwrap().push(call);
    let scripted = shared.script.lock().unwrap().pop_front();
    let reply = scripted.or_else(|| shared.reply.lock().unwrap().clone());
    match reply.unwrap_or(Reply::Status(500)) {
        Reply::Content(text) => completion(&text),
        Reply::Raw(body) => (StatusCode::OK, body).into_response(),
        Reply::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            r#"{"error":{"message":"test failure"}}"#,
        )
            .into_response(),
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            completion(&turtle_answer())
        }
        Reply::Huge(size) => (StatusCode::OK, "x".repeat(size)).into_response(),
        Reply::Redirect(to) => {
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)], "").into_response()
        }
        Reply::Throttled(retry_after) => {
            let body = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
            let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.to_string().parse().unwrap());
            }
            response
        }
        Reply::QuotaSpent => (
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        )
            .into_response(),
    }
}

/// `GET /v1/models`: the listing of an OpenAI-compatible API (the one model the tests use), or
/// 401 once [`FakeProvider::refuse_every_key`] was called. Not a [`Call`].
async fn models(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .listings
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if shared.refuse_key.load(std::sync::atomic::Ordering::SeqCst) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})),
        )
            .into_response();
    }
    axum::Json(json!({"object": "list", "data": [{"id": "test-vision", "object": "model"}]}))
        .into_response()
}

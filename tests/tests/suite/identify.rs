//! Identification over HTTP against the real server and a real provider server on loopback
//! (seed §6, §10, §11): a photo is checked and passed on as pixels only; the adaptive limit
//! asks for a CAPTCHA at the threshold, for both kinds, and a passed CAPTCHA lets the session
//! go on; a new cookie does not reset the count; the per-network ceiling holds for trusted
//! sessions; bad uploads and provider failures get clear answers and cost nothing they should
//! not; two servers on one Postgres share the counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use wildid_tests::accounts::audit_entries;
use wildid_tests::captcha::{issue, pass, solve, wrong};
use wildid_tests::client::{Answer, Client, multipart_body};
use wildid_tests::provider::{FakeProvider, Reply};
use wildid_tests::server::{Server, ServerOptions, run_cli};

const KEY: &str = "sk-test-7f3a9c1e5b";

/// A photo: a small PNG with a text chunk that must not travel on.
fn photo() -> Vec<u8> {
    wildid_tests::photos::small_png()
}

fn options(provider: &FakeProvider, threshold: u32) -> ServerOptions {
    ServerOptions::default()
        .env("WILDID_AI_PROVIDER", "test")
        .env("WILDID_AI_BASE_URL", provider.base_url())
        .env("WILDID_AI_MODEL", "test-vision")
        .env("WILDID_AI_API_KEY", KEY)
        .env("WILDID_AI_TIMEOUT_SECONDS", "2")
        .env("WILDID_RATE_LIMIT_THRESHOLD", threshold.to_string())
}

async fn identify(client: &mut Client) -> Answer {
    client
        .post_multipart("/api/identify", &[("image", &photo())])
        .await
}

async fn verify(client: &mut Client, challenge: &Value, answer: Value) -> Answer {
    client
        .post_json(
            "/api/security/verify",
            &json!({ "captcha_id": challenge["captcha_id"], "answer": answer }),
        )
        .await
}

/// Sends `request` as written and reads the answer until it contains `until` (or the server
/// closes): for requests an HTTP client would not send, or would still be writing when the
/// answer comes.
fn raw_request(address: std::net::SocketAddr, request: &str, until: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before all of it is written; the answer still counts.
    let _ = std::io::Write::write_all(&mut stream, request.as_bytes());
    let mut answer = String::new();
    let mut buffer = [0u8; 4096];
    while !answer.contains(until) {
        match std::io::Read::read(&mut stream, &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
    answer
}

/// Every file under `dir` (recursively), by path relative to it.
fn files_under(dir: &std::path::Path) -> std::collections::BTreeSet<std::path::PathBuf> {
    let mut found = std::collections::BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found
}

#[tokio::test]
async fn a_photo_is_identified_and_the_provider_sees_only_its_pixels() {
    let provider = FakeProvider::start();
    // The server's own temporary directory, to see that an upload is never written anywhere.
    let tmp = tempfile::tempdir().unwrap();
    let server =
        Server::start_with(options(&provider, 10).env("TMPDIR", tmp.path().to_str().unwrap()))
            .unwrap();
    let files_before = files_under(&server.data_dir);
    let mut client = Client::new(&server.url(""));
    let answer = identify(&mut client).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // ASVS 5.3.2: an upload is never written to disk (so no path is ever made from its name):
    // the data directory holds the same files (but for the database's own journal files,
    // which SQLite opens and closes as it likes), the temporary directory none.
    let not_the_database = |files: std::collections::BTreeSet<std::path::PathBuf>| {
        files
            .into_iter()
            .filter(|f| !f.to_string_lossy().starts_with("wildid.db"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        not_the_database(files_under(&server.data_dir)),
        not_the_database(files_before)
    );
    assert!(files_under(tmp.path()).is_empty());
    let body = answer.json();
    assert_eq!(body["identification"]["species"], "Chelonia mydas");
    assert_eq!(body["identification"]["common_name"], "Green sea turtle");
    assert_eq!(body["identification"]["confidence"], "high");
    assert_eq!(body["identification"]["is_animal"], true);
    assert_eq!(body["provider"], "test");
    assert_eq!(body["photo"]["uploaded_as"], "image/png");
    assert_eq!(
        (
            body["photo"]["width"].as_u64(),
            body["photo"]["height"].as_u64()
        ),
        (Some(64), Some(48))
    );
    assert_eq!(body["photo"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(body["status"]["request_count"], 1);
    assert_eq!(body["status"]["rate_limited"], false);
    assert_eq!(answer.header("cache-control"), Some("no-store"));

    let calls = provider.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(call.body["model"], "test-vision");
    assert_eq!(call.body["messages"][0]["role"], "system");
    let url = call.image_url();
    let data = url
        .strip_prefix("data:image/jpeg;base64,")
        .expect("a JPEG data URL");
    let sent = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(
        image::guess_format(&sent).unwrap(),
        image::ImageFormat::Jpeg
    );
    assert_ne!(sent, photo(), "re-encoded, not the upload itself");

    let status = client.get("/api/security/status").await.json();
    assert_eq!(
        status["request_count"], 1,
        "the count is stored with the session"
    );
    let (_, logs) = server.stop();
    assert!(
        !logs.iter().any(|l| l.contains(KEY)),
        "the provider key is in no log line"
    );
}

/// The seed's security flow, over the identification route itself.
async fn rate_limit_then_captcha_then_trusted(kind: &str) {
    let provider = FakeProvider::start();
    let server =
        Server::start_with(options(&provider, 3).env("WILDID_CAPTCHA_KIND", kind)).unwrap();
    let mut client = Client::new(&server.url(""));
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["rate_limit_threshold"], 3);
    for count in 1..=3 {
        let answer = identify(&mut client).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json()["status"]["request_count"], count);
    }
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["rate_limited"], true, "marked at the threshold");

    let held = identify(&mut client).await;
    assert_eq!(
        (held.status, held.error().as_str()),
        (429, "captcha_required")
    );
    let retry_after: i64 = held.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(
        provider.calls().len(),
        3,
        "a held session never reaches the provider"
    );

    let challenge = issue(&mut client).await;
    let refused = verify(&mut client, &challenge, wrong(&challenge)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "incorrect_answer");
    let still_held = identify(&mut client).await;
    assert_eq!(still_held.status, 429, "a wrong answer lifts nothing");

    let passed = verify(&mut client, &challenge, solve(&challenge)).await;
    assert_eq!(passed.status, 200, "{}", passed.body);
    assert_eq!(passed.json()["status"]["is_trusted"], true);
    for _ in 0..3 {
        let answer = identify(&mut client).await;
        assert_eq!(
            answer.status, 200,
            "a trusted session goes on: {}",
            answer.body
        );
        assert_eq!(answer.json()["status"]["is_trusted"], true);
    }
    assert_eq!(provider.calls().len(), 6);
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

#[tokio::test]
async fn rate_limit_captcha_trust_with_the_arithmetic_question() {
    rate_limit_then_captcha_then_trusted("arithmetic").await;
}

#[tokio::test]
async fn rate_limit_captcha_trust_with_proof_of_work() {
    rate_limit_then_captcha_then_trusted("proof_of_work").await;
}

#[tokio::test]
async fn people_sharing_a_network_each_get_their_allowance_and_a_new_cookie_does_not_escape_it() {
    let provider = FakeProvider::start();
    // Three each; the network's count of untrusted identifications sized for two people.
    let server =
        Server::start_with(options(&provider, 3).env("WILDID_RATE_LIMIT_NETWORK_THRESHOLD", "6"))
            .unwrap();
    let mut first = Client::new(&server.url(""));
    for _ in 0..3 {
        assert_eq!(identify(&mut first).await.status, 200);
    }
    // A second person on the same network has their own three, and the status says so
    // before each one.
    let mut second = Client::new(&server.url(""));
    for left in (1..=3).rev() {
        let status = second.get("/api/security/status").await.json();
        assert_eq!(
            (
                status["identifications_left"].as_u64(),
                status["rate_limited"].as_bool()
            ),
            (Some(left), Some(false))
        );
        assert_eq!(identify(&mut second).await.status, 200);
    }
    // The network's count is spent: a client without the cookie, from the same address, is
    // held, and its status says so before it tries.
    for attempt in 0..3 {
        let mut fresh = Client::new(&server.url(""));
        let status = fresh.get("/api/security/status").await.json();
        assert_eq!(status["rate_limited"], true, "attempt {attempt}");
        assert_eq!(status["identifications_left"], 0);
        let answer = identify(&mut fresh).await;
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (429, "captcha_required"),
            "attempt {attempt} with a new cookie"
        );
        let status = fresh.get("/api/security/status").await.json();
        assert_eq!(
            status["rate_limited"], true,
            "the new session must pass a CAPTCHA too"
        );
    }
    assert_eq!(provider.calls().len(), 6);
}

#[tokio::test]
async fn the_status_resets_an_expired_window_before_it_answers() {
    let provider = FakeProvider::start();
    let server =
        Server::start_with(options(&provider, 1).env("WILDID_RATE_LIMIT_WINDOW", "1")).unwrap();
    let mut client = Client::new(&server.url(""));
    assert_eq!(identify(&mut client).await.status, 200);
    let held = client.get("/api/security/status").await.json();
    // Within the second the window may already be over; either way the status agrees with
    // what identify does next.
    if held["rate_limited"] == true {
        assert_eq!(held["identifications_left"], 0);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let status = client.get("/api/security/status").await.json();
    assert_eq!(
        (
            status["rate_limited"].as_bool(),
            status["request_count"].as_u64(),
            status["identifications_left"].as_u64()
        ),
        (Some(false), Some(0), Some(1)),
        "{status}"
    );
    assert_eq!(identify(&mut client).await.status, 200);
}

#[tokio::test]
async fn a_trusted_session_still_meets_the_network_ceiling() {
    let provider = FakeProvider::start();
    let server = Server::start_with(
        options(&provider, 2)
            .env("WILDID_RATE_LIMIT_IP_CEILING", "4")
            .env("WILDID_CAPTCHA_KIND", "arithmetic"),
    )
    .unwrap();
    let mut client = Client::new(&server.url(""));
    assert_eq!(pass(&mut client).await["is_trusted"], true);
    for _ in 0..4 {
        assert_eq!(identify(&mut client).await.status, 200);
    }
    let over = identify(&mut client).await;
    assert_eq!(
        (over.status, over.error().as_str()),
        (429, "too_many_requests")
    );
    assert!(over.header("retry-after").is_some());
    // No CAPTCHA lifts the ceiling.
    assert_eq!(pass(&mut client).await["is_trusted"], true);
    assert_eq!(identify(&mut client).await.status, 429);
    assert_eq!(provider.calls().len(), 4);
}

#[tokio::test]
async fn bad_uploads_are_refused_clearly_and_cost_no_identification() {
    let provider = FakeProvider::start();
    let server =
        Server::start_with(options(&provider, 3).env("WILDID_MAX_UPLOAD_BYTES", "100000")).unwrap();
    let mut client = Client::new(&server.url(""));
    let token = client.refresh_csrf().await;

    let json = client
        .post_json("/api/identify", &json!({"image": "x"}))
        .await;
    assert_eq!(
        (json.status, json.error().as_str()),
        (415, "unsupported_media_type")
    );
    let none = client.post_multipart("/api/identify", &[]).await;
    assert_eq!((none.status, none.error().as_str()), (422, "missing_image"));
    let other = client
        .post_multipart("/api/identify", &[("image", &photo()), ("caption", b"hi")])
        .await;
    assert_eq!(
        (other.status, other.error().as_str()),
        (422, "unknown_field")
    );
    assert!(
        other.json()["message"]
            .as_str()
            .unwrap()
            .contains("caption")
    );
    let twice = client
        .post_multipart("/api/identify", &[("image", &photo()), ("image", &photo())])
        .await;
    assert_eq!(
        (twice.status, twice.error().as_str()),
        (422, "unknown_field")
    );
    for (bytes, why) in [
        (
            b"<?php system($_GET['c']); ?>".as_slice(),
            "not a PNG, JPEG, GIF, WebP or BMP",
        ),
        (&photo()[..200], "damaged"),
        (b"".as_slice(), "empty"),
    ] {
        let refused = client
            .post_multipart("/api/identify", &[("image", bytes)])
            .await;
        assert_eq!(
            (refused.status, refused.error().as_str()),
            (422, "invalid_image")
        );
        let message = refused.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(why), "{message}");
    }
    // Beyond the upload limit: refused on the declared length, before any of it is read (a
    // raw request, since an HTTP client would still be writing the body when the answer
    // comes and the connection closes).
    let head = format!(
        "POST /api/identify HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; \
         boundary=x\r\nX-CSRF-Token: {token}\r\nContent-Length: 150000\r\n\r\n",
        server.addr
    );
    let answer = raw_request(server.addr, &head, "payload_too_large");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // Without the header, an upload is refused as forged, whatever its size: the token is
    // never looked for in a multipart body, so nothing of it is read (not a 413).
    let unsigned = raw_request(
        server.addr,
        &format!(
            "POST /api/identify HTTP/1.1\r\nHost: {}\r\n{}Content-Type: \
             multipart/form-data; boundary=x\r\nContent-Length: 90000\r\n\r\n{}",
            server.addr,
            client.raw_headers(),
            "x".repeat(90_000)
        ),
        "csrf_failed",
    );
    assert!(unsigned.starts_with("HTTP/1.1 403"), "{unsigned}");
    let forged = client
        .send(
            reqwest::Method::POST,
            "/api/identify",
            &[
                ("content-type", "multipart/form-data; boundary=x"),
                ("x-csrf-token", "forged"),
            ],
            Some(b"--x--\r\n".to_vec()),
        )
        .await;
    assert_eq!(
        (forged.status, forged.error().as_str()),
        (403, "csrf_failed")
    );
    assert_eq!(client.csrf.as_deref(), Some(token.as_str()));

    assert!(provider.calls().is_empty(), "nothing reached the provider");
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["request_count"], 0, "no refused upload was counted");
    assert_eq!(
        identify(&mut client).await.status,
        200,
        "a good photo still goes through"
    );
}

/// A real photo from the offline model's test set.
fn dog_jpeg() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/adapters-ai/tests/photos/dog.jpg"
    ))
    .unwrap()
}

/// `jpeg` with the size in its first frame header replaced (no checksum guards it).
fn with_declared_size(mut jpeg: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
    let mut at = 2;
    loop {
        let marker = jpeg[at + 1];
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if (0xC0..=0xC2).contains(&marker) {
            jpeg[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
            jpeg[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
            return jpeg;
        }
        at += 2 + length;
    }
}

/// A grey PNG of zeros: 80 KB on the wire, hundreds of megabytes as colour pixels.
fn decompression_bomb(side: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(image::GrayImage::new(side, side))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Every hostile upload of issue 17's list, one by one, through the real server: each gets a
/// clear 4xx naming the problem, costs no identification and no provider call, and leaves
/// nothing behind (no kept photo, no count), while a good photo still goes through.
#[tokio::test]
async fn every_hostile_upload_is_refused_by_name_and_costs_nothing() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider, 3)).unwrap();
    let mut client = Client::new(&server.url(""));
    client.refresh_csrf().await;
    let dog = dog_jpeg();
    let png = photo();
    let mut jpeg_and_zip = dog.clone();
    jpeg_and_zip.extend_from_slice(b"PK\x03\x04payload.txt");
    jpeg_and_zip.extend_from_slice(b"PK\x05\x06");
    jpeg_and_zip.extend_from_slice(&[0; 18]);
    let mut gif_script = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    gif_script.extend_from_slice(
        b"\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    );
    gif_script.extend_from_slice(b"<script>fetch('/api/me')</script>");
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
    zip.extend_from_slice(&[0; 40]);
    let bomb = decompression_bomb(9000);
    assert!(bomb.len() < 1_000_000, "{} bytes", bomb.len());
    let cases: [(&str, Vec<u8>, &str); 11] = [
        ("zero bytes", Vec::new(), "the upload is empty"),
        ("a JPEG cut in half", dog[..dog.len() / 2].to_vec(), "damaged or incomplete"),
        ("a PNG cut in half", png[..png.len() / 2].to_vec(), "damaged or incomplete"),
        (
            "huge declared dimensions",
            with_declared_size(dog.clone(), 60_000, 60_000),
            "at most 12000 pixels on each side",
        ),
        ("a decompression bomb", bomb, "too many pixels to decode"),
        ("a JPEG with a ZIP archive appended", jpeg_and_zip, "also a ZIP archive"),
        ("a GIF that is also a script", gif_script, "also a web page script"),
        (
            "HTML renamed to .jpg",
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec(),
            "not a PNG, JPEG, GIF, WebP or BMP",
        ),
        ("a ZIP renamed to .jpg", zip, "not a PNG, JPEG, GIF, WebP or BMP"),
        (
            "an SVG with a script",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#.to_vec(),
            "not a PNG, JPEG, GIF, WebP or BMP",
        ),
        (
            "a PHP file",
            b"<?php system($_GET['c']); ?>".to_vec(),
            "not a PNG, JPEG, GIF, WebP or BMP",
        ),
    ];
    for (what, bytes, why) in cases {
        let refused = client
            .post_multipart("/api/identify", &[("image", &bytes)])
            .await;
        assert_eq!(
            (refused.status, refused.error().as_str()),
            (422, "invalid_image"),
            "{what}: {}",
            refused.body
        );
        let message = refused.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(why), "{what}: {message}");
        // The page's form answers the same, and keeps nothing for later.
        let page = client
            .post_upload_form("/identify", &[("image", &bytes)])
            .await;
        assert_eq!(page.status, 422, "{what} on the page");
        assert!(page.body.contains(why), "{what} on the page");
    }
    assert!(provider.calls().is_empty(), "nothing reached the provider");
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["request_count"], 0, "no refused upload was counted");
    assert_eq!(
        wildid_tests::accounts::count(&server.data_dir, "held_photos"),
        0,
        "nothing was kept"
    );
    let good = client
        .post_multipart("/api/identify", &[("image", &dog)])
        .await;
    assert_eq!(
        good.status, 200,
        "the whole photo goes through: {}",
        good.body
    );
}

#[tokio::test]
async fn provider_failures_are_answered_502_and_odd_answers_are_read_safely() {
    let provider = FakeProvider::start();
    // Six failures in a row would open the circuit breaker (`provider_resilience.rs`): each
    // failure here must reach the provider.
    let server =
        Server::start_with(options(&provider, 50).env("WILDID_AI_BREAKER_FAILURES", "100"))
            .unwrap();
    let mut client = Client::new(&server.url(""));
    let redirect_target = format!("{}/../elsewhere/chat/completions", provider.base_url());
    for reply in [
        Reply::Status(500),
        Reply::Status(429),
        Reply::Slow(Duration::from_secs(4)),
        Reply::Redirect(redirect_target),
    ] {
        provider.reply(reply.clone());
        let before = provider.calls().len();
        let answer = identify(&mut client).await;
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (502, "identification_failed"),
            "{reply:?}: {}",
            answer.body
        );
        assert!(
            !answer.body.contains("127.0.0.1"),
            "nothing about the provider leaks"
        );
        // 429 and 5xx are retried (twice by default, `provider_resilience.rs` covers how);
        // nothing else is, and no redirect is followed.
        let calls = if matches!(reply, Reply::Status(429 | 500)) {
            3
        } else {
            1
        };
        assert_eq!(
            provider.calls().len(),
            before + calls,
            "{reply:?}: {calls} call(s), no redirect followed"
        );
    }
    // Each failure is a structured security event for the operator (seed 000 §14), with the
    // request it belongs to and the network it came from.
    let line = server.wait_for_log("security_event=\"provider_failed\"");
    assert!(
        line.contains("request_id=") && line.contains("client=127.0.0.0/24"),
        "{line}"
    );
    let [(_, agent), (_, languages), (_, encodings)] = client.fingerprint_headers();
    let browser = wildid_domain::session::Fingerprint::from_headers(&agent, &languages, &encodings);
    assert!(
        line.contains(&format!("fingerprint={}", browser.to_hex())),
        "the browser's fingerprint: {line}"
    );

    // A reply, however malformed, is no server error: the answer says it could not be read,
    // and carries nothing of what the provider sent.
    for reply in [
        Reply::Huge(2 * 1024 * 1024),
        Reply::Raw("<html>gateway of provider-7 at 10.1.2.3</html>".into()),
        Reply::Raw(r#"{"error": "oops", "choices": []}"#.into()),
        Reply::Raw(r#"{"choices": [{"message": {"content": {"a": "zebra-leak"}}}]}"#.into()),
    ] {
        provider.reply(reply.clone());
        let before = provider.calls().len();
        let answer = identify(&mut client).await;
        assert_eq!(answer.status, 200, "{reply:?}: {}", answer.body);
        let result = &answer.json()["identification"];
        assert_eq!(result["species"], "Unknown", "{reply:?}");
        assert_eq!(result["confidence"], "low");
        assert!(
            result["notes"]
                .as_str()
                .unwrap()
                .contains("could not be read"),
            "{reply:?}: {}",
            answer.body
        );
        for leak in ["gateway", "10.1.2.3", "oops", "127.0.0.1", "zebra-leak"] {
            assert!(!answer.body.contains(leak), "{reply:?}: {leak} leaked");
        }
        assert_eq!(provider.calls().len(), before + 1, "{reply:?}: not retried");
    }

    provider.reply(Reply::Content("It looks like a fox to me.".into()));
    let prose = identify(&mut client).await.json();
    assert_eq!(prose["identification"]["species"], "Unknown");
    assert_eq!(
        prose["identification"]["description"],
        "It looks like a fox to me."
    );
    assert!(
        prose["identification"]["notes"]
            .as_str()
            .unwrap()
            .contains("not in the expected format")
    );

    provider.reply(Reply::Content(
        "```json\n{\"species\": \"<img src=x onerror=alert(1)>Vulpes vulpes\", \"common_name\": \"<script>x()</script>Red fox\", \"confidence\": \"medium\"}\n```".into(),
    ));
    let cleaned = identify(&mut client).await.json();
    assert_eq!(cleaned["identification"]["species"], "Vulpes vulpes");
    assert_eq!(cleaned["identification"]["common_name"], "Red fox");
    assert_eq!(cleaned["identification"]["confidence"], "medium");
    let (_, logs) = server.stop();
    assert!(
        logs.iter()
            .any(|l| l.contains("identification provider failed"))
    );
    assert!(!logs.iter().any(|l| l.contains(KEY)));
}

#[tokio::test]
async fn without_a_provider_identification_is_unavailable_and_counts_nothing() {
    let server =
        Server::start_with(ServerOptions::default().env("WILDID_AI_PROVIDER", "none")).unwrap();
    let mut client = Client::new(&server.url(""));
    let answer = identify(&mut client).await;
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (503, "identification_unavailable")
    );
    let status = client.get("/api/security/status").await.json();
    assert_eq!(status["request_count"], 0);
}

#[tokio::test]
async fn a_provider_setting_that_is_wrong_stops_the_start_with_its_name() {
    for (envs, var) in [
        (vec![("WILDID_AI_PROVIDER", "openai")], "WILDID_AI_API_KEY"),
        (vec![("WILDID_AI_PROVIDER", "local")], "WILDID_AI_BASE_URL"),
        (
            vec![
                ("WILDID_AI_PROVIDER", "local"),
                ("WILDID_AI_BASE_URL", "http://models.example.org/v1"),
                ("WILDID_AI_MODEL", "m"),
            ],
            "WILDID_AI_BASE_URL",
        ),
    ] {
        let mut options = ServerOptions::default();
        for (k, v) in &envs {
            options = options.env(k, *v);
        }
        let failure = Server::start_with(options)
            .err()
            .expect("the start is refused");
        assert!(failure.output.contains(var), "{envs:?}: {}", failure.output);
    }
}

#[tokio::test]
async fn two_servers_on_one_postgres_share_the_identification_count() {
    let Some(url) = wildid_tests::db::fresh_postgres_url().await else {
        return;
    };
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!()
    };
    let provider = FakeProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, generated, _) = run_cli(dir.path(), &[], &["keys", "generate"]);
    let start = || {
        let mut options = options(&provider, 3)
            .env("WILDID_RATE_LIMIT_NETWORK_THRESHOLD", "3")
            .env("DATABASE_URL", raw.expose());
        for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
            let (key, value) = line.split_once('=').unwrap();
            options = options.env(key, value);
        }
        Server::start_with(options).unwrap()
    };
    let (first, second) = (start(), start());
    let mut on_first = Client::new(&first.url(""));
    on_first.refresh_csrf().await;
    let mut on_second = Client::new(&second.url(""));
    on_second.set_session_cookie(&on_first.session_cookie().unwrap());
    on_second.csrf = on_first.csrf.clone();
    assert_eq!(identify(&mut on_first).await.status, 200);
    assert_eq!(identify(&mut on_second).await.status, 200);
    let third = identify(&mut on_first).await;
    assert_eq!(
        third.json()["status"]["request_count"],
        3,
        "one count for both servers"
    );
    let held = identify(&mut on_second).await;
    assert_eq!(
        (held.status, held.error().as_str()),
        (429, "captcha_required")
    );
    // A new cookie on the other server meets the network's count.
    let mut fresh = Client::new(&second.url(""));
    assert_eq!(identify(&mut fresh).await.status, 429);
}

/// The value of the `name` input of a page (`<input ... name="NAME" value="VALUE">`).
fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name}: {html}"));
    let rest = &html[at..];
    let start = rest.find("value=\"").unwrap() + "value=\"".len();
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}

/// The answer to the arithmetic question a CAPTCHA page shows.
fn answer_on(html: &str) -> (String, i64) {
    let start = html.find("<label for=\"answer\">").unwrap() + "<label for=\"answer\">".len();
    let question = html[start..start + html[start..].find('<').unwrap()].to_owned();
    let inner = question
        .strip_prefix("What is ")
        .and_then(|q| q.strip_suffix('?'))
        .unwrap();
    let parts: Vec<&str> = inner.split(' ').collect();
    let (a, b): (i64, i64) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    let answer = match parts[1] {
        "+" => a + b,
        "-" => a - b,
        _ => a * b,
    };
    (question, answer)
}

/// The page a person uses: a plain upload form with the token as its first field, the answer
/// on the page; held, the person is sent to the check and comes back here, trusted.
#[tokio::test]
async fn the_identify_page_uploads_a_photo_and_sends_a_held_person_through_the_check() {
    let provider = FakeProvider::start();
    let server =
        Server::start_with(options(&provider, 2).env("WILDID_CAPTCHA_KIND", "arithmetic")).unwrap();
    let mut browser = Client::new(&server.url(""));
    let page = browser.get("/identify").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"enctype="multipart/form-data""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("You have 2 identifications left"));
    let token = input_value(&page.body, "csrf_token");
    assert_eq!(token, browser.refresh_csrf().await, "the session's token");

    // No token, or a wrong one, in the form: sent back, nothing counted, nothing asked.
    for token in [None, Some("forged")] {
        let mut stranger = Client::new(&server.url(""));
        stranger.get("/identify").await;
        let (content_type, body) = multipart_body(token, &[("image", &photo())]);
        let refused = stranger
            .send(
                reqwest::Method::POST,
                "/identify",
                &[
                    ("content-type", &content_type),
                    ("referer", &server.url("/identify")),
                ],
                Some(body),
            )
            .await;
        assert_eq!(refused.status, 303, "{token:?}: {}", refused.body);
        assert_eq!(refused.header("location"), Some("/identify"));
    }
    assert!(
        provider.calls().is_empty(),
        "a refused form asks no provider"
    );

    let shown = browser
        .post_upload_form("/identify", &[("image", &photo())])
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    for text in [
        "Green sea turtle",
        "<i>Chelonia mydas</i>",
        "Endangered",
        "Identified by test",
        "You have 1 identification left",
    ] {
        assert!(shown.body.contains(text), "{text} in {}", shown.body);
    }
    let refused = browser
        .post_upload_form("/identify", &[("image", b"not a photo".as_slice())])
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("The photo was refused")
            && refused.body.contains(r#"aria-invalid="true""#)
    );
    assert!(
        browser
            .post_upload_form("/identify", &[("image", &photo())])
            .await
            .status
            == 200
    );

    // Held: to the check, which comes back here.
    let held = browser
        .post_upload_form("/identify", &[("image", &photo())])
        .await;
    assert_eq!(held.status, 303, "{}", held.body);
    assert_eq!(
        held.header("location"),
        Some("/security/check?next=%2Fidentify")
    );
    assert_eq!(
        provider.calls().len(),
        2,
        "a held session never reaches the provider"
    );
    let check = browser.get("/security/check?next=%2Fidentify").await;
    assert_eq!(check.status, 200);
    assert!(
        check.body.contains("Your photo is kept for 10 minutes"),
        "{}",
        check.body
    );
    let question = browser
        .post_form("/security/check", &[("next", "/identify")])
        .await;
    assert_eq!(question.status, 200, "{}", question.body);
    let (text, answer) = answer_on(&question.body);
    let passed = browser
        .post_form(
            "/security/answer",
            &[
                ("next", &input_value(&question.body, "next")),
                ("captcha_id", &input_value(&question.body, "captcha_id")),
                ("question", &text),
                ("answer", &answer.to_string()),
            ],
        )
        .await;
    // The photo held at the check was kept: its answer comes right after the check.
    assert_eq!(passed.status, 200, "{}", passed.body);
    for text in [
        "Here is the answer for the photo you chose",
        "Green sea turtle",
        "result-photo",
    ] {
        assert!(passed.body.contains(text), "{text} in {}", passed.body);
    }
    assert!(!passed.body.contains("left before a quick check"));
    assert_eq!(provider.calls().len(), 3);
    let back = browser.get("/identify").await;
    assert!(!back.body.contains("left before a quick check"));
    let again = browser
        .post_upload_form("/identify", &[("image", &photo())])
        .await;
    assert_eq!(
        again.status, 200,
        "trusted, the person goes on: {}",
        again.body
    );
    assert_eq!(provider.calls().len(), 4);

    // The check was audited with the session's fingerprint.
    let entries = audit_entries(&server.data_dir);
    for action in ["captcha.issued", "captcha.passed"] {
        let (_, details) = entries
            .iter()
            .find(|(a, _)| a == action)
            .unwrap_or_else(|| panic!("{action}: {entries:?}"));
        assert_eq!(details["kind"], "arithmetic");
        assert_eq!(
            details["fingerprint"].as_str().map(str::len),
            Some(32),
            "{details}"
        );
    }
}

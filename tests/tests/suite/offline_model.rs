//! The offline classifier as the default provider, against the real server: a fresh server
//! with no identification settings names the animal in a real photo, on the API and on the
//! page; a missing model leaves identification answering 503 with a log line that says how
//! to fix it, and the rest of the server running.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use wildid_tests::client::Client;
use wildid_tests::server::{Server, ServerOptions};

/// A committed photo (see `crates/adapters-ai/tests/photos/PROVENANCE.md`).
fn photo(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/adapters-ai/tests/photos")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn a_server_with_no_identification_settings_names_the_animal_offline() {
    let server = Server::start_with(ServerOptions::default()).unwrap();
    let mut client = Client::new(&server.url(""));
    let answer = client
        .post_multipart("/api/identify", &[("image", &photo("lizard-komodo.jpg"))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["provider"], "local-model");
    let id = &body["identification"];
    assert_eq!(id["is_animal"], true);
    assert_eq!(id["common_name"], "Komodo dragon");
    assert_eq!(id["species"], "Varanus komodoensis");
    assert_eq!(id["animal_type"], "reptile");
    assert_eq!(id["conservation_status"], "Endangered (EN)");
    assert_eq!(id["confidence"], "high");
    assert!(id["notes"].as_str().unwrap().contains("offline"), "{id}");
    let alternatives = id["alternatives"].as_array().unwrap();
    assert_eq!(alternatives.len(), 5);
    assert_eq!(alternatives[0]["common_name"], "Komodo dragon");
    let p0 = alternatives[0]["probability"].as_f64().unwrap();
    assert!(p0 > 0.9 && p0 <= 1.0, "{p0}");
    let probabilities: Vec<f64> = alternatives
        .iter()
        .map(|a| a["probability"].as_f64().unwrap())
        .collect();
    assert!(
        probabilities.windows(2).all(|w| w[0] >= w[1]),
        "best first: {probabilities:?}"
    );
    assert_eq!(body["status"]["request_count"], 1);

    // A photo of a thing: no animal, and what it looks like.
    let answer = client
        .post_multipart("/api/identify", &[("image", &photo("object-coffee.jpg"))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = &answer.json()["identification"];
    assert_eq!(id["is_animal"], false);
    assert_eq!(id["species"], "Unknown");
    assert!(
        id["description"]
            .as_str()
            .unwrap()
            .starts_with("No animal recognised"),
        "{id}"
    );

    // The page: the answer next to the photo it is about, and the ranked alternatives.
    let page = client
        .post_upload_form("/identify", &[("image", &photo("dog.jpg"))])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<h2 id=\"result-title\">German shepherd</h2>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<i>Canis familiaris</i>"));
    assert!(page.body.contains("What the model considered"));
    assert_eq!(page.body.matches("<span class=\"alt-score\">").count(), 5);
    assert!(page.body.contains("Identified by local-model"));
    let src = page
        .body
        .split("class=\"result-photo\" src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the result shows the photo");
    let data = src
        .strip_prefix("data:image/jpeg;base64,")
        .expect("a JPEG data URL");
    use base64::Engine as _;
    let shown = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let shown = image::load_from_memory(&shown).unwrap();
    let sent = image::load_from_memory(&photo("dog.jpg")).unwrap();
    assert_eq!(
        (shown.width(), shown.height()),
        (sent.width(), sent.height()),
        "a small photo is shown at its size, re-encoded"
    );
}

/// A server whose model file is `path`, and its answer to one identification.
async fn with_model_file(path: &Path) -> (Server, Client, wildid_tests::client::Answer) {
    let server = Server::start_with(
        ServerOptions::default().env("WILDID_AI_MODEL_PATH", path.display().to_string()),
    )
    .unwrap();
    let mut client = Client::new(&server.url(""));
    let answer = client
        .post_multipart("/api/identify", &[("image", &photo("dog.jpg"))])
        .await;
    (server, client, answer)
}

#[tokio::test]
async fn a_missing_model_leaves_identification_unavailable_with_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mobilenet.safetensors");
    let (server, mut client, answer) = with_model_file(&missing).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.error(), "identification_unavailable");
    assert_eq!(
        client.get("/api/security/status").await.json()["request_count"],
        0
    );
    let page = client.get("/identify").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Identification is not available on this server")
    );
    assert_eq!(
        client.get("/readyz").await.status,
        200,
        "the rest keeps working"
    );
    server.wait_for_log_where("the missing model named with its fix", |l| {
        l.contains("cannot read the model file")
            && l.contains("WILDID_AI_MODEL_PATH")
            && l.contains("503")
    });

    // A damaged file (here a Git LFS pointer): the same.
    std::fs::write(&missing, b"version https://git-lfs.github.com/spec/v1\n").unwrap();
    let (server, _, answer) = with_model_file(&missing).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    server.wait_for_log("is not usable MobileNetV2 weights");
}

//! A person's data over HTTP, against the real server and its SQLite file (issue 15): an
//! account deleted by its person, from its page or the API, or by the operator from the shell,
//! leaves no row that refers to it and no byte of its photos in the database files; and the
//! person can download everything kept about them as one ZIP archive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Read};
use std::path::Path;

use serde_json::{Value, json};
use wildid_tests::accounts::{self, audit_entries, count, sign_in_by_link};
use wildid_tests::client::Client;
use wildid_tests::provider::FakeProvider;
use wildid_tests::server::{Server, ServerOptions, run_cli};

fn options(provider: &FakeProvider) -> ServerOptions {
    accounts::options()
        .env("WILDID_AI_PROVIDER", "test")
        .env("WILDID_AI_BASE_URL", provider.base_url())
        .env("WILDID_AI_MODEL", "test-vision")
        .env("WILDID_AI_API_KEY", "sk-test-data")
        .env("WILDID_RATE_LIMIT_THRESHOLD", "50")
}

/// A photo with a pattern of its own (`seed`), so its stored bytes can be looked for.
fn photo(seed: u8) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([
            (x as u8).wrapping_mul(seed),
            (y as u8).wrapping_add(seed),
            seed.wrapping_mul(31),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Keeps an identification of `photo(seed)` with a place; returns its id and stored photo.
async fn keep(client: &mut Client, seed: u8) -> (String, Vec<u8>) {
    let r = client
        .post_multipart(
            "/api/identify",
            &[
                ("image", &photo(seed)),
                ("latitude", b"-12.4634"),
                ("longitude", b"130.8456"),
                ("notes", b"Basking by the billabong"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let stored = client
        .get(&format!("/api/identifications/{id}/photo"))
        .await
        .bytes;
    (id, stored)
}

/// Whether any database file of `data_dir` (the database, its WAL) holds `needle`.
fn files_hold(data_dir: &Path, needle: &[u8]) -> bool {
    ["wildid.db", "wildid.db-wal", "wildid.db-shm"]
        .iter()
        .filter_map(|name| std::fs::read(data_dir.join(name)).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

/// Rows of `table` whose `column` is `id`.
fn rows_of(data_dir: &Path, table: &str, column: &str, id: &str) -> i64 {
    count(data_dir, &format!("{table} WHERE {column} = '{id}'"))
}

async fn user_id(client: &mut Client) -> String {
    client.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_deleted_account_leaves_no_row_and_no_photo_behind() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut gone = sign_in_by_link(&server, "leaving@example.org").await;
    let mut stays = sign_in_by_link(&server, "staying@example.org").await;
    let (first, first_photo) = keep(&mut gone, 3).await;
    let (_, second_photo) = keep(&mut gone, 5).await;
    let (_, kept_photo) = keep(&mut stays, 7).await;
    let r = gone
        .post_json(
            "/api/feedback",
            &json!({"identification_id": first, "correct": false, "corrected_species": "Crocodylus porosus"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let id = user_id(&mut gone).await;
    // A probe of 256 bytes from the middle of each stored photo.
    let probe = |bytes: &[u8]| bytes[bytes.len() / 2..bytes.len() / 2 + 256].to_vec();
    let data = &server.data_dir;
    assert!(
        files_hold(data, &probe(&kept_photo)),
        "the search finds stored photos"
    );

    let r = gone.delete("/api/account").await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(
        r.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the session cookie is cleared"
    );
    assert_eq!(gone.get("/api/auth/me").await.status, 401);

    for (table, column) in [
        ("users", "id"),
        ("sessions", "user_id"),
        ("login_tokens", "user_id"),
        ("recovery_codes", "user_id"),
        ("identifications", "owner"),
        ("sightings", "owner"),
        ("journal_usage", "user_id"),
    ] {
        assert_eq!(rows_of(data, table, column, &id), 0, "{table}");
    }
    assert_eq!(
        count(data, "identification_photos"),
        1,
        "only the other person's"
    );
    for photo in [&first_photo, &second_photo] {
        assert!(
            !files_hold(data, &probe(photo)),
            "a deleted photo is still in the files"
        );
    }
    assert!(files_hold(data, &probe(&kept_photo)));
    let staying = stays.get("/api/identifications").await.json();
    assert_eq!(staying["entries"].as_array().unwrap().len(), 1);

    let audit = audit_entries(data);
    let (_, details) = audit
        .iter()
        .find(|(action, _)| action == "account.deleted")
        .expect("the deletion is audited");
    let logged = serde_json::to_string(&audit).unwrap();
    assert!(!logged.contains("leaving@example.org"), "{logged}");
    assert_eq!(
        count(
            data,
            &format!("audit_log WHERE action = 'account.deleted' AND target = '{id}'")
        ),
        1,
        "the account's opaque id names what went"
    );
    assert!(details.to_string().contains("self"), "{details}");
}

#[tokio::test]
async fn the_account_page_asks_for_a_ticked_box_and_the_shell_for_yes() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut me = sign_in_by_link(&server, "tidy@example.org").await;
    keep(&mut me, 9).await;
    let page = me.get("/account").await;
    assert!(page.body.contains("Delete my account"));
    let r = me.post_form("/account/delete", &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Tick the box to confirm"), "{}", r.body);
    assert_eq!(
        count(&server.data_dir, "identifications"),
        1,
        "nothing was deleted"
    );
    let r = me.post_form("/account/delete", &[("confirm", "yes")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/"));
    let home = me.get("/").await;
    assert!(
        home.body.contains("Your account is deleted"),
        "{}",
        home.body
    );
    assert_eq!(count(&server.data_dir, "users"), 0);
    assert_eq!(count(&server.data_dir, "identifications"), 0);

    // The operator, from the shell: --yes or nothing happens.
    let mut other = sign_in_by_link(&server, "someone@example.org").await;
    keep(&mut other, 11).await;
    let (status, _, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "delete", "someone@example.org"],
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(count(&server.data_dir, "users"), 1);
    let (status, out, err) = run_cli(
        &server.data_dir,
        &[],
        &["users", "delete", "Someone@Example.org", "--yes"],
    );
    assert!(status.success(), "{out}{err}");
    assert_eq!(count(&server.data_dir, "users"), 0);
    assert_eq!(count(&server.data_dir, "identification_photos"), 0);
    assert_eq!(other.get("/api/auth/me").await.status, 401);
    let (status, _, _) = run_cli(
        &server.data_dir,
        &[],
        &["users", "delete", "someone@example.org", "--yes"],
    );
    assert_eq!(status.code(), Some(1), "no such account any more");
    let by: Vec<String> = audit_entries(&server.data_dir)
        .into_iter()
        .filter(|(action, _)| action == "account.deleted")
        .map(|(_, details)| details.to_string())
        .collect();
    assert_eq!(by.len(), 2);
    assert!(
        by[0].contains("self") && by[1].contains("operator"),
        "{by:?}"
    );
}

#[tokio::test]
async fn the_data_export_holds_the_account_the_journal_and_every_photo() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut me = sign_in_by_link(&server, "archivist@example.org").await;
    let (first, first_photo) = keep(&mut me, 13).await;
    let (second, second_photo) = keep(&mut me, 17).await;
    me.post_json(
        "/api/feedback",
        &json!({"identification_id": second, "correct": false, "corrected_species": "Varanus gouldii"}),
    )
    .await;
    let r = me.get("/account/export").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/zip"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let mut archive = zip::ZipArchive::new(Cursor::new(r.bytes)).unwrap();
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        archive
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} is in the archive"))
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    assert!(
        String::from_utf8(read("README.txt"))
            .unwrap()
            .contains("identifications.json")
    );
    let account: Value = serde_json::from_slice(&read("account.json")).unwrap();
    assert_eq!(account["email"], "archivist@example.org");
    assert_eq!(account["sessions"].as_array().unwrap().len(), 1);
    let entries: Value = serde_json::from_slice(&read("identifications.json")).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], second.as_str(), "newest first");
    assert_eq!(
        entries[0]["feedback"]["corrected_species"],
        "Varanus gouldii"
    );
    assert_eq!(
        entries[1]["sighting"]["latitude"], -12.4634,
        "true coordinates"
    );
    assert_eq!(entries[1]["sighting"]["notes"], "Basking by the billabong");
    assert_eq!(read(&format!("photos/{first}.jpg")), first_photo);
    assert_eq!(read(&format!("photos/{second}.jpg")), second_photo);

    // Someone else's export holds nothing of this person's.
    let mut other = sign_in_by_link(&server, "neighbour@example.org").await;
    let r = other.get("/account/export").await;
    let mut archive = zip::ZipArchive::new(Cursor::new(r.bytes)).unwrap();
    assert_eq!(archive.len(), 3, "README, account and an empty journal");
    let mut journal = String::new();
    archive
        .by_name("identifications.json")
        .unwrap()
        .read_to_string(&mut journal)
        .unwrap();
    assert_eq!(journal.trim(), "[]");
    // Signed out: sent to sign in.
    let r = Client::new(&server.url("")).get("/account/export").await;
    assert_eq!(r.status, 303);
}

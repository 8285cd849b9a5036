//! The field journal over HTTP, against the real server, a real provider server on loopback
//! and the server's own SQLite file (issue 15): a signed-in person's identification is kept
//! with its photo and sighting, listed a page at a time, given feedback, shared or hidden,
//! and deleted; nobody else (signed in or not) reaches any of it and always gets 404; bad
//! input is refused by name and changes nothing; a full journal costs no identification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use serde_json::{Value, json};
use wildid_tests::accounts::{self, audit_entries, count, sign_in_by_link};
use wildid_tests::client::{Answer, Client};
use wildid_tests::provider::FakeProvider;
use wildid_tests::server::{Server, ServerOptions};

/// A small PNG.
fn photo() -> Vec<u8> {
    wildid_tests::photos::small_png()
}

/// A photo of noise, large once re-encoded (about half a megabyte).
fn noisy_photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let pixels = image::RgbImage::from_fn(1024, 768, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    encode(pixels)
}

fn encode(pixels: image::RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Form fields: name and value.
type Fields<'a> = Vec<(&'a str, &'a [u8])>;

fn options(provider: &FakeProvider) -> ServerOptions {
    accounts::options()
        .env("WILDID_AI_PROVIDER", "test")
        .env("WILDID_AI_BASE_URL", provider.base_url())
        .env("WILDID_AI_MODEL", "test-vision")
        .env("WILDID_AI_API_KEY", "sk-test-journal")
        .env("WILDID_RATE_LIMIT_THRESHOLD", "50")
}

async fn identify(client: &mut Client, fields: &[(&str, &[u8])]) -> Answer {
    let photo = photo();
    let mut all: Vec<(&str, &[u8])> = vec![("image", &photo)];
    all.extend_from_slice(fields);
    client.post_multipart("/api/identify", &all).await
}

/// Identifies the test photo with a sighting; returns the entry's id.
async fn kept(client: &mut Client) -> String {
    let r = identify(
        client,
        &[
            ("latitude", b"-33.856784"),
            ("longitude", b"151.215297"),
            ("observed_at", b"2026-03-01T06:30:00+11:00"),
            ("notes", b"On the rock shelf\nat low tide <b>bold</b>"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["id"]
        .as_str()
        .expect("a kept entry's id")
        .to_owned()
}

#[tokio::test]
async fn an_identification_is_kept_listed_given_feedback_shared_and_deleted() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    // Anonymous answers are not kept.
    let mut anonymous = Client::new(&server.url(""));
    let r = identify(&mut anonymous, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], Value::Null);
    assert_eq!(count(&server.data_dir, "identifications"), 0);

    let mut me = sign_in_by_link(&server, "ranger@example.org").await;
    let id = kept(&mut me).await;
    let entry = me.get(&format!("/api/identifications/{id}")).await;
    assert_eq!(entry.status, 200, "{}", entry.body);
    let e = entry.json();
    assert_eq!(e["identification"]["common_name"], "Green sea turtle");
    assert_eq!(e["provider"], "test");
    assert_eq!(e["sighting"]["latitude"], -33.856784);
    assert_eq!(e["sighting"]["longitude"], 151.215297);
    assert_eq!(e["sighting"]["observed_at"], "2026-02-28T19:30:00+00:00");
    assert_eq!(
        e["sighting"]["notes"], "On the rock shelf\nat low tide <b>bold</b>",
        "kept as plain text (pages escape it)"
    );
    assert_eq!(
        e["sighting"]["visibility"], "private",
        "nothing shared by default"
    );
    assert_eq!(e["feedback"], Value::Null);
    let obscured = (
        e["sighting"]["obscured_latitude"].as_f64().unwrap(),
        e["sighting"]["obscured_longitude"].as_f64().unwrap(),
    );
    assert!((-34.0..-33.8).contains(&obscured.0) && (151.2..151.4).contains(&obscured.1));

    // The photo and thumbnail: re-encoded JPEGs, to their owner only, cached privately.
    for (path, most) in [("photo", 2048), ("thumbnail", 512)] {
        let r = me.get(&format!("/api/identifications/{id}/{path}")).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert_eq!(r.header("cache-control"), Some("private, max-age=3600"));
        let picture = image::load_from_memory(&r.bytes).unwrap();
        assert!(picture.width() <= most && picture.width() == 64, "{path}");
        assert_ne!(r.bytes, photo());
    }

    // Listed; feedback replaces feedback; the filter finds what was marked wrong.
    let list = me.get("/api/identifications").await.json();
    assert_eq!(list["entries"].as_array().unwrap().len(), 1);
    assert_eq!(list["next_cursor"], Value::Null);
    let wrong = json!({"identification_id": id, "correct": false,
        "corrected_species": "Caretta caretta", "notes": "The shell is reddish"});
    let r = me.post_json("/api/feedback", &wrong).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["feedback"]["corrected_species"], "Caretta caretta");
    let marked = me
        .get("/api/identifications?marked_wrong=true")
        .await
        .json();
    assert_eq!(marked["entries"].as_array().unwrap().len(), 1);
    let right = json!({"identification_id": id, "correct": true});
    let r = me.post_json("/api/feedback", &right).await;
    assert_eq!(r.json()["feedback"]["correct"], true);
    assert_eq!(r.json()["feedback"]["corrected_species"], Value::Null);
    let marked = me
        .get("/api/identifications?marked_wrong=true")
        .await
        .json();
    assert!(marked["entries"].as_array().unwrap().is_empty());
    let reptiles = me
        .get("/api/identifications?animal_type=REPTILE")
        .await
        .json();
    assert_eq!(reptiles["entries"].as_array().unwrap().len(), 1);

    let r = me
        .put_json(
            &format!("/api/identifications/{id}/visibility"),
            &json!({"visibility": "open"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["sighting"]["visibility"], "open");

    // Deleted with its photo; the audit log has the events, none of the texts.
    let r = me.delete(&format!("/api/identifications/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        me.get(&format!("/api/identifications/{id}")).await.status,
        404
    );
    assert_eq!(count(&server.data_dir, "identifications"), 0);
    assert_eq!(count(&server.data_dir, "identification_photos"), 0);
    let audit = audit_entries(&server.data_dir);
    let journal: Vec<&(String, Value)> = audit
        .iter()
        .filter(|(action, _)| action.starts_with("journal."))
        .collect();
    let actions: Vec<&str> = journal.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "journal.feedback.given",
            "journal.feedback.given",
            "journal.visibility.changed",
            "journal.entry.deleted"
        ]
    );
    let logged = serde_json::to_string(&journal).unwrap();
    assert!(
        !logged.contains("Caretta") && !logged.contains("reddish"),
        "{logged}"
    );
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

#[tokio::test]
async fn nobody_else_reaches_an_entry_and_every_answer_is_404() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut owner = sign_in_by_link(&server, "owner@example.org").await;
    let id = kept(&mut owner).await;
    let mut other = sign_in_by_link(&server, "other@example.org").await;
    let mut anonymous = Client::new(&server.url(""));
    let missing = "6f9619ff-8b86-4011-b42d-00c04fc964ff";
    for (who, client) in [("other", &mut other), ("anonymous", &mut anonymous)] {
        for entry in [id.as_str(), missing, "not-an-id"] {
            let mut answers = vec![
                client.get(&format!("/api/identifications/{entry}")).await,
                client
                    .get(&format!("/api/identifications/{entry}/photo"))
                    .await,
                client
                    .get(&format!("/api/identifications/{entry}/thumbnail"))
                    .await,
                client
                    .delete(&format!("/api/identifications/{entry}"))
                    .await,
                client
                    .put_json(
                        &format!("/api/identifications/{entry}/visibility"),
                        &json!({"visibility": "open"}),
                    )
                    .await,
                client
                    .post_json(
                        "/api/feedback",
                        &json!({"identification_id": entry, "correct": false}),
                    )
                    .await,
                client.get(&format!("/history/{entry}")).await,
            ];
            for form in ["feedback", "visibility", "delete"] {
                answers.push(
                    client
                        .post_form(
                            &format!("/history/{entry}/{form}"),
                            &[("verdict", "wrong"), ("visibility", "open")],
                        )
                        .await,
                );
            }
            for (n, r) in answers.iter().enumerate() {
                assert_eq!(r.status, 404, "{who}, {entry}, request {n}: {}", r.body);
                assert!(!r.body.contains("Green sea turtle"), "{who} {n}");
            }
        }
    }
    // The other person's journal is empty; the owner's is untouched.
    let theirs = other.get("/api/identifications").await.json();
    assert!(theirs["entries"].as_array().unwrap().is_empty());
    let mine = owner
        .get(&format!("/api/identifications/{id}"))
        .await
        .json();
    assert_eq!(mine["feedback"], Value::Null);
    assert_eq!(mine["sighting"]["visibility"], "private");
    // A signed-out visitor asking for the list is sent to sign in (the list is no entry).
    assert_eq!(anonymous.get("/api/identifications").await.status, 401);
    // The other person's tries at the owner's entry are audited as refusals (ASVS 16.3.2),
    // one per request that named it; the missing and malformed ids and the anonymous visitor
    // name nobody's entry, so nothing is recorded for them.
    let refused: Vec<Value> = audit_entries(&server.data_dir)
        .into_iter()
        .filter(|(action, _)| action == "access.refused")
        .map(|(_, details)| details)
        .collect();
    assert_eq!(refused.len(), 10, "{refused:?}");
    assert!(refused.iter().all(|d| d == &json!({"reason": "not_owner"})));
    let line = server.wait_for_log("access.refused");
    assert!(line.contains(&id), "{line}");
}

#[tokio::test]
async fn bad_input_is_refused_by_name_and_changes_nothing() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut me = sign_in_by_link(&server, "careful@example.org").await;
    let long_note = "n".repeat(2_001);
    let cases: Vec<(Fields<'_>, &str)> = vec![
        (vec![("latitude", b"91"), ("longitude", b"0")], "latitude"),
        (
            vec![("latitude", b"10"), ("longitude", b"-181")],
            "longitude",
        ),
        (
            vec![("latitude", b"north"), ("longitude", b"0")],
            "latitude",
        ),
        (
            vec![("latitude", b"10")],
            "both the latitude and the longitude",
        ),
        (vec![("observed_at", b"2999-01-01T00:00:00Z")], "future"),
        (vec![("observed_at", b"last tuesday")], "observed_at"),
        (vec![("notes", long_note.as_bytes())], "note is longer"),
    ];
    for (fields, named) in &cases {
        let r = identify(&mut me, fields).await;
        assert_eq!(r.status, 422, "{named}: {}", r.body);
        assert_eq!(r.error(), "invalid_sighting");
        assert!(
            r.json()["message"].as_str().unwrap().contains(named),
            "{}",
            r.body
        );
    }
    assert_eq!(provider.calls().len(), 0, "no provider was asked");
    let status = me.get("/api/security/status").await.json();
    assert_eq!(status["request_count"], 0, "nothing was counted");
    assert_eq!(count(&server.data_dir, "identifications"), 0);

    let id = kept(&mut me).await;
    let r = me
        .post_json("/api/feedback", &json!({"identification_id": id}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("correct"), "{}", r.body);
    let r = me
        .post_json(
            "/api/feedback",
            &json!({"identification_id": id, "correct": false, "notes": long_note}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (422, "invalid_feedback"));
    let r = me
        .put_json(
            &format!("/api/identifications/{id}/visibility"),
            &json!({"visibility": "everyone"}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (422, "invalid_visibility"));
    let entry = me.get(&format!("/api/identifications/{id}")).await.json();
    assert_eq!(entry["feedback"], Value::Null);
    assert_eq!(entry["sighting"]["visibility"], "private");
    // A form without a verdict is shown again with its message.
    let r = me
        .post_form(&format!("/history/{id}/feedback"), &[("notes", "hm")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Say whether the answer was right or wrong.")
    );

    // Cursors: a changed one, and another person's, are refused.
    kept(&mut me).await;
    let page = me.get("/api/identifications?limit=1").await.json();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let next = me
        .get(&format!("/api/identifications?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next.status, 200);
    assert_ne!(next.json()["entries"][0]["id"], page["entries"][0]["id"]);
    let mut changed = cursor.clone().into_bytes();
    changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    let r = me
        .get(&format!("/api/identifications?limit=1&cursor={changed}"))
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_cursor"));
    let mut other = sign_in_by_link(&server, "other@example.org").await;
    let r = other
        .get(&format!("/api/identifications?cursor={cursor}"))
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_cursor"));
    // The same on the page, while the owner's page after that cursor is kept by the server.
    let older = next.json()["entries"][0]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let mine = me.get(&format!("/history?cursor={cursor}")).await;
        assert_eq!(mine.status, 200);
        assert!(mine.body.contains(&format!("/history/{older}")));
    }
    let r = other.get(&format!("/history?cursor={cursor}")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.body.contains(&older), "{}", r.body);
    let r = me.get("/api/identifications?limit=1&colour=red").await;
    assert_eq!(r.status, 400, "{}", r.body);
}

/// Two people with the same history have journals at the same version: the page the server
/// keeps for one is never served to the other, with or without the first one's cursor.
#[tokio::test]
async fn a_kept_page_is_never_another_persons_even_at_the_same_journal_version() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut me = sign_in_by_link(&server, "avocet@example.org").await;
    let mut other = sign_in_by_link(&server, "stilt@example.org").await;
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..2 {
        mine.push(kept(&mut me).await);
        theirs.push(kept(&mut other).await);
    }
    let page = me.get("/api/identifications?limit=1").await.json();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    // My pages, made and kept (each asked twice).
    for _ in 0..2 {
        let first = me.get("/history").await;
        assert!(mine.iter().all(|id| first.body.contains(id.as_str())));
        let later = me.get(&format!("/history?cursor={cursor}")).await;
        assert_eq!(later.status, 200);
        assert!(later.body.contains(mine[0].as_str()));
    }
    // The other person sees their own entries, never mine.
    let first = other.get("/history").await;
    assert_eq!(first.status, 200);
    assert!(theirs.iter().all(|id| first.body.contains(id.as_str())));
    assert!(
        mine.iter().all(|id| !first.body.contains(id.as_str())),
        "{}",
        first.body
    );
    let r = other.get(&format!("/history?cursor={cursor}")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(mine.iter().all(|id| !r.body.contains(id.as_str())));
}

#[tokio::test]
async fn a_full_journal_refuses_before_anything_is_counted_or_asked() {
    let provider = FakeProvider::start();
    let server = Server::start_with(
        options(&provider)
            .env("WILDID_JOURNAL_PHOTO_MAX_BYTES", (1024 * 1024).to_string())
            .env("WILDID_JOURNAL_ALLOWANCE_BYTES", (1024 * 1024).to_string()),
    )
    .unwrap();
    let mut me = sign_in_by_link(&server, "collector@example.org").await;
    let first = noisy_photo(1);
    let r = me
        .post_multipart("/api/identify", &[("image", &first)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let calls = provider.calls().len();
    let second = noisy_photo(2);
    let r = me
        .post_multipart("/api/identify", &[("image", &second)])
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (409, "journal_full"),
        "{}",
        r.body
    );
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("Delete entries")
    );
    assert_eq!(provider.calls().len(), calls, "no provider was asked");
    let status = me.get("/api/security/status").await.json();
    assert_eq!(status["request_count"], 1, "the refusal was not counted");
    assert_eq!(count(&server.data_dir, "identifications"), 1);
}

#[tokio::test]
async fn the_pages_show_the_journal_and_take_feedback_and_deletion() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut me = sign_in_by_link(&server, "walker@example.org").await;
    let empty = me.get("/history").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("Your journal is empty"));
    // The identify page offers the sighting fields and links the kept entry.
    let form = me.get("/identify").await;
    assert!(form.body.contains(r#"name="latitude""#));
    let photo = photo();
    let r = me
        .post_upload_form(
            "/identify",
            &[
                ("image", &photo),
                ("latitude", b"51.5"),
                ("longitude", b"-0.12"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r
        .body
        .split("href=\"/history/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the kept entry")
        .to_owned();
    let list = me.get("/history").await;
    assert!(list.body.contains("Green sea turtle"));
    // The kept list of entries is included as the markup it is, not escaped a second time.
    assert!(
        list.body
            .contains(&format!(r#"<a class="journal-link" href="/history/{id}">"#)),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains(&format!("/api/identifications/{id}/thumbnail"))
    );
    let page = me.get(&format!("/history/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("51.50000, -0.12000"));
    assert!(page.body.contains("Was this answer right?"));
    let r = me
        .post_form(
            &format!("/history/{id}/feedback"),
            &[
                ("verdict", "wrong"),
                ("corrected_species", "Caretta caretta"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = me.get(&format!("/history/{id}")).await;
    assert!(page.body.contains("You marked it wrong"));
    assert!(page.body.contains("Thank you: your feedback is saved."));
    let wrong = me.get("/history?wrong=1").await;
    assert!(wrong.body.contains("Marked wrong"));
    // The page seen before the feedback is not served again: the journal moved on.
    let list = me.get("/history").await;
    assert!(list.body.contains("Marked wrong"), "{}", list.body);
    let r = me
        .post_form(
            &format!("/history/{id}/visibility"),
            &[("visibility", "obscured")],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = me.post_form(&format!("/history/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/history"));
    let list = me.get("/history").await;
    assert!(
        list.body
            .contains("The identification and its photo are deleted.")
    );
    assert!(list.body.contains("Your journal is empty"));
    // Signed out, the journal page sends people to sign in.
    let mut anonymous = Client::new(&server.url(""));
    let r = anonymous.get("/history").await;
    assert_eq!(r.status, 303);
}

/// The true coordinates of a sighting that must be obscured appear in no public answer, in any
/// of the ways they could be written; the public point is the stored one, the same every time.
#[tokio::test]
async fn the_true_place_of_an_obscured_sighting_never_leaves_the_server_to_others() {
    let provider = FakeProvider::start();
    let server = Server::start_with(options(&provider)).unwrap();
    let mut owner = sign_in_by_link(&server, "finder@example.org").await;
    // The provider names a green sea turtle: Endangered, so obscured even when shared openly.
    let id = kept(&mut owner).await;
    let entry = owner
        .get(&format!("/api/identifications/{id}"))
        .await
        .json();
    let shown = (
        entry["sighting"]["obscured_latitude"].as_f64().unwrap(),
        entry["sighting"]["obscured_longitude"].as_f64().unwrap(),
    );
    let world = "/api/sightings?south=-90&west=-180&north=90&east=180";
    let mut anonymous = Client::new(&server.url(""));
    assert!(
        anonymous.get(world).await.json()["sightings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "private until shared"
    );
    let r = owner
        .put_json(
            &format!("/api/identifications/{id}/visibility"),
            &json!({"visibility": "open"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let mut other = sign_in_by_link(&server, "curious@example.org").await;
    let near = "/api/sightings?south=-33.857&west=151.215&north=-33.856&east=151.216";
    let mut public = Vec::new();
    for client in [&mut anonymous, &mut other] {
        for path in [world, near, "/map", "/api/sightings/mine", "/history/map"] {
            public.push(client.get(path).await.body);
        }
    }
    let true_forms = [
        "-33.856784",
        "-33.85678",
        "-33.8568",
        "151.215297",
        "151.2153",
        "151.21530",
    ];
    for body in &public {
        for form in true_forms {
            assert!(!body.contains(form), "{form} leaked in: {body}");
        }
    }
    for _ in 0..3 {
        let seen = anonymous.get(world).await.json();
        let s = &seen["sightings"][0];
        assert_eq!(s["obscured"], true);
        assert_eq!(
            (
                s["latitude"].as_f64().unwrap(),
                s["longitude"].as_f64().unwrap()
            ),
            shown,
            "the same stored point every time"
        );
        assert!(s.get("id").is_none() && s.get("notes").is_none(), "{s}");
    }
    let nearby = anonymous.get(near).await.json();
    assert!(
        nearby["sightings"].as_array().unwrap().is_empty(),
        "not at its true place"
    );
    // The owner's own map has the true place.
    let mine = owner.get("/api/sightings/mine").await.json();
    assert_eq!(mine["sightings"][0]["latitude"], -33.856784);
    // Areas are checked.
    let r = anonymous
        .get("/api/sightings?south=10&west=0&north=-10&east=1")
        .await;
    assert_eq!((r.status, r.error().as_str()), (422, "invalid_area"));
    let r = anonymous.get("/api/sightings?south=10").await;
    assert_eq!(r.status, 400);
}

//! Black-box tests of field visits through the real server: admins set up sites and kinds of
//! visit, visitors book and cancel, workers claim, check in and complete, and every rule of the
//! role matrix and of a booking's life holds with clear refusals that change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{Value, json};
use wildid_tests::accounts::{
    assert_audited, audit_entries, count, lines, options, sign_in_by_link, sqlite,
    staff_with_secret, staff_with_totp,
};
use wildid_tests::client::Client;
use wildid_tests::server::{Server, run_cli};

/// The first quarter hour at least `ahead` from now (what a booking may start on).
pub(crate) fn quarter_after(ahead: TimeDelta) -> DateTime<Utc> {
    let t = Utc::now() + ahead + TimeDelta::minutes(15);
    t.duration_trunc(TimeDelta::minutes(15)).unwrap()
}

async fn created(client: &mut Client, path: &str, body: Value) -> Value {
    let r = client.post_json(path, &body).await;
    assert_eq!(r.status, 201, "{path}: {}", r.body);
    r.json()
}

/// A site and a 90-minute walk with `capacity` places, added by `admin`; their ids.
pub(crate) async fn catalogue(admin: &mut Client, capacity: u32) -> (String, String) {
    let site = created(
        admin,
        "/api/admin/sites",
        json!({"name": "Mangrove <b>Marsh</b>", "description": "Boardwalk from the car park.",
               "south": -33.9, "west": 151.1, "north": -33.8, "east": 151.3}),
    )
    .await;
    assert_eq!(site["name"], "Mangrove Marsh", "markup is removed");
    let walk = created(
        admin,
        "/api/admin/services",
        json!({"name": "Dawn chorus walk", "duration_minutes": 90, "capacity": capacity}),
    )
    .await;
    (
        site["id"].as_str().unwrap().to_owned(),
        walk["id"].as_str().unwrap().to_owned(),
    )
}

/// Panics if the database files hold `token` (hex, either case, or its raw bytes).
fn assert_no_token_in_database(server: &Server, token: &str) {
    let raw: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&token[i * 2..i * 2 + 2], 16).unwrap())
        .collect();
    let needles = [
        token.as_bytes().to_vec(),
        token.to_uppercase().into_bytes(),
        raw,
    ];
    let mut read = 0;
    for file in ["wildid.db", "wildid.db-wal"] {
        let Ok(bytes) = std::fs::read(server.data_dir.join(file)) else {
            continue;
        };
        read += bytes.len();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{file} holds the visit token"
            );
        }
    }
    assert!(read > 0, "no database file was read");
}

fn booking(site: &str, service: &str, start: DateTime<Utc>) -> Value {
    json!({"site_id": site, "service_id": service, "starts_at": start.to_rfc3339(),
           "description": "Two of us, one with a walking stick."})
}

#[tokio::test]
async fn a_visit_from_booking_to_completion_with_every_role_rule() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let mut ranger = staff_with_totp(&server, "ranger@example.org", "worker").await;
    let mut guide = staff_with_totp(&server, "guide@example.org", "worker").await;
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;
    let mut other = sign_in_by_link(&server, "other@example.org").await;
    let (site, walk) = catalogue(&mut admin, 10).await;

    // Visitors see the catalogue but cannot change it.
    let r = Client::new(&server.url("")).get("/api/sites").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["id"], site.as_str());
    let r = visitor
        .post_json(
            "/api/admin/sites",
            &json!({"name": "Mine", "south": 0, "west": 0, "north": 1, "east": 1}),
        )
        .await;
    assert_eq!(r.status, 403);

    let start = quarter_after(TimeDelta::minutes(1));
    let r = visitor
        .post_json("/api/bookings", &booking(&site, &walk, start))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let booked = r.json();
    let id = booked["id"].as_str().unwrap().to_owned();
    assert_eq!(booked["status"], "requested");
    assert_eq!(booked["worker_id"], Value::Null);
    let r = visitor
        .post_json("/api/bookings", &booking(&site, &walk, start))
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (409, "already_booked"),
        "{}",
        r.body
    );
    assert_eq!(count(&server.data_dir, "bookings"), 1);

    // Nobody else sees it; a visitor cannot claim.
    assert_eq!(other.get(&format!("/api/bookings/{id}")).await.status, 404);
    let r = other
        .post_json(&format!("/api/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status, 404);
    let claim = format!("/api/worker/bookings/{id}/claim");
    assert_eq!(visitor.post_json(&claim, &json!({})).await.status, 403);
    assert_eq!(visitor.get("/api/worker/bookings").await.status, 403);

    // The queue shows it; one worker claims it, the other cannot.
    let queue = ranger.get("/api/worker/bookings").await.json();
    assert_eq!(queue["open"][0]["id"], id.as_str());
    let r = ranger.post_json(&claim, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = guide.post_json(&claim, &json!({})).await;
    assert_eq!((r.status, r.error().as_str()), (409, "wrong_booking_state"));
    // The visitor's token: theirs alone, never in the database in clear.
    let token_path = format!("/api/bookings/{id}/token");
    assert_eq!(other.get(&token_path).await.status, 404);
    let token = visitor.get(&token_path).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 32);
    assert_no_token_in_database(&server, &token);

    let check_in = format!("/api/worker/bookings/{id}/check-in");
    let r = guide.post_json(&check_in, &json!({"token": token})).await;
    assert_eq!((r.status, r.error().as_str()), (403, "claimed_by_another"));
    let mut wrong = token.clone().into_bytes();
    wrong[31] = if wrong[31] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    for (presented, code) in [
        ("not a token", "invalid_token"),
        (wrong.as_str(), "wrong_token"),
    ] {
        let r = ranger
            .post_json(&check_in, &json!({"token": presented}))
            .await;
        assert_eq!((r.status, r.error().as_str()), (422, code), "{presented}");
    }
    assert_eq!(
        visitor.get(&format!("/api/bookings/{id}")).await.json()["status"],
        "claimed",
        "a refused check-in changes nothing"
    );
    // Typed from the screen: in groups, in capitals.
    let typed = token
        .to_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let r = ranger.post_json(&check_in, &json!({"token": typed})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "checked_in");
    assert_eq!(
        visitor.get(&token_path).await.json()["token"],
        Value::Null,
        "the check-in spends the token"
    );
    // Who was there is kept for exposure notifications, with the visitor only encrypted and
    // the token only digested: still no token in the database, and no visitor id beside it.
    assert_eq!(count(&server.data_dir, "visit_mappings"), 1);
    let visitor_id = visitor.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clear = format!(
        "visit_mappings WHERE instr(sealed_visitor, '{visitor_id}') > 0 \
         OR instr(lower(hex(token_digest)), '{token}') > 0"
    );
    assert_eq!(count(&server.data_dir, &clear), 0);
    assert_no_token_in_database(&server, &token);
    let complete = format!("/api/worker/bookings/{id}/complete");
    let r = guide.post_json(&complete, &json!({})).await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (403, "claimed_by_another"),
        "only the claimer completes"
    );

    // An admin hands it to the guide, who completes it.
    let guide_id = guide.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reassign = format!("/api/admin/bookings/{id}/reassign");
    let r = admin
        .post_json(&reassign, &json!({"worker_id": visitor_id}))
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (422, "assignee_not_a_worker")
    );
    // The admins' page lists the visit with its holder and hands it over by form.
    let page = admin.get("/admin/visits").await;
    assert!(
        page.body.contains("Visitor checked in") && page.body.contains("by ranger@example.org"),
        "{}",
        page.body
    );
    let hand_over = format!("/admin/visits/bookings/{id}/reassign");
    let r = admin
        .post_form(&hand_over, &[("worker_id", visitor_id.as_str())])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get("/admin/visits").await;
    assert!(
        page.body.contains("by ranger@example.org"),
        "a refused hand-over changes nothing"
    );
    let r = admin
        .post_form(&hand_over, &[("worker_id", guide_id.as_str())])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get("/admin/visits").await;
    assert!(
        page.body.contains("is handed over") && page.body.contains("by guide@example.org"),
        "{}",
        page.body
    );
    let r = guide.post_json(&complete, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mine = visitor.get("/api/bookings").await.json();
    assert_eq!(mine[0]["status"], "completed");
    assert_eq!(
        mine[0]["worker_id"],
        Value::Null,
        "visitors are not shown staff ids"
    );
    let r = visitor
        .post_json(&format!("/api/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!((r.status, r.error().as_str()), (409, "wrong_booking_state"));

    // A later visit is cancelled by its visitor and gives its place back.
    let tomorrow = quarter_after(TimeDelta::days(1));
    let later = visitor
        .post_json("/api/bookings", &booking(&site, &walk, tomorrow))
        .await
        .json();
    let cancel = format!("/api/bookings/{}/cancel", later["id"].as_str().unwrap());
    let r = visitor.post_json(&cancel, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "cancelled");
    assert_eq!(
        count(
            &server.data_dir,
            "visit_slots WHERE taken = 0 AND starts_at > datetime('now', '+12 hours')"
        ),
        1
    );

    assert_audited(
        &server.data_dir,
        &[
            "visits.site.added",
            "visits.service.added",
            "visits.booking.made",
            "visits.booking.claimed",
            "visits.booking.checked_in",
            "visits.booking.reassigned",
            "visits.booking.completed",
            "visits.booking.cancelled",
        ],
    );
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

#[tokio::test]
async fn bad_requests_are_refused_by_name_and_change_nothing() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;
    let (site, walk) = catalogue(&mut admin, 10).await;

    for (body, status, code) in [
        (
            json!({"name": "Inverted", "south": 10, "west": 0, "north": 5, "east": 1}),
            422,
            "invalid_area",
        ),
        (
            json!({"name": "  ", "south": 0, "west": 0, "north": 1, "east": 1}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": "MANGROVE marsh", "south": 0, "west": 0, "north": 1, "east": 1}),
            409,
            "name_taken",
        ),
    ] {
        let r = admin.post_json("/api/admin/sites", &body).await;
        assert_eq!((r.status, r.error().as_str()), (status, code), "{body}");
    }
    let r = admin
        .post_json(
            "/api/admin/services",
            &json!({"name": "Odd", "duration_minutes": 20, "capacity": 5}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (422, "invalid_duration"));
    assert_eq!(count(&server.data_dir, "sites"), 1);
    assert_eq!(count(&server.data_dir, "service_types"), 1);

    let soon = quarter_after(TimeDelta::hours(2));
    let past = Utc::now().duration_trunc(TimeDelta::minutes(15)).unwrap() - TimeDelta::hours(1);
    let cases = [
        (booking(&site, &walk, past), 422, "invalid_time"),
        (
            booking(&site, &walk, soon + TimeDelta::minutes(5)),
            422,
            "invalid_time",
        ),
        (
            booking(&site, &walk, soon + TimeDelta::days(400)),
            422,
            "invalid_time",
        ),
        (
            json!({"site_id": "nowhere", "service_id": walk, "starts_at": soon.to_rfc3339()}),
            422,
            "unknown_site",
        ),
        (
            json!({"site_id": site, "service_id": walk, "starts_at": "next tuesday"}),
            422,
            "invalid_time",
        ),
        (
            json!({"site_id": site, "service_id": walk, "starts_at": soon.to_rfc3339(),
                   "description": "x".repeat(2_001)}),
            422,
            "invalid_description",
        ),
    ];
    for (body, status, code) in cases {
        let r = visitor.post_json("/api/bookings", &body).await;
        assert_eq!(
            (r.status, r.error().as_str()),
            (status, code),
            "{body}: {}",
            r.body
        );
    }

    // A closed site takes no booking.
    let r = admin
        .put_json(
            &format!("/api/admin/sites/{site}"),
            &json!({"name": "Mangrove Marsh", "south": -33.9, "west": 151.1, "north": -33.8,
                    "east": 151.3, "active": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = visitor
        .post_json("/api/bookings", &booking(&site, &walk, soon))
        .await;
    assert_eq!((r.status, r.error().as_str()), (409, "site_closed"));
    assert_eq!(
        Client::new(&server.url(""))
            .get("/api/sites")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0,
        "closed sites are not offered"
    );
    assert_eq!(count(&server.data_dir, "bookings"), 0);
    assert_eq!(
        visitor
            .post_json("/api/worker/bookings/nonsense/claim", &json!({}))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn concurrent_visitors_never_take_more_places_than_a_visit_has() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let (site, walk) = catalogue(&mut admin, 2).await;
    let mut visitors = Vec::new();
    for n in 0..6 {
        visitors.push(sign_in_by_link(&server, &format!("walker{n}@example.org")).await);
    }
    let start = quarter_after(TimeDelta::days(2));
    let body = booking(&site, &walk, start);
    let tasks: Vec<_> = visitors
        .into_iter()
        .map(|mut visitor| {
            let body = body.clone();
            tokio::spawn(async move {
                let r = visitor.post_json("/api/bookings", &body).await;
                (r.status, r.error())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let booked = answers.iter().filter(|(s, _)| *s == 201).count();
    let full = answers
        .iter()
        .filter(|(s, e)| *s == 409 && e == "fully_booked")
        .count();
    assert_eq!((booked, full), (2, 4), "{answers:?}");
    assert_eq!(count(&server.data_dir, "bookings"), 2);
}

/// Books `start` for `visitor` and returns the booking's id and visit token.
pub(crate) async fn booked_with_token(
    visitor: &mut Client,
    site: &str,
    walk: &str,
    start: DateTime<Utc>,
) -> (String, String) {
    let r = visitor
        .post_json("/api/bookings", &booking(site, walk, start))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let token = visitor
        .get(&format!("/api/bookings/{id}/token"))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

#[tokio::test]
async fn an_exposure_reaches_everyone_checked_in_then_once_and_nobody_else() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let mut ranger = staff_with_totp(&server, "ranger@example.org", "worker").await;
    let (site, walk) = catalogue(&mut admin, 10).await;
    let mut ana = sign_in_by_link(&server, "ana@example.org").await;
    let mut ben = sign_in_by_link(&server, "ben@example.org").await;
    let mut carl = sign_in_by_link(&server, "carl@example.org").await;
    let soon = quarter_after(TimeDelta::minutes(1));
    let mut checked_in = Vec::new();
    for visitor in [&mut ana, &mut ben] {
        let (id, token) = booked_with_token(visitor, &site, &walk, soon).await;
        let claim = format!("/api/worker/bookings/{id}/claim");
        assert_eq!(ranger.post_json(&claim, &json!({})).await.status, 200);
        let check_in = format!("/api/worker/bookings/{id}/check-in");
        let r = ranger.post_json(&check_in, &json!({"token": token})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        checked_in.push(id);
    }
    // Carl booked the same visit but never came.
    booked_with_token(&mut carl, &site, &walk, soon).await;

    let from = Utc::now() - TimeDelta::hours(2);
    let report = |to: DateTime<Utc>, note: &str| json!({"site_id": site, "from": from.to_rfc3339(), "to": to.to_rfc3339(), "note": note});
    assert_eq!(
        ana.post_json("/api/exposures", &report(Utc::now(), "x"))
            .await
            .status,
        403,
        "visitors cannot report"
    );
    for (body, code) in [
        (
            report(Utc::now() + TimeDelta::hours(1), "Gull"),
            "invalid_window",
        ),
        (report(from - TimeDelta::hours(1), "Gull"), "invalid_window"),
        (report(Utc::now(), "  "), "invalid_note"),
        (
            json!({"site_id": "nowhere", "from": from.to_rfc3339(), "to": Utc::now().to_rfc3339(), "note": "Gull"}),
            "unknown_site",
        ),
    ] {
        let r = ranger.post_json("/api/exposures", &body).await;
        assert_eq!((r.status, r.error().as_str()), (422, code), "{body}");
    }
    assert_eq!(count(&server.data_dir, "exposure_reports"), 0);

    let r = ranger
        .post_json(
            "/api/exposures",
            &report(
                Utc::now(),
                "Avian influenza confirmed in a dead gull by the boardwalk.",
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["notified"], 2);

    for visitor in [&mut ana, &mut ben] {
        let mine = visitor.get("/api/notifications").await.json();
        assert_eq!(mine["unread"], 1);
        let message = mine["notifications"][0]["message"].as_str().unwrap();
        assert!(message.contains("Mangrove Marsh") && message.contains("Avian influenza"));
        assert!(!message.contains("@example.org"), "nobody is named");
    }
    assert_eq!(carl.get("/api/notifications").await.json()["unread"], 0);

    let id = ana.get("/api/notifications").await.json()["notifications"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = format!("/api/notifications/{id}/read");
    assert_eq!(ben.post_json(&read, &json!({})).await.status, 404);
    assert_eq!(ana.post_json(&read, &json!({})).await.status, 204);
    assert_eq!(ana.get("/api/notifications").await.json()["unread"], 0);
    assert_eq!(ben.get("/api/notifications").await.json()["unread"], 1);

    // The page shows it too, with the badge in the navigation.
    let page = ben.get("/notifications").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Avian influenza"));
    assert!(page.body.contains("nav-badge"));
    // The badge follows the person to every page, and only while something is unread.
    for path in ["/", "/identify", "/history", "/account"] {
        let page = ben.get(path).await;
        assert!(
            page.body.contains(r#"class="nav-badge""#),
            "{path} shows no badge"
        );
        let page = ana.get(path).await;
        assert!(
            !page.body.contains(r#"class="nav-badge""#),
            "{path} shows a badge with nothing unread"
        );
    }

    let entries = audit_entries(&server.data_dir);
    let (_, details) = entries
        .iter()
        .find(|(action, _)| action == "visits.exposure.reported")
        .unwrap();
    assert_eq!(details["notified"], "2");
    let logged = details.to_string();
    for visitor in [&mut ana, &mut ben] {
        let me = visitor.get("/api/auth/me").await.json()["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!logged.contains(&me), "the audit names nobody told");
    }
    // Every entry a request stored is also a line of the log stream (ASVS 16.4.3).
    wildid_tests::accounts::assert_every_entry_logged(&server);
}

#[tokio::test]
async fn visit_data_past_its_retention_is_purged_by_shell_or_admin_once_at_a_time_and_audited() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let mut ranger = staff_with_totp(&server, "ranger@example.org", "worker").await;
    let (site, walk) = catalogue(&mut admin, 10).await;
    let mut visitor = sign_in_by_link(&server, "walker@example.org").await;
    let (old, token) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::minutes(1)),
    )
    .await;
    let claim = format!("/api/worker/bookings/{old}/claim");
    assert_eq!(ranger.post_json(&claim, &json!({})).await.status, 200);
    let check_in = format!("/api/worker/bookings/{old}/check-in");
    let r = ranger.post_json(&check_in, &json!({"token": token})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (later, _) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::days(1)),
    )
    .await;

    let (status, out, err) = run_cli(&server.data_dir, &[], &["purge"]);
    assert!(status.success(), "{out}{err}");
    assert!(
        out.contains("deleted 0 visit mapping(s), 0 booking(s)"),
        "{out}"
    );

    // The checked-in visit is made an hour ago and its record 15 days old: an exposure in the
    // last two hours still finds the visitor, until the purge.
    let at = |ago: TimeDelta| (Utc::now() - ago).format("%Y-%m-%d %H:%M:%S").to_string();
    sqlite(
        &server.data_dir,
        &format!(
            "UPDATE visit_mappings SET created_at = '2000-01-01 00:00:00', visit_start = '{}', visit_end = '{}'; \
             UPDATE bookings SET starts_at = '2000-01-01 00:00:00' WHERE id = '{old}';",
            at(TimeDelta::minutes(90)),
            at(TimeDelta::minutes(60)),
        ),
    );
    let from = (Utc::now() - TimeDelta::hours(2)).to_rfc3339();
    let exposure = json!({"site_id": site, "from": from, "to": Utc::now().to_rfc3339(), "note": "Chytrid fungus in the pond."});
    let r = ranger.post_json("/api/exposures", &exposure).await;
    assert_eq!((r.status, r.json()["notified"].clone()), (201, json!(1)));

    // The admins' page shows what waits for the next purge.
    let page = admin.get("/admin/visits").await;
    assert!(
        page.body.contains(
            "Waiting for the next purge:\n    1 visit record(s), 1 booking(s) and 0 read notification(s)."
        ),
        "{}",
        page.body
    );

    // Workers may not purge; the seed's page route and the JSON route are the admins'.
    assert_eq!(
        ranger
            .post_json("/api/admin/cleanup", &json!({}))
            .await
            .status,
        403
    );
    let r = admin.post_json("/api/admin/cleanup", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            &r.json()["visit_mappings"],
            &r.json()["bookings"],
            &r.json()["visit_retention_days"]
        ),
        (&json!(1), &json!(1), &json!(14))
    );
    assert_eq!(count(&server.data_dir, "visit_mappings"), 0);
    let page = admin.get("/admin/visits").await;
    assert!(page.body.contains("Nothing is waiting to be purged."));
    // When the last purge finished (the one just asked for; its minute, give or take one).
    let finished = |at: chrono::DateTime<Utc>| {
        format!(
            "The last purge finished on {}.",
            at.format("%-d %B %Y at %H:%M UTC")
        )
    };
    let now = Utc::now();
    assert!(
        [now, now - TimeDelta::minutes(1)]
            .into_iter()
            .any(|at| page.body.contains(&finished(at))),
        "{}",
        page.body
    );
    assert_eq!(
        visitor.get(&format!("/api/bookings/{old}")).await.status,
        404
    );
    assert_eq!(
        visitor.get(&format!("/api/bookings/{later}")).await.status,
        200
    );
    let exposure = json!({"site_id": site, "from": from, "to": Utc::now().to_rfc3339(), "note": "More chytrid fungus."});
    let r = ranger.post_json("/api/exposures", &exposure).await;
    assert_eq!(
        (r.status, r.json()["notified"].clone()),
        (201, json!(0)),
        "after the purge an old window finds nobody"
    );
    let purges: Vec<_> = audit_entries(&server.data_dir)
        .into_iter()
        .filter(|(action, _)| action == "retention.purged")
        .map(|(_, details)| {
            (
                details["visit_mappings"].clone(),
                details["bookings"].clone(),
            )
        })
        .collect();
    assert_eq!(
        purges,
        [(json!("0"), json!("0")), (json!("1"), json!("1"))],
        "both purges someone asked for are audited, the empty one too"
    );
    // Where an admin's purge came from (ASVS 16.2.1): the request and the coarse network.
    assert_eq!(
        lines(
            &server.data_dir,
            "SELECT coalesce(client_network, 'none') || ' ' || (request_id IS NOT NULL) AS line \
             FROM audit_log WHERE action = 'retention.purged' AND actor LIKE 'user:%'"
        ),
        ["127.0.0.0/24 1"],
        "the admin's purge records where it came from"
    );
    // The server's own audit events reach its log stream too, one structured line each.
    let line = server.wait_for_log("retention.purged");
    assert!(
        line.contains("audit event") && line.contains("visit_mappings"),
        "{line}"
    );
    assert_eq!(
        count(
            &server.data_dir,
            "job_leases WHERE job = 'retention' AND finished_at IS NOT NULL AND leased_until IS NULL"
        ),
        1
    );

    // Another server process holds the purge's lease: neither the shell nor an admin purges
    // beside it, and each says why.
    sqlite(
        &server.data_dir,
        "UPDATE job_leases SET holder = 'pid-1-other', leased_until = '2999-01-01 00:00:00' WHERE job = 'retention';",
    );
    let (status, out, err) = run_cli(&server.data_dir, &[], &["purge"]);
    assert_eq!(status.code(), Some(3), "{out}{err}");
    assert!(err.contains("a server process is purging now"), "{err}");
    let r = admin.post_json("/api/admin/cleanup", &json!({})).await;
    assert_eq!((r.status, r.error()), (409, "purge_running".to_owned()));
    let page = admin.post_form("/admin/cleanup", &[]).await;
    assert_eq!(page.status, 303);
    let page = admin.get("/admin/visits").await;
    assert!(
        page.body
            .contains("Another server is purging old visit data right now"),
        "{}",
        page.body
    );
}

/// A visitor checked in at one visit (a visit mapping) and booked for another (a visit token
/// waiting to be shown), on a server started with `envs`; the visitor's id and both tokens.
async fn a_visitor_with_both_kinds_of_token(
    server: &Server,
    envs: &[(&str, &str)],
) -> (String, Vec<String>) {
    let (mut admin, _) = staff_with_secret(server, envs, "chief@example.org", "admin").await;
    let (mut ranger, _) = staff_with_secret(server, envs, "ranger@example.org", "worker").await;
    let (site, walk) = catalogue(&mut admin, 10).await;
    let mut visitor = sign_in_by_link(server, "walker@example.org").await;
    let (now, spent) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::minutes(1)),
    )
    .await;
    let claim = format!("/api/worker/bookings/{now}/claim");
    assert_eq!(ranger.post_json(&claim, &json!({})).await.status, 200);
    let check_in = format!("/api/worker/bookings/{now}/check-in");
    let r = ranger.post_json(&check_in, &json!({"token": spent})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, waiting) = booked_with_token(
        &mut visitor,
        &site,
        &walk,
        quarter_after(TimeDelta::days(3)),
    )
    .await;
    let id = visitor.get("/api/auth/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, vec![spent, waiting])
}

/// Panics if `rows` (the token-bearing tables, as text) name the visitor by id or by address
/// digest, or hold a token in clear.
fn assert_nobody_beside_tokens(rows: &str, visitor: &str, lookup_hex: &str, tokens: &[String]) {
    assert!(
        !rows.contains(visitor),
        "a visitor id beside a token: {rows}"
    );
    assert!(
        !rows.to_lowercase().contains(lookup_hex),
        "an address digest beside a token: {rows}"
    );
    for token in tokens {
        assert!(
            !rows.to_lowercase().contains(token),
            "a token in clear: {rows}"
        );
    }
}

#[tokio::test]
async fn a_copy_of_the_sqlite_file_links_no_visit_token_to_anyone() {
    let server = Server::start_with(options()).unwrap();
    let (visitor, tokens) = a_visitor_with_both_kinds_of_token(&server, &[]).await;
    let lookup = lines(
        &server.data_dir,
        &format!("SELECT lower(hex(email_lookup)) AS line FROM users WHERE id = '{visitor}'"),
    )
    .remove(0);
    let mut rows = lines(
        &server.data_dir,
        "SELECT lower(hex(token_digest)) || '|' || sealed_visitor || '|' || site_id || '|' \
         || visit_start || '|' || visit_end || '|' || created_at AS line FROM visit_mappings",
    );
    rows.extend(lines(
        &server.data_dir,
        "SELECT booking_id || '|' || sealed AS line FROM visit_tokens",
    ));
    assert_eq!(rows.len(), 2, "one mapping, one waiting token: {rows:?}");
    assert_nobody_beside_tokens(&rows.join("\n"), &visitor, &lookup, &tokens);
    for token in &tokens {
        assert_no_token_in_database(&server, token);
    }
}

#[tokio::test]
async fn a_postgres_dump_links_no_visit_token_to_anyone() {
    let Some(url) = wildid_tests::db::fresh_postgres_url().await else {
        return;
    };
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!()
    };
    let raw = raw.expose().to_owned();
    let envs = [("DATABASE_URL", raw.as_str())];
    let server = Server::start_with(options().env("DATABASE_URL", raw.clone())).unwrap();
    let (visitor, tokens) = a_visitor_with_both_kinds_of_token(&server, &envs).await;
    let (status, _) = server.stop();
    assert!(status.success());
    let dump = wildid_tests::pg::dump(&raw).unwrap();
    // COPY sections: a header line, tab-separated rows, and `\.`.
    let section = |table: &str| -> String {
        let start = dump
            .find(&format!("COPY public.{table} "))
            .unwrap_or_else(|| panic!("no {table} in the dump"));
        let body = &dump[start..];
        body[..body.find("\n\\.\n").unwrap()].to_owned()
    };
    let users = section("users");
    let lookup = users
        .lines()
        .find(|l| l.starts_with(&visitor))
        .and_then(|l| l.split('\t').nth(1))
        .and_then(|bytes| bytes.strip_prefix("\\\\x"))
        .unwrap_or_else(|| panic!("the visitor's row: {users}"))
        .to_owned();
    assert_eq!(lookup.len(), 64, "{lookup}");
    let rows = format!("{}\n{}", section("visit_mappings"), section("visit_tokens"));
    assert_eq!(
        rows.lines().count(),
        4,
        "one mapping, one waiting token: {rows}"
    );
    assert_nobody_beside_tokens(&rows, &visitor, &lookup, &tokens);
    for token in &tokens {
        assert!(
            !dump.to_lowercase().contains(token.as_str()),
            "a token in the dump"
        );
    }
}

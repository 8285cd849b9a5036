//! Black-box tests of the admin console's reading side: finding an account by address and
//! paging the list (beyond one page), the audit log page (filters, pages, bad filters, the
//! chain check), and the identification providers' card (failures, the circuit).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use wildid_tests::accounts::{options, registered, sign_in_by_link, sqlite, staff_with_totp};
use wildid_tests::client::{Client, section};
use wildid_tests::server::Server;

/// The text of the page's table rows (`<tr>` ... `</tr>`), one string each, header excluded.
fn rows(html: &str) -> Vec<String> {
    let body = html
        .split_once("<tbody>")
        .map_or("", |(_, rest)| rest.split("</tbody>").next().unwrap_or(""));
    body.split("<tr>")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap_or("").to_owned())
        .collect()
}

/// The `href` of the link whose text is `text`, with its escaped `&` read back.
fn link(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!("\">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn admins_find_accounts_by_address_and_page_the_list() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    registered(&server, "ranger@example.org").await;
    registered(&server, "warden@example.org").await;

    // Found through the keyed lookup, whatever the case of the address.
    let page = admin.get("/admin?email=Ranger%40Example.org").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let found = rows(&page.body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("ranger@example.org"), "{}", found[0]);

    let page = admin.get("/admin?email=nobody%40example.org").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No account has that address."));
    assert!(rows(&page.body).is_empty());

    let page = admin.get("/admin?email=not-an-address").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("That is not an email address."));

    // The list: three accounts fit on the first page, so no later page is offered.
    let page = admin.get("/admin").await;
    assert_eq!(rows(&page.body).len(), 3);
    assert!(page.body.contains("Accounts 1 to 3"));
    assert_eq!(link(&page.body, "Later accounts"), None);
    let page = admin.get("/admin?page=2").await;
    assert_eq!(page.status, 200);
    assert!(rows(&page.body).is_empty());
    assert_eq!(
        link(&page.body, "Earlier accounts").as_deref(),
        Some("/admin?page=1")
    );
    // The settings in effect, grouped, with no secret among them; the providers' health.
    let page = admin.get("/admin").await;
    assert!(
        page.body.contains("Identification providers")
            && page.body.contains("<td>local-model</td>")
            && page.body.contains("no breaker (runs here)"),
        "{}",
        page.body
    );
    for shown in [
        "Settings in effect",
        "<h3>Sessions and sign-in</h3>",
        "<dt>lockout</dt><dd>after 5 failures, for 30 min</dd>",
        "<dt>requests sign_in</dt><dd>50/hour, 200/day (in the database)</dd>",
    ] {
        assert!(page.body.contains(shown), "{shown} missing from /admin");
    }
    let secrets = std::fs::read_to_string(server.data_dir.join("dev-secrets.env")).unwrap();
    for line in secrets.lines().filter(|l| l.starts_with("WILDID_")) {
        let (name, value) = line.split_once('=').unwrap();
        for part in value.split(',').filter(|p| p.len() >= 16) {
            assert!(!page.body.contains(part), "{name} is shown on /admin");
        }
    }
    for bad in ["0", "two", "-1"] {
        let page = admin.get(&format!("/admin?page={bad}")).await;
        assert_eq!(page.status, 400, "page={bad}");
        assert!(
            page.body.contains("expected a page number"),
            "{}",
            page.body
        );
    }

    // Beyond one page: 50 more accounts (copies of the ranger's, each under its own id and
    // lookup key), so 53 in all: 50 on the first page, 3 on the second, none twice.
    sqlite(
        &server.data_dir,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
         INSERT INTO users (id, email_lookup, email_encrypted, role, active, created_at, \
           email_verified_at, privacy_accepted_at, failed_attempts) \
         SELECT lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), \
           substr(hex(randomblob(2)), 2), substr(hex(randomblob(2)), 2), hex(randomblob(6)))), \
           randomblob(32), email_encrypted, role, active, created_at, email_verified_at, \
           privacy_accepted_at, 0 \
         FROM users, n WHERE role = 'visitor' AND id = (SELECT min(id) FROM users WHERE role = 'visitor')",
    );
    let first = admin.get("/admin").await;
    assert_eq!(rows(&first.body).len(), 50);
    assert!(first.body.contains("Accounts 1 to 50"), "{}", first.body);
    let later = link(&first.body, "Later accounts").unwrap();
    assert_eq!(later, "/admin?page=2");
    let second = admin.get(&later).await;
    assert_eq!(rows(&second.body).len(), 3);
    assert!(second.body.contains("Accounts 51 to 53"), "{}", second.body);
    assert_eq!(link(&second.body, "Later accounts"), None);
    let ids = |html: &str| -> Vec<String> {
        rows(html)
            .iter()
            .filter_map(|r| r.split("/admin/users/").nth(1))
            .map(|r| r.chars().take(36).collect())
            .collect()
    };
    let mut all = ids(&first.body);
    all.extend(ids(&second.body));
    let listed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (listed, all.len()),
        (53, 53),
        "each account on one page only"
    );
}

#[tokio::test]
async fn the_audit_log_page_filters_pages_and_checks_the_chain() {
    let server = Server::start_with(options()).unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let ranger = sign_in_by_link(&server, "ranger@example.org").await;
    drop(ranger);

    // 55 revocations: more than one page of 50.
    let page = admin.get("/admin?email=ranger%40example.org").await;
    let ranger_id = page
        .body
        .split("/admin/users/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    for _ in 0..55 {
        let r = admin
            .post_form(&format!("/admin/users/{ranger_id}/end-sessions"), &[])
            .await;
        assert_eq!(r.status, 303);
    }

    let page = admin.get("/admin/audit?action=session.revoked").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let first = rows(&page.body);
    assert_eq!(first.len(), 50);
    assert!(
        first
            .iter()
            .all(|r| r.contains("session.revoked") && r.contains("chief@example.org")),
        "{first:?}"
    );
    let older = link(&page.body, "Older entries").expect("a second page");
    assert!(older.contains("action=session.revoked"), "{older}");
    let page = admin.get(&older).await;
    let second = rows(&page.body);
    assert_eq!(second.len(), 5);
    assert_eq!(link(&page.body, "Older entries"), None);
    assert_eq!(
        link(&page.body, "Newest").as_deref(),
        Some("/admin/audit?action=session.revoked")
    );
    // Newest first, and no entry on both pages.
    let seq = |row: &String| -> i64 {
        let cell = row.split("<td data-label=\"No.\">").nth(1).unwrap();
        cell.split('<').next().unwrap().trim().parse().unwrap()
    };
    let seqs: Vec<i64> = first.iter().chain(&second).map(seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    // By who: the ranger's own sign-in, under their address; by day.
    let page = admin.get("/admin/audit?actor=ranger%40example.org").await;
    let theirs = rows(&page.body);
    assert!(!theirs.is_empty());
    assert!(
        theirs.iter().all(|r| r.contains("ranger@example.org")),
        "{theirs:?}"
    );
    assert!(theirs.iter().any(|r| r.contains("auth.magic_link.used")));
    let today = chrono::Utc::now().date_naive();
    let page = admin
        .get(&format!(
            "/admin/audit?from={today}&until={today}&action=session.revoked"
        ))
        .await;
    assert_eq!(rows(&page.body).len(), 50);
    let tomorrow = today.succ_opt().unwrap();
    let page = admin.get(&format!("/admin/audit?from={tomorrow}")).await;
    assert!(page.body.contains("No entry matches."));

    // Filters it cannot read are said, with 400, and nothing is listed.
    for (query, says) in [
        ("action=auth.nothing", "not an action WildID records"),
        ("actor=nobody%40example.org", "no account has that address"),
        (
            "actor=%3Cscript%3E",
            "write an email address, system or anonymous",
        ),
        ("from=2026-13-01", "From: write a date"),
        ("until=yesterday", "Until: write a date"),
        (
            "from=2026-05-02&until=2026-05-01",
            "Until must be the same day",
        ),
        ("before=abc", "not one the log gave"),
    ] {
        let page = admin.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(page.status, 400, "{query}");
        assert!(page.body.contains(says), "{query}: {}", page.body);
        assert!(rows(&page.body).is_empty(), "{query}");
    }

    // The chain check, intact and then with an entry edited behind the server's back.
    let r = admin.post_form("/admin/audit/verify", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/admin/audit"))
    );
    let page = admin.get("/admin/audit").await;
    assert!(page.body.contains("The chain is intact"), "{}", page.body);
    sqlite(
        &server.data_dir,
        "DROP TRIGGER audit_log_no_update; \
         UPDATE audit_log SET details = '{\"sessions\":\"99\"}' WHERE seq = 5",
    );
    admin.post_form("/admin/audit/verify", &[]).await;
    let page = admin.get("/admin/audit").await;
    assert!(
        page.body.contains("The chain is broken at entry 5"),
        "{}",
        page.body
    );
    // Each check is itself audited, with what the admin was shown.
    let checks: Vec<serde_json::Value> = wildid_tests::accounts::audit_entries(&server.data_dir)
        .into_iter()
        .filter(|(action, _)| action == "audit.chain_checked")
        .map(|(_, details)| details)
        .collect();
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert_eq!(checks[0]["outcome"], "intact", "{checks:?}");
    assert_eq!(
        (&checks[1]["outcome"], &checks[1]["at_entry"]),
        (&serde_json::json!("broken"), &serde_json::json!("5")),
        "{checks:?}"
    );

    // Not for anyone else.
    let mut visitor = sign_in_by_link(&server, "ranger@example.org").await;
    assert_eq!(visitor.get("/admin/audit").await.status, 403);
    let mut anonymous = Client::new(&server.url(""));
    assert_ne!(anonymous.get("/admin/audit").await.status, 200);
}

/// The providers' card: a remote provider that keeps failing shows its calls, its failures,
/// when and how it last failed, and its circuit open, while the offline model behind it
/// answers the photos.
#[tokio::test]
async fn the_providers_card_shows_a_failing_provider_with_its_circuit_open() {
    use wildid_tests::provider::{FakeProvider, Reply};
    let provider = FakeProvider::start();
    provider.reply(Reply::Status(500));
    let server = Server::start_with(
        options()
            .env("WILDID_AI_PROVIDER", "test")
            .env("WILDID_AI_BASE_URL", provider.base_url())
            .env("WILDID_AI_MODEL", "test-vision")
            .env("WILDID_AI_RETRIES", "0")
            .env("WILDID_AI_BREAKER_FAILURES", "2")
            .env("WILDID_AI_BREAKER_COOLDOWN_SECONDS", "3600")
            .env("WILDID_AI_FALLBACK", "local-model"),
    )
    .unwrap();
    let mut admin = staff_with_totp(&server, "chief@example.org", "admin").await;
    let mut visitor = Client::new(&server.url(""));
    let photo = wildid_tests::photos::small_png();
    for _ in 0..3 {
        let r = visitor
            .post_multipart("/api/identify", &[("image", &photo)])
            .await;
        assert_eq!(r.status, 200, "the offline model answers: {}", r.body);
    }
    assert_eq!(
        provider.calls().len(),
        2,
        "not called once its circuit opened"
    );

    let page = admin.get("/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let card = section(&page.body, "providers");
    let row = |name: &str| {
        rows(card)
            .into_iter()
            .find(|r| r.contains(&format!("<td>{name}</td>")))
            .unwrap_or_else(|| panic!("no row for {name}: {card}"))
    };
    let test = row("test");
    // Three photos came to it: two failed at the provider, the third was skipped (the
    // circuit open), which counts as unavailable.
    for cell in [
        "<td data-label=\"Calls\">3</td>",
        "<td data-label=\"Failed\">3</td>",
        "<td data-label=\"Last failure\">unavailable at ",
        "<td data-label=\"Circuit\">open: skipped for now</td>",
    ] {
        assert!(test.contains(cell), "{cell}: {test}");
    }
    let local = row("local-model");
    assert!(local.contains("<td data-label=\"Calls\">3</td>"), "{local}");
    assert!(
        local.contains("<td data-label=\"Failed\">0</td>"),
        "{local}"
    );
}

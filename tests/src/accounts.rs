//! Shared steps of the account tests: a server whose limits do not get in the way, accounts
//! registered and confirmed through the outbox, sign-in links, and direct access to the
//! server's SQLite file for states the API cannot reach (an old authentication) and for
//! checking what was stored (the audit log, row counts).

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use serde_json::json;

use crate::client::{Answer, Client, link_in, outbox, wait_for_mail};
use crate::server::{Server, ServerOptions};

/// The password the helpers register accounts with.
pub const PASSWORD: &str = "otter gravel lantern";
/// The public address links in mail start with.
pub const PUBLIC_URL: &str = "https://wildid.example.org";

/// A server with the public URL set and the sign-in and mail limits raised out of the way
/// (tests of the limits set their own).
pub fn options() -> ServerOptions {
    ServerOptions::default()
        .env("WILDID_PUBLIC_URL", PUBLIC_URL)
        .env("WILDID_LOGIN_ATTEMPTS_PER_MINUTE", "1000")
        .env("WILDID_MAIL_PER_ADDRESS_PER_HOUR", "1000")
        .env("WILDID_MAIL_PER_IP_PER_HOUR", "1000")
}

/// A connection to the server's database file that waits (up to 10 s) for the running
/// server's write transactions, as the server's own connections do, instead of failing with
/// "database is locked" when a maintenance round happens to be writing.
fn connect(data_dir: &Path) -> SqliteConnection {
    let mut conn =
        SqliteConnection::establish(data_dir.join("wildid.db").to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
    conn
}

/// Runs SQL on the server's database file.
pub fn sqlite(data_dir: &Path, sql: &str) {
    connect(data_dir).batch_execute(sql).unwrap();
}

/// Makes every signed-in session's authentication old (no longer fresh).
pub fn age_authentications(data_dir: &Path) {
    sqlite(
        data_dir,
        "UPDATE sessions SET authenticated_at = '2000-01-01 00:00:00' WHERE user_id IS NOT NULL",
    );
}

/// Rows in `table`.
pub fn count(data_dir: &Path, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut connect(data_dir))
        .unwrap()
        .n
}

/// The `line` column (text) of every row `sql` selects from the server's database file.
pub fn lines(data_dir: &Path, sql: &str) -> Vec<String> {
    lines_on(&mut connect(data_dir), sql)
}

fn lines_on(connection: &mut SqliteConnection, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    diesel::sql_query(sql)
        .load::<Line>(connection)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

/// Every row of every table of the server's database file but those in `skip`: each row as
/// SQLite's `quote()` of its columns (blobs in hex, NULL apart from ''), sorted, by table.
pub fn table_rows(
    data_dir: &Path,
    skip: &[&str],
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut connection = connect(data_dir);
    let tables = lines_on(
        &mut connection,
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    let mut all = std::collections::BTreeMap::new();
    for table in tables {
        if skip.contains(&table.as_str()) {
            continue;
        }
        let columns = lines_on(
            &mut connection,
            &format!("SELECT name AS line FROM pragma_table_info('{table}')"),
        );
        let row = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let mut rows = lines_on(
            &mut connection,
            &format!("SELECT {row} AS line FROM \"{table}\""),
        );
        rows.sort();
        all.insert(table, rows);
    }
    all
}

/// The stored password hashes (PHC strings), one per account that has a password.
pub fn password_hashes(data_dir: &Path) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
    }
    diesel::sql_query("SELECT password_hash FROM users WHERE password_hash IS NOT NULL")
        .load::<Hash>(&mut connect(data_dir))
        .unwrap()
        .into_iter()
        .map(|h| h.password_hash)
        .collect()
}

/// The audit log's actions, oldest first.
pub fn audit_actions(data_dir: &Path) -> Vec<String> {
    audit_entries(data_dir)
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

/// The audit log's entries as (action, details JSON), oldest first.
pub fn audit_entries(data_dir: &Path) -> Vec<(String, serde_json::Value)> {
    #[derive(diesel::QueryableByName)]
    struct Entry {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        details: String,
    }
    diesel::sql_query("SELECT action, details FROM audit_log ORDER BY seq")
        .load::<Entry>(&mut connect(data_dir))
        .unwrap()
        .into_iter()
        .map(|e| (e.action, serde_json::from_str(&e.details).unwrap()))
        .collect()
}

/// Panics unless every audit entry the server stored for a request is also one `wildid::audit`
/// line of its log, with the same sequence number and action (ASVS 16.4.3: the log stream a
/// collector reads holds every security event). Returns the actions checked.
pub fn assert_every_entry_logged(server: &Server) -> Vec<String> {
    let stored = lines(
        &server.data_dir,
        "SELECT seq || ' ' || action AS line FROM audit_log WHERE request_id IS NOT NULL \
         ORDER BY seq",
    );
    let mut actions = Vec::new();
    for entry in &stored {
        let (seq, action) = entry.split_once(' ').unwrap();
        let seq_field = format!("seq={seq} ");
        let action_field = format!("action=\"{action}\"");
        server.wait_for_log_where(&format!("audit entry {seq} ({action})"), |l| {
            l.contains("audit event") && l.contains(&seq_field) && l.contains(&action_field)
        });
        actions.push(action.to_owned());
    }
    actions
}

/// Panics unless the audit log holds an entry for each of `expected`.
pub fn assert_audited(data_dir: &Path, expected: &[&str]) {
    let actions = audit_actions(data_dir);
    for action in expected {
        assert!(
            actions.iter().any(|a| a == action),
            "audit lacks {action}: {actions:?}"
        );
    }
}

/// Registers `email` with [`PASSWORD`] from a new browser, asserting the request was taken
/// (202), without confirming the address.
pub async fn register_unconfirmed(server: &Server, email: &str) {
    let r = Client::new(&server.url(""))
        .post_json(
            "/api/auth/register",
            &json!({"email": email, "password": PASSWORD, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
}

/// Registers `email` with [`PASSWORD`] and confirms it through the outbox; returns the
/// browser that did it (signed out).
pub async fn registered(server: &Server, email: &str) -> Client {
    let mut browser = Client::new(&server.url(""));
    let before = outbox(&server.data_dir).len();
    let r = browser
        .post_json(
            "/api/auth/register",
            &json!({"email": email, "password": PASSWORD, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    let (_, token) = link_in(mails.last().unwrap(), "/auth/verify");
    let r = browser
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    browser
}

/// Password sign-in.
pub async fn login(browser: &mut Client, email: &str, password: &str) -> Answer {
    browser
        .post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
}

/// Asks for a sign-in link for `email` and returns its token.
pub async fn link_for(server: &Server, browser: &mut Client, email: &str) -> String {
    let before = outbox(&server.data_dir).len();
    let r = browser
        .post_json("/api/auth/magic-link", &json!({"email": email}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mails = wait_for_mail(&server.data_dir, before + 1).await;
    let mail = mails.last().unwrap();
    assert!(mail.contains(&format!("To: {email}")));
    link_in(mail, "/auth/magic").1
}

/// Signs `email` in (or up, accepting the privacy notice) with a sign-in link.
pub async fn sign_in_by_link(server: &Server, email: &str) -> Client {
    let mut b = Client::new(&server.url(""));
    let token = link_for(server, &mut b, email).await;
    redeem_in(&mut b, &token).await;
    b
}

/// Opens the sign-in link `token` in a new browser (accepting the privacy notice when it
/// signs up) and returns it, signed in.
pub async fn redeemed(server: &Server, token: &str) -> Client {
    let mut b = Client::new(&server.url(""));
    redeem_in(&mut b, token).await;
    b
}

async fn redeem_in(b: &mut Client, token: &str) {
    let r = b
        .post_json(
            "/api/auth/magic-link/redeem",
            &json!({"token": token, "accept_privacy": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A server on `data_dir` with [`options`] and `envs` (say a `DATABASE_URL`): for tests that
/// stop and start the same site.
pub fn start_on(data_dir: &Path, envs: &[(&str, &str)]) -> Server {
    let mut opts = options().data_dir(data_dir);
    for (k, v) in envs {
        opts = opts.env(k, *v);
    }
    Server::start_with(opts).unwrap()
}

/// Sets up the second factor for the signed-in `user` (a fresh secret, confirmed with its
/// current code); returns the secret.
pub async fn enrol_totp(user: &mut Client) -> wildid_domain::totp::TotpSecret {
    let setup = user
        .post_json("/api/account/totp/setup", &json!({}))
        .await
        .json();
    let secret =
        wildid_domain::totp::TotpSecret::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let r = user
        .post_json(
            "/api/account/totp/confirm",
            &json!({"pending": setup["pending"], "code": secret.code_at(chrono::Utc::now()).unwrap()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    secret
}

/// `email` signed up, given `role` (`worker` or `admin`) from the shell, signed in again and
/// with a second factor set up, as staff routes require.
pub async fn staff_with_totp(server: &Server, email: &str, role: &str) -> Client {
    staff_with_secret(server, &[], email, role).await.0
}

/// [`staff_with_totp`] for a server started with `envs` (its `DATABASE_URL`, for the shell
/// command that gives the role); also returns the second factor's secret.
pub async fn staff_with_secret(
    server: &Server,
    envs: &[(&str, &str)],
    email: &str,
    role: &str,
) -> (Client, wildid_domain::totp::TotpSecret) {
    sign_in_by_link(server, email).await;
    let (status, out, err) =
        crate::server::run_cli(&server.data_dir, envs, &["users", "set-role", email, role]);
    assert!(status.success(), "{out}{err}");
    let mut staff = sign_in_by_link(server, email).await;
    let secret = enrol_totp(&mut staff).await;
    (staff, secret)
}

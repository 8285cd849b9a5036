//! Black-box tests of the real `wildid` binary: start-up on the embedded defaults, probes,
//! restarts, graceful shutdown, production refusal, logs, Postgres, and the audit CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wildid_tests::client::http_builder;
use wildid_tests::server::{Server, ServerOptions, run_cli};

async fn get(url: &str) -> reqwest::Response {
    http_builder()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn starts_on_the_embedded_defaults_and_answers_probes() {
    let server = Server::start();
    let first = &server.logs()[0];
    assert!(
        first.contains(&format!("listening on http://{}", server.addr)),
        "{first}"
    );
    // The next lines say where the database, the files and the mail are.
    assert!(
        server.logs()[1].contains("database ready"),
        "{:#?}",
        server.logs()
    );
    let files = server.wait_for_log("mail goes to");
    let outbox = server.data_dir.join("outbox");
    assert!(
        files.contains(&format!("files in {}", server.data_dir.display()))
            && files.contains(&format!("mail goes to files in {}", outbox.display())),
        "{files}"
    );
    let health = get(&server.url("/healthz")).await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);
    let ready = get(&server.url("/readyz")).await;
    assert_eq!(ready.status(), 200);
    assert!(server.data_dir.join("wildid.db").is_file());
    assert!(server.data_dir.join("dev-secrets.env").is_file());
    let landing = get(&server.url("/")).await;
    assert_eq!(landing.status(), 200);
    assert!(
        landing
            .text()
            .await
            .unwrap()
            .contains("Which animal is that?")
    );
    let warnings = server
        .logs()
        .iter()
        .filter(|l| l.contains("generated development secrets"))
        .count();
    assert_eq!(warnings, 1);
    assert!(
        !server.logs().iter().any(|l| l.contains("without Secure")),
        "on loopback the cookie keeps its prefix and Secure"
    );
    let (status, logs) = server.stop();
    assert!(status.success(), "{logs:#?}");
}

/// In development on plain http at an address browsers do not treat as secure, the session
/// cookie drops the `__Host-` prefix and `Secure` (a browser would not store it otherwise),
/// keeps the rest, and the start says so.
#[tokio::test]
async fn development_on_another_address_drops_the_cookie_prefix_and_warns() {
    let server = Server::start_with(ServerOptions::default().bind("0.0.0.0:0")).unwrap();
    let status = get(&server.url("/api/security/status")).await;
    assert_eq!(status.status(), 200);
    let cookie = status.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("wildid-session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    server.wait_for_log("cookies are sent without Secure");
    let (status, logs) = server.stop();
    assert!(status.success(), "{logs:#?}");
}

#[tokio::test]
async fn a_restart_reuses_the_secrets_and_keeps_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("data");
    let first = Server::start_with(ServerOptions::default().data_dir(&kept)).unwrap();
    let secrets_before = std::fs::read_to_string(kept.join("dev-secrets.env")).unwrap();
    let (status, _) = first.stop();
    assert!(status.success());

    let second = Server::start_with(ServerOptions::default().data_dir(&kept)).unwrap();
    assert_eq!(get(&second.url("/readyz")).await.status(), 200);
    let logs = second.logs();
    assert!(
        !logs
            .iter()
            .any(|l| l.contains("generated development secrets")),
        "{logs:#?}"
    );
    assert!(logs.iter().any(|l| l.contains("using development secrets")));
    assert_eq!(
        std::fs::read_to_string(kept.join("dev-secrets.env")).unwrap(),
        secrets_before
    );
    let (status, _) = second.stop();
    assert!(status.success());

    let (status, out, _) = run_cli(&kept, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}");
    assert!(
        out.starts_with("audit log intact: 4 entries"),
        "started, stopped, started, stopped: {out}"
    );
}

/// Reads one HTTP/1.1 response (headers, then `Content-Length` bytes of body) and leaves the
/// connection open for the next.
fn read_one_response(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

#[test]
fn graceful_shutdown_lets_an_in_flight_request_finish_then_exits_zero() {
    let mut server = Server::start();
    let body = br#"{"csp-report":{"document-uri":"http://127.0.0.1/","violated-directive":"script-src-elem"}}"#;
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A first, whole request on this connection, answered: the server has accepted the
    // connection and serves it, so the partial request below is in flight when the signal
    // comes (a connection still in the accept queue would be closed, not drained).
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .unwrap();
    let first = read_one_response(&mut stream);
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    write!(
        stream,
        "POST /api/csp-report HTTP/1.1\r\nHost: {}\r\nContent-Type: application/csp-report\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..20]).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    server.signal_terminate();
    server.wait_for_log("shutdown requested");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "no new connections once shutting down"
    );
    stream.write_all(&body[20..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");

    let status = server.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{:#?}", server.logs());
    assert!(server.logs().iter().any(|l| l.contains("stopped")));
}

#[test]
fn production_refuses_to_start_without_valid_secrets() {
    let failure = Server::start_with(
        ServerOptions::default()
            .env("WILDID_ENV", "production")
            .env("WILDID_PUBLIC_URL", "https://wildid.example.org"),
    )
    .err()
    .unwrap();
    assert_eq!(failure.status.code(), Some(2));
    assert!(
        failure.output.contains("WILDID_SESSION_KEY is not set"),
        "{}",
        failure.output
    );
    assert!(failure.output.contains("wildid keys generate"));
    assert!(!failure.output.contains("listening"));

    let dir = tempfile::tempdir().unwrap();
    let (status, generated, _) = run_cli(dir.path(), &[], &["keys", "generate"]);
    assert!(status.success());
    let mut options = ServerOptions::default()
        .env("WILDID_ENV", "production")
        .env("WILDID_PUBLIC_URL", "https://wildid.example.org");
    for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
        let (key, value) = line.split_once('=').unwrap();
        let value = if key == "WILDID_EMAIL_PEPPER" {
            "dG9vLXNob3J0"
        } else {
            value
        };
        options = options.env(key, value);
    }
    let failure = Server::start_with(options).err().unwrap();
    assert_eq!(failure.status.code(), Some(2));
    assert!(
        failure.output.contains("WILDID_EMAIL_PEPPER is malformed"),
        "{}",
        failure.output
    );
    assert!(
        !failure.output.contains("dG9vLXNob3J0"),
        "the bad value is not echoed"
    );
}

#[tokio::test]
async fn production_starts_with_generated_secrets_and_creates_no_secrets_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, generated, _) = run_cli(dir.path(), &[], &["keys", "generate"]);
    let secrets_file = dir.path().join("pepper");
    let mut options = ServerOptions::default()
        .env("WILDID_ENV", "production")
        .env("WILDID_PUBLIC_URL", "https://wildid.example.org")
        .env("WILDID_TRUSTED_PROXIES", "127.0.0.1")
        .env("WILDID_MAP_TILE_ORIGINS", "https://Tiles.example.org/");
    for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
        let (key, value) = line.split_once('=').unwrap();
        if key == "WILDID_EMAIL_PEPPER" {
            std::fs::write(&secrets_file, format!("{value}\n")).unwrap();
            options = options.env("WILDID_EMAIL_PEPPER_FILE", secrets_file.to_str().unwrap());
        } else {
            options = options.env(key, value);
        }
    }
    let server = Server::start_with(options).unwrap();
    let client = http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Plain http is sent to the public https address, whatever the Host said.
    let plain = client
        .get(server.url("/auth/sign-in?next=%2Faccount"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 308);
    assert_eq!(
        plain.headers()["location"],
        "https://wildid.example.org/auth/sign-in?next=%2Faccount"
    );
    // Through the TLS-terminating proxy (trusted: loopback here), the page itself, with HSTS.
    let response = client
        .get(server.url("/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("includeSubDomains")
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("; img-src 'self' data: blob: https://tiles.example.org;"),
        "the map tile origin is allowed for images: {csp}"
    );
    assert_eq!(
        get(&server.url("/healthz")).await.status(),
        200,
        "probes need no proxy"
    );
    assert!(!server.data_dir.join("dev-secrets.env").exists());
    for line in server.logs() {
        for secret in generated
            .lines()
            .filter_map(|l| l.split_once('=').map(|(_, v)| v))
        {
            assert!(!line.contains(secret), "a secret was logged: {line}");
        }
    }
}

#[test]
fn a_database_url_naming_no_file_is_an_error_not_an_empty_site() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("wildid-typo.db");
    let failure =
        Server::start_with(ServerOptions::default().env("DATABASE_URL", typo.to_str().unwrap()))
            .err()
            .unwrap();
    assert_eq!(failure.status.code(), Some(2));
    assert!(
        failure
            .output
            .contains("DATABASE_URL names no existing file"),
        "{}",
        failure.output
    );
    assert!(!typo.exists());
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_query_strings() {
    let server =
        Server::start_with(ServerOptions::default().env("WILDID_LOG_FORMAT", "json")).unwrap();
    let response = get(&server.url("/no-such-page?token=super-secret-token")).await;
    assert_eq!(response.status(), 404);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let line = server.wait_for_log(&request_id);
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["span"]["request_id"], request_id.as_str());
    assert_eq!(json["status"], 404);
    for line in server.logs() {
        serde_json::from_str::<serde_json::Value>(&line)
            .unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(!line.contains("super-secret-token"));
    }
}

#[tokio::test]
async fn runs_on_postgres_and_reports_unready_when_the_database_goes_away() {
    let Some(url) = wildid_tests::db::fresh_postgres_url().await else {
        return;
    };
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!()
    };
    // A password in the URL (the test cluster trusts local connections and ignores it): it
    // must never reach the log, not even when the database goes away (ASVS 16.2.5).
    const URL_PASSWORD: &str = "url-pw-s3cret";
    let with_password = raw.expose().replacen(
        "postgresql://postgres@",
        &format!("postgresql://postgres:{URL_PASSWORD}@"),
        1,
    );
    assert!(
        with_password.contains(URL_PASSWORD) || std::env::var("WILDID_TEST_DATABASE_URL").is_ok(),
        "the suite's own cluster has this URL form: {with_password}"
    );
    let server =
        Server::start_with(ServerOptions::default().env("DATABASE_URL", &with_password)).unwrap();
    assert_eq!(get(&server.url("/readyz")).await.status(), 200);
    let (status, out, err) = run_cli(
        &server.data_dir,
        &[("DATABASE_URL", &with_password)],
        &["audit", "verify"],
    );
    assert!(!format!("{out}{err}").contains(URL_PASSWORD));
    assert!(status.success(), "{out}{err}");
    assert!(out.starts_with("audit log intact: 1 entries"), "{out}");

    let name = raw.expose().rsplit('/').next().unwrap().to_owned();
    let server_info = wildid_tests::pg::server().unwrap();
    let mut admin = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
        server_info.admin_url(),
    )
    .await
    .unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut admin,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .await
    .unwrap();
    let unready = get(&server.url("/readyz")).await;
    assert_eq!(unready.status(), 503);
    assert_eq!(
        unready.text().await.unwrap(),
        r#"{"database":"down","status":"unavailable"}"#
    );
    assert_eq!(
        get(&server.url("/healthz")).await.status(),
        200,
        "the process itself is alive"
    );
    let (_, logs) = server.stop();
    assert!(logs.len() > 3);
    for line in logs {
        assert!(
            !line.contains(URL_PASSWORD),
            "the database password was logged: {line}"
        );
    }
}

#[test]
fn audit_verify_cli_finds_an_edited_and_a_deleted_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for _ in 0..2 {
        let server = Server::start_with(ServerOptions::default().data_dir(&data)).unwrap();
        assert!(server.stop().0.success());
    }
    let (status, out, _) = run_cli(&data, &[], &["audit", "verify"]);
    assert_eq!(
        (
            status.code(),
            out.starts_with("audit log intact: 4 entries")
        ),
        (Some(0), true),
        "{out}"
    );

    let sql = |statement: &str| {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut conn =
            diesel::SqliteConnection::establish(data.join("wildid.db").to_str().unwrap()).unwrap();
        conn.batch_execute(statement).unwrap();
    };
    sql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
    sql(
        "UPDATE audit_log SET details = '{\"address\":\"10.6.6.6:80\",\"version\":\"0.1.0\"}' WHERE seq = 3",
    );
    let (status, out, _) = run_cli(&data, &[], &["audit", "verify"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        out.trim(),
        "audit log BROKEN at entry 3: its content was altered (it no longer matches its digest)"
    );

    sql("DELETE FROM audit_log WHERE seq = 2");
    let (status, out, _) = run_cli(&data, &[], &["audit", "verify"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        out.trim(),
        "audit log BROKEN at entry 3: entries from 2 to 2 were deleted"
    );

    // Deleting the newest entry leaves a consistent chain; only an anchor recorded earlier
    // reveals it.
    let dir2 = tempfile::tempdir().unwrap();
    let data2 = dir2.path().join("data");
    let server = Server::start_with(ServerOptions::default().data_dir(&data2)).unwrap();
    assert!(server.stop().0.success());
    let (_, head2, _) = run_cli(&data2, &[], &["audit", "head"]);
    {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut conn =
            diesel::SqliteConnection::establish(data2.join("wildid.db").to_str().unwrap()).unwrap();
        conn.batch_execute("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2")
            .unwrap();
    }
    let (status, _, _) = run_cli(&data2, &[], &["audit", "verify"]);
    assert!(status.success());
    let (status, out, _) = run_cli(&data2, &[], &["audit", "verify", "--anchor", head2.trim()]);
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("anchored entry 2 is missing"));
    let (status, out, _) = run_cli(&data2, &[], &["audit", "verify", "--anchor", "nonsense"]);
    assert_eq!(status.code(), Some(2), "{out}");
}

#[test]
fn config_check_reports_and_fails_on_bad_production_config() {
    let dir = tempfile::tempdir().unwrap();
    let (status, out, _) = run_cli(dir.path(), &[], &["config", "check"]);
    assert!(status.success(), "{out}");
    assert!(out.contains("will be generated at first start") && out.contains("configuration OK"));
    // Every setting, grouped as docs/configuration.md groups them.
    let headers: Vec<&str> = out.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        headers,
        [
            "[server]",
            "[http]",
            "[sessions and sign-in]",
            "[limits]",
            "[identification]",
            "[journal and retention]",
            "[mail]",
            "[secrets]",
            "[database]"
        ],
        "{out}"
    );
    for line in [
        "metrics          off",
        "requests default  600/minute (per process)",
        "requests sign_in  50/hour, 200/day (in the database)",
        "lockout          after 5 failures, for 30 min",
        "transport        files in",
    ] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }
    // Secrets and credentials are named, never shown.
    let (status, out, _) = run_cli(
        dir.path(),
        &[
            ("WILDID_MAIL_TRANSPORT", "smtp"),
            ("WILDID_SMTP_HOST", "smtp.example.org"),
            ("WILDID_SMTP_USERNAME", "wildid"),
            ("WILDID_SMTP_PASSWORD", "hunter2-smtp-secret"),
            ("WILDID_SESSION_KEY", &"k".repeat(90)),
        ],
        &["config", "check"],
    );
    assert!(
        out.contains("transport        SMTP smtp.example.org:587")
            && out.contains("credentials set"),
        "{status:?} {out}"
    );
    assert!(
        !out.contains("hunter2") && !out.contains(&"k".repeat(90)),
        "{out}"
    );
    // Every bad value at once, each named.
    let (status, _, err) = run_cli(
        dir.path(),
        &[
            ("WILDID_BIND", "nowhere"),
            ("WILDID_LOG_FORMAT", "xml"),
            ("WILDID_RETENTION_VISIT_DAYS", "0"),
        ],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("3 problems in the configuration"), "{err}");
    assert!(
        err.contains(
            "not checked: the secrets, the offline model, the database, the mail transport and \
             the providers"
        ),
        "what could not be checked is said: {err}"
    );
    assert_eq!(
        err.matches("WILDID_BIND is invalid").count(),
        1,
        "once: {err}"
    );
    for var in [
        "WILDID_BIND",
        "WILDID_LOG_FORMAT",
        "WILDID_RETENTION_VISIT_DAYS",
    ] {
        assert!(err.contains(&format!("{var} is invalid")), "{err}");
    }
    assert!(
        !dir.path().join("dev-secrets.env").exists(),
        "a check creates nothing"
    );
    let (status, out, _) = run_cli(
        dir.path(),
        &[
            ("WILDID_ENV", "production"),
            ("WILDID_PUBLIC_URL", "https://wildid.example.org"),
        ],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(1));
    assert!(out.contains("3 problems in the configuration"), "{out}");
    for var in [
        "WILDID_SESSION_KEY",
        "WILDID_FERNET_KEYS",
        "WILDID_EMAIL_PEPPER",
    ] {
        assert!(out.contains(&format!("{var} is not set")), "{out}");
    }
    assert!(
        out.contains("(reachable)") || out.contains("will be created"),
        "the database is checked despite the secrets: {out}"
    );
    let (status, _, err) = run_cli(
        dir.path(),
        &[("WILDID_BIND", "nowhere")],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("WILDID_BIND is invalid"), "{err}");
    let (status, out, _) = run_cli(
        dir.path(),
        &[("WILDID_RETENTION_VISIT_DAYS", "30")],
        &["config", "check"],
    );
    assert!(status.success(), "{out}");
    assert!(
        out.contains("visit data 30 days, read notifications 90 days"),
        "{out}"
    );
    let (status, _, err) = run_cli(
        dir.path(),
        &[("WILDID_RETENTION_READ_NOTIFICATION_DAYS", "0")],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("WILDID_RETENTION_READ_NOTIFICATION_DAYS is invalid"),
        "{err}"
    );
}

#[test]
fn the_first_log_line_announces_the_address_whatever_the_filter() {
    let server = Server::start_with(ServerOptions::default().env("WILDID_LOG", "error")).unwrap();
    assert!(server.logs()[0].contains(&format!("listening on http://{}", server.addr)));
    let (status, logs) = server.stop();
    assert!(status.success());
    assert!(logs.iter().any(|l| l.contains("stopped")), "{logs:#?}");
    assert!(
        !logs.iter().any(|l| l.contains("database ready")),
        "info lines are filtered"
    );
}

#[test]
fn a_terminate_signal_during_start_up_still_ends_in_a_clean_exit() {
    for _ in 0..3 {
        let server = Server::start();
        // No pause: the signal lands while the server is starting its jobs and serving.
        let (status, logs) = server.stop();
        assert_eq!(status.code(), Some(0), "{logs:#?}");
    }
}

#[test]
fn production_requires_an_https_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run_cli(
        dir.path(),
        &[("WILDID_ENV", "production")],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("WILDID_PUBLIC_URL"), "{err}");
    let (status, _, err) = run_cli(
        dir.path(),
        &[
            ("WILDID_ENV", "production"),
            ("WILDID_PUBLIC_URL", "http://wildid.example.org"),
        ],
        &["config", "check"],
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("https"), "{err}");
}

/// `wildid keys generate | head -1` and `wildid config check | head -2`: a reader that goes
/// away ends the command quietly (status 0, nothing on standard error) instead of a panic.
#[test]
fn output_to_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["keys", "generate"][..],
        &["config", "check"][..],
        &["completions", "bash"][..],
    ] {
        // A pipe whose reading end is closed before the command starts: its first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(wildid_tests::server::binary())
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("WILDID_ENV")
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

/// Long work shows its progress to an operator at a terminal, and prints nothing of it into a
/// pipe or a file: the bar of `wildid audit verify` (drawn, then cleared, on a terminal).
#[test]
fn long_work_shows_a_progress_bar_on_a_terminal_and_none_in_a_pipe() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let server = Server::start_with(ServerOptions::default().data_dir(dir)).unwrap();
    let (status, _) = server.stop();
    assert!(status.success());
    let (status, shown) = wildid_tests::server::run_cli_on_terminal(dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{shown}");
    assert!(shown.contains("entries checked"), "a bar: {shown:?}");
    assert!(shown.contains("audit log intact"), "{shown:?}");
    let (status, out, err) = run_cli(dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.starts_with("audit log intact"), "{out}");
    assert!(
        !out.contains("entries checked") && !err.contains("entries checked"),
        "no bar in a pipe: {out}{err}"
    );
}

/// The one error line of a server that did not start, and all it printed: it exited 2, never
/// said it was listening, and printed its error exactly once.
fn the_only_error(options: ServerOptions) -> (String, String) {
    let failure = Server::start_with(options).err().unwrap();
    assert_eq!(failure.status.code(), Some(2), "{}", failure.output);
    assert!(
        !failure.output.contains("listening on"),
        "{}",
        failure.output
    );
    let errors: Vec<&str> = failure
        .output
        .lines()
        .filter(|l| l.contains("ERROR") || l.starts_with("error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error, printed once:\n{}",
        failure.output
    );
    (errors[0].to_owned(), failure.output.clone())
}

/// A database that does not answer: the server says so once, never announced an address
/// ("listening on" means the database answered), and exits 2.
#[test]
fn an_unreachable_database_is_one_error_and_no_listening_line() {
    let (_, output) = the_only_error(
        ServerOptions::default().env("DATABASE_URL", "postgres://wildid:pw@127.0.0.1:1/wildid"),
    );
    assert!(!output.contains(":pw@"), "no password: {output}");
}

/// An address another process already holds: one error naming it, printed once, no
/// listening line, exit status 2.
#[test]
fn a_port_in_use_is_one_error_and_no_listening_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (error, _) = the_only_error(ServerOptions::default().bind(&address));
    assert!(
        error.contains(&format!("cannot listen on {address}")),
        "{error}"
    );
}

#[test]
fn the_help_is_written_for_operators_and_completions_come_from_the_same_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (status, out, _) = run_cli(dir.path(), &[], &["--help"]);
    assert!(status.success());
    for needed in [
        "Getting started:",
        "wildid admin create --email EMAIL",
        "wildid users set-role EMAIL ROLE",
        "docs/configuration.md",
        "docs/deployment.md",
        "Exit status: 0 done; 1 a check failed",
    ] {
        assert!(out.contains(needed), "{needed} missing from:\n{out}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let (status, script, err) = run_cli(dir.path(), &[], &["completions", shell]);
        assert!(status.success(), "{shell}: {err}");
        for word in ["end-sessions", "set-role", "reencrypt", "create"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    let (status, _, err) = run_cli(dir.path(), &[], &["completions", "cmd.exe"]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(!dir.path().join("wildid.db").exists(), "nothing was opened");
}

//! The disk filling up under SQLite (issue 18 "Faults"): the server's data directory is a small
//! file system the test mounts (tmpfs, 8 MiB), a ballast file fills it, and then writes are
//! refused with a clear 503 and change nothing, reads go on, the database stays whole, and once
//! the ballast is gone service resumes without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use wildid_tests::accounts::{self, sign_in_by_link};
use wildid_tests::client::{Client, outbox, wait_for_mail};
use wildid_tests::server::{Server, run_cli};

/// A tmpfs mounted on a directory for the test's life (as root, or through `sudo -n`).
struct SmallDisk {
    dir: PathBuf,
    sudo: bool,
}

impl SmallDisk {
    /// Mounts `size` (as `mount -o size=` reads it) on `dir`; `None` when this machine does
    /// not let the test mount.
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        for sudo in [false, true] {
            let mut command = if sudo {
                let mut c = Command::new("sudo");
                c.args(["-n", "mount"]);
                c
            } else {
                Command::new("mount")
            };
            let mounted = command
                .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
                .arg("wildid-small-disk")
                .arg(dir)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if mounted {
                return Some(Self {
                    dir: dir.to_owned(),
                    sudo,
                });
            }
        }
        None
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let mut command = Command::new(if self.sudo { "sudo" } else { "umount" });
        if self.sudo {
            command.args(["-n", "umount"]);
        }
        let _ = command.arg("--lazy").arg(&self.dir).status();
    }
}

/// Writes a ballast file until the file system is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5a_u8; 64 * 1024];
    while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
    // The last partial chunk's room too, byte by byte.
    while file.write_all(&[0]).and_then(|()| file.flush()).is_ok() {}
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    path
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_keeps_the_database_whole_and_recovers() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let Some(_disk) = SmallDisk::mount(&dir, "8m") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to mount a small tmpfs (root or passwordless sudo)"
        );
        return;
    };
    // Declared after the disk, so the server stops before the file system goes.
    let server = Server::start_with(
        accounts::options()
            .data_dir(&dir)
            .env("WILDID_LIMIT_SIGN_IN", "off"),
    )
    .unwrap();
    let mut member = sign_in_by_link(&server, "before@example.org").await;
    let mut newcomer = Client::new(&server.url(""));

    let ballast = fill(&dir);
    let before = accounts::table_rows(&dir, &[]);

    // A new visitor needs a session stored: refused as "not now", not as a fault of ours.
    let r = newcomer.get("/api/security/status").await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (503, "unavailable"),
        "{}",
        r.body
    );
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    // A sign-in link needs a counter, a token, its mail and an audit entry: 503 too, not 429
    // (the person did not ask too often; the server could not count).
    let r = member
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "during@example.org"}),
        )
        .await;
    assert_eq!(
        (r.status, r.error().as_str()),
        (503, "unavailable"),
        "{}",
        r.body
    );
    // Reading goes on.
    let r = member.get("/api/auth/me").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(member.get("/history").await.status, 200);
    assert_eq!(
        accounts::table_rows(&dir, &[]),
        before,
        "a refused write leaves no trace"
    );
    // The operator is told why, in the log.
    let line = server.wait_for_log("disk is full");
    assert!(line.contains("ERROR") || line.contains("WARN"), "{line}");

    // Room again: the same requests work, with no restart.
    std::fs::remove_file(&ballast).unwrap();
    let r = newcomer.get("/api/security/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sent = outbox(&dir).len();
    let r = member
        .post_json(
            "/api/auth/magic-link",
            &json!({"email": "during@example.org"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mails = wait_for_mail(&dir, sent + 1).await;
    assert!(mails.iter().any(|m| m.contains("To: during@example.org")));
    sign_in_by_link(&server, "after@example.org").await;
    assert_eq!(
        accounts::lines(
            &dir,
            "SELECT integrity_check AS line FROM pragma_integrity_check"
        ),
        ["ok"]
    );
    let (status, out, err) = run_cli(&dir, &[], &["audit", "verify"]);
    assert!(status.success(), "{out}{err}");
    assert!(out.starts_with("audit log intact"), "{out}");
}

//! A real SMTP server for tests: Python's aiosmtpd (Debian package `python3-aiosmtpd`) on a
//! loopback port, storing what it receives in a maildir.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Python with aiosmtpd (Debian's first, where the package installs it). `None` outside CI
/// when there is none; in CI (`CI=true`) its absence fails the test.
///
/// # Panics
/// In CI without aiosmtpd.
pub fn python() -> Option<PathBuf> {
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(candidate)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("aiosmtpd is required in CI (Debian package python3-aiosmtpd)");
    }
    eprintln!("\n*** SKIPPING SMTP TESTS: install python3-aiosmtpd ***\n");
    None
}

/// A running aiosmtpd.
pub struct SmtpServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Held by a test for as long as it uses SMTP test servers. Tests of one binary run in
/// parallel, and a port one of them reserved (free, with nothing listening, while it tests an
/// outage) must not be handed to another by [`free_port`] meanwhile.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A free loopback port (free when asked; tests start the server on it at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// Starts aiosmtpd on `port` with extra arguments (`--tlscert`, `--smtpscert`...).
    pub fn start(python: &Path, port: u16, extra: &[&str]) -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .args(extra)
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        // Listening is not enough: the port must be our child's, not another process's.
        let exited = |child: &mut Child| child.try_wait().ok().flatten();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = exited(&mut child) {
                panic!("aiosmtpd exited at start ({status}): is port {port} taken?");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        if let Some(status) = exited(&mut child) {
            panic!("aiosmtpd exited at start ({status}): port {port} answers for another process");
        }
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }

    /// Waits up to 10 s for `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} messages at the SMTP server, got {}",
            self.received().len()
        );
    }
}

//! A real ClamAV daemon for tests: Debian's `clamd` (package `clamav-daemon`) started in a
//! temporary directory with a signature database the test writes itself (the official
//! databases cannot be downloaded here): a body signature of the EICAR test file and an MD5
//! hash signature of a sample of our own. It listens on a unix socket and on a loopback port.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The EICAR anti-virus test file: harmless, and detected by every scanner that loads a
/// signature for it.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// A sample detected by its hash only.
pub const HASH_SAMPLE: &[u8] = b"WildID malware sample for the hash signature";
/// MD5 of [`HASH_SAMPLE`] (`printf %s '...' | md5sum`), the hash ClamAV's `.hdb` signatures
/// take.
const HASH_SAMPLE_MD5: &str = "e90b69a15534b91ecd99093bcf4862fa";
/// The names clamd reports (it marks signatures from a non-official database `.UNOFFICIAL`).
pub const EICAR_NAME: &str = "WildID.Test.EICAR.UNOFFICIAL";
/// See [`EICAR_NAME`].
pub const HASH_NAME: &str = "WildID.Test.Hash.UNOFFICIAL";

/// clamd, if installed. `None` outside CI when it is not; in CI (`CI=true`) its absence fails
/// the test.
///
/// # Panics
/// In CI without clamd.
pub fn binary() -> Option<PathBuf> {
    for candidate in ["/usr/sbin/clamd", "/usr/bin/clamd"] {
        if Path::new(candidate).is_file() {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("clamd is required in CI (Debian package clamav-daemon)");
    }
    eprintln!("\n*** SKIPPING CLAMD TESTS: install clamav-daemon ***\n");
    None
}

/// A running clamd; stopped when dropped.
pub struct Clamd {
    child: Child,
    dir: tempfile::TempDir,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Clamd {
    /// Starts clamd with the test signatures and waits until it answers `PING` (loading the
    /// engine takes a few seconds).
    pub fn start(binary: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(
            db.join("wildid-test.ndb"),
            format!("WildID.Test.EICAR:0:*:{}\n", hex(&EICAR[..40])),
        )
        .unwrap();
        std::fs::write(
            db.join("wildid-test.hdb"),
            format!("{HASH_SAMPLE_MD5}:{}:WildID.Test.Hash\n", HASH_SAMPLE.len()),
        )
        .unwrap();
        let port = crate::smtp::free_port();
        let config = dir.path().join("clamd.conf");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nDatabaseDirectory {db}\nLocalSocket {socket}\nTCPSocket {port}\n\
                 TCPAddr 127.0.0.1\nLogFile {log}\nStreamMaxLength 20M\nMaxThreads 4\n",
                db = db.display(),
                socket = dir.path().join("clamd.sock").display(),
                log = dir.path().join("clamd.log").display(),
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let clamd = Self { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !clamd.answers_ping() {
            assert!(
                Instant::now() < deadline,
                "clamd did not start: {}",
                std::fs::read_to_string(clamd.dir.path().join("clamd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        clamd
    }

    /// The unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("clamd.sock")
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream.write_all(b"zPING\0").is_err() {
            return false;
        }
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! A throwaway Postgres cluster for the test process.
//!
//! With `WILDID_TEST_DATABASE_URL` set (an admin URL whose user may create databases), that
//! server is used. Otherwise the Postgres server binaries (Debian package `postgresql`) are
//! found, `initdb` builds a cluster in a temporary directory and `postgres` serves it on a unix
//! socket only, with durability off (it is thrown away). As root, both run as the `postgres`
//! user, because `initdb` refuses to run as root. A watchdog shell stops the server and
//! removes the directory when the test process exits (see `watch_over`).
//!
//! When neither works: with `CI=true` the tests fail; elsewhere they are skipped with a loud
//! message.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PORT: u16 = 5432;

/// Where the cluster listens.
#[derive(Debug, Clone)]
pub struct PgServer {
    /// Admin URL (database `postgres`).
    admin_url: String,
    /// URL of a database named `{}` to format.
    base: String,
}

impl PgServer {
    /// URL of the admin database.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// URL of database `name` on this server.
    pub fn url_for(&self, name: &str) -> String {
        self.base.replace("{db}", name)
    }
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();

/// The shared server, started on first use. `None` when Postgres is unavailable outside CI.
///
/// # Panics
/// When Postgres is unavailable and `CI=true`: the suite must never silently skip there.
pub fn server() -> Option<PgServer> {
    // Started on a plain thread: start-up blocks, and callers are usually inside a runtime.
    match SERVER.get_or_init(|| {
        std::thread::spawn(start)
            .join()
            .unwrap_or_else(|_| Err("postgres start-up panicked".into()))
    }) {
        Ok(server) => Some(server.clone()),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("Postgres is required in CI but could not be started: {why}");
            }
            eprintln!(
                "\n*** SKIPPING POSTGRES TESTS: {why} ***\n*** install Debian's `postgresql` package or set WILDID_TEST_DATABASE_URL ***\n"
            );
            None
        }
    }
}

fn start() -> Result<PgServer, String> {
    if let Ok(url) = std::env::var("WILDID_TEST_DATABASE_URL") {
        return external(&url);
    }
    let cluster = Cluster::init()?;
    cluster.run()?;
    let server = cluster.server();
    wait_ready(&server)?;
    Ok(server)
}

/// A cluster this test process made in a temporary directory (removed, and its server
/// stopped, by the watchdog when the process ends).
struct Cluster {
    root: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    bindir: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    /// `initdb` in a fresh directory, the watchdog first.
    fn init() -> Result<Self, String> {
        let bindir = find_bindir().ok_or("no Postgres server binaries (initdb, postgres) found")?;
        let root = tempfile::Builder::new()
            .prefix("wildid-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let data = root.join("data");
        let socket = root.join("sock");
        std::fs::create_dir(&socket).map_err(|e| e.to_string())?;
        watch_over(&root, &data)?;
        let as_postgres = running_as_root();
        if as_postgres {
            let (uid, gid) =
                postgres_ids().ok_or("running as root but there is no `postgres` user")?;
            for dir in [&root, &socket] {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
        }
        let initdb = bindir.join("initdb");
        let status = command(as_postgres, &initdb)
            .args([
                "-D",
                path(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed ({status})"));
        }
        Ok(Self {
            root,
            data,
            socket,
            bindir,
            as_postgres,
        })
    }

    fn socket_file(&self) -> PathBuf {
        self.socket.join(format!(".s.PGSQL.{PORT}"))
    }

    /// Starts its server and waits until the socket is there.
    fn run(&self) -> Result<(), String> {
        let log = self.root.join("postgres.log");
        let postgres = self.bindir.join("postgres");
        let server_cmd = format!(
            "{runas}{postgres} -D {data} -k {socket} -p {PORT} -c listen_addresses= -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
             -c shared_buffers=64MB >>{log} 2>&1",
            runas = if self.as_postgres {
                "runuser -u postgres -- "
            } else {
                ""
            },
            postgres = path(&postgres),
            data = path(&self.data),
            socket = path(&self.socket),
            log = path(&log),
        );
        Command::new("sh")
            .args(["-c", &server_cmd])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.socket_file().exists() {
            if Instant::now() > deadline {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("postgres did not start within 60 s:\n{tail}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Stops its server (fast shutdown: clients are disconnected) and waits until it is gone.
    fn halt(&self) -> Result<(), String> {
        let pidfile = self.data.join("postmaster.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .map_err(|e| format!("no postmaster.pid: {e}"))?
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let signalled = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .map_err(|e| e.to_string())?;
        if !signalled.success() {
            return Err(format!("could not signal postgres {pid}"));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while pidfile.exists() || self.socket_file().exists() {
            if Instant::now() > deadline {
                return Err("postgres did not stop within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn server(&self) -> PgServer {
        let host = percent_encode(path(&self.socket));
        let base = format!("postgresql://postgres@{host}:{PORT}/{{db}}");
        PgServer {
            admin_url: base.replace("{db}", "postgres"),
            base,
        }
    }
}

/// A Postgres cluster of one test's own, which it may stop and start again (the shared one
/// must keep serving the other tests). `None` outside CI when Postgres is unavailable.
pub struct OwnCluster(Cluster);

impl OwnCluster {
    /// A fresh cluster, running.
    ///
    /// # Panics
    /// In CI, when it cannot be started.
    pub fn start() -> Option<Self> {
        // On a plain thread: start-up blocks, and callers are usually inside a runtime.
        let started = std::thread::spawn(|| {
            Cluster::init().and_then(|cluster| {
                cluster.run()?;
                wait_ready(&cluster.server())?;
                Ok(cluster)
            })
        })
        .join()
        .unwrap_or_else(|_| Err("postgres start-up panicked".into()));
        match started {
            Ok(cluster) => Some(Self(cluster)),
            Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("Postgres is required in CI but could not be started: {why}")
            }
            Err(why) => {
                eprintln!("\n*** SKIPPING A POSTGRES FAULT TEST: {why} ***\n");
                None
            }
        }
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        self.0.server().admin_url
    }

    /// Stops the server, as an outage would.
    ///
    /// # Panics
    /// When it does not stop.
    pub fn stop(&self) {
        if let Err(why) = self.0.halt() {
            panic!("{why}");
        }
    }

    /// Starts the server again on the same data.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&self) {
        let cluster = &self.0;
        let started = std::thread::scope(|scope| {
            scope
                .spawn(|| cluster.run().and_then(|()| wait_ready(&cluster.server())))
                .join()
                .unwrap_or_else(|_| Err("postgres restart panicked".into()))
        });
        if let Err(why) = started {
            panic!("{why}");
        }
    }
}

/// Starts the watchdog that, once this test process has ended, stops the server (if it got
/// that far) and removes `root`. It is started before `initdb`, so a run killed during start-up
/// leaves nothing either. It signals the postmaster itself (its pid is the first line of
/// `postmaster.pid`): as root the server runs under `runuser`, which does not pass SIGINT on, so
/// signalling the child of the shell left servers running and their watchdogs waiting forever
/// (50 leftover clusters, 18 GB of /tmp and a full disk). It ignores hang-up and termination
/// signals, so a test run stopped with Ctrl-C or a timeout is cleaned up too.
fn watch_over(root: &Path, data: &Path) -> Result<(), String> {
    let watchdog = format!(
        "trap '' HUP INT TERM; \
         while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; \
         pid=$(head -n 1 {pidfile} 2>/dev/null); \
         if [ -n \"$pid\" ]; then kill -INT \"$pid\" 2>/dev/null; i=0; \
           while [ $i -lt 100 ] && kill -0 \"$pid\" 2>/dev/null; do sleep 0.1; i=$((i+1)); done; \
           kill -KILL \"$pid\" 2>/dev/null; sleep 0.2; fi; \
         rm -rf {root}",
        parent = std::process::id(),
        pidfile = path(&data.join("postmaster.pid")),
        root = path(root),
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the postgres watchdog: {e}"))
}

/// A plain-SQL dump (`pg_dump`) of the database at `url`, data included: what an attacker who
/// steals a backup holds.
///
/// # Errors
/// When `pg_dump` cannot be found or fails.
pub fn dump(url: &str) -> Result<String, String> {
    let program = find_bindir()
        .map(|dir| dir.join("pg_dump"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("pg_dump"));
    let out = Command::new(&program)
        .arg("--no-owner")
        .arg(format!("--dbname={url}"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "pg_dump failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Loads a plain-SQL dump (from [`dump`]) into the database at `url` with `psql`, stopping at
/// the first error: what an operator's restore does.
///
/// # Errors
/// When `psql` cannot be found or a statement fails.
pub fn restore(url: &str, dump: &str) -> Result<(), String> {
    use std::io::Write as _;
    let program = find_bindir()
        .map(|dir| dir.join("psql"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("psql"));
    let mut child = Command::new(&program)
        .args(["--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1"])
        .arg(format!("--dbname={url}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    child
        .stdin
        .take()
        .ok_or("psql has no stdin")?
        .write_all(dump.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn external(url: &str) -> Result<PgServer, String> {
    let (prefix, rest) = url
        .rsplit_once('/')
        .ok_or("WILDID_TEST_DATABASE_URL has no database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let server = PgServer {
        admin_url: url.to_owned(),
        base: format!("{prefix}/{{db}}{query}"),
    };
    wait_ready(&server)?;
    Ok(server)
}

fn wait_ready(server: &PgServer) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    loop {
        let attempt = runtime.block_on(async {
            use diesel_async::{AsyncConnection, AsyncPgConnection};
            AsyncPgConnection::establish(server.admin_url())
                .await
                .map(|_| ())
        });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(format!("postgres not ready: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn find_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() && dir.join("postgres").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn postgres_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

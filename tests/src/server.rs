//! The real `wildid` binary, started as a child process on port 0 with its own data directory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `wildid` binary, built once per test process (a no-op when it is up to date); or the one
/// `WILDID_BIN` names (a benchmark's release build).
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(given) = std::env::var_os("WILDID_BIN") {
            return PathBuf::from(given);
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "wildid-app", "--bin", "wildid"])
            .current_dir(&workspace)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the wildid binary failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace.join("target"), PathBuf::from);
        target.join("debug").join("wildid")
    })
}

/// Runs `wildid ARGS` to completion with `envs` in `data_dir`; returns status, stdout, stderr.
pub fn run_cli(
    data_dir: &Path,
    envs: &[(&str, &str)],
    args: &[&str],
) -> (ExitStatus, String, String) {
    let mut command = Command::new(binary());
    clean_env(&mut command);
    let output = command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(envs.iter().copied())
        .output()
        .expect("wildid runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `wildid ARGS` in `data_dir` on a terminal (a pseudo-terminal made by `script`, from
/// util-linux, which every Debian has), as an operator at a shell would: what it printed to
/// the terminal (standard output and error together, with the terminal's control sequences).
pub fn run_cli_on_terminal(
    data_dir: &Path,
    envs: &[(&str, &str)],
    args: &[&str],
) -> (ExitStatus, String) {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(binary().to_string_lossy().into_owned())
        .chain(args.iter().map(|&a| a.to_owned()))
        .chain([
            "--data-dir".to_owned(),
            data_dir.to_string_lossy().into_owned(),
        ])
        .map(|word| quote(&word))
        .collect();
    // Under `timeout`, so a terminal that never ends cannot hold the whole suite.
    let mut command = Command::new("timeout");
    clean_env(&mut command);
    let output = command
        .args([
            "120",
            "script",
            "--quiet",
            "--return",
            "--command",
            &line.join(" "),
            "/dev/null",
        ])
        .env("TERM", "xterm-256color")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("timeout (coreutils) and script (util-linux) run");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Starts `wildid ARGS` in `data_dir` without waiting for it (to stop it half-way).
pub fn spawn_cli(data_dir: &Path, args: &[&str]) -> Child {
    let mut command = Command::new(binary());
    clean_env(&mut command);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wildid runs")
}

fn clean_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("WILDID_") || key == "DATABASE_URL" {
            command.env_remove(key.as_ref());
        }
    }
}

/// A running server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    /// How many of the output pipes are still being read.
    readers_open: Arc<AtomicUsize>,
    _owned_dir: Option<tempfile::TempDir>,
}

/// How to start a server.
#[derive(Default)]
pub struct ServerOptions {
    /// Environment variables (the test process's own `WILDID_*` are removed).
    pub envs: Vec<(String, String)>,
    /// Reuse this data directory (for restarts); a fresh one otherwise.
    pub data_dir: Option<PathBuf>,
    /// Listen here instead of `127.0.0.1:0`.
    pub bind: Option<String>,
    /// A program (and its arguments) that runs the server: it is given the `wildid` binary
    /// and its arguments last, and must `exec` them so that the process id stays the server's.
    pub wrapper: Vec<String>,
}

impl ServerOptions {
    /// Adds an environment variable.
    #[must_use]
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.envs.push((key.to_owned(), value.into()));
        self
    }

    /// Listens on `address` (`0.0.0.0:0`: every interface, a free port); the tests still
    /// talk to it over loopback.
    #[must_use]
    pub fn bind(mut self, address: &str) -> Self {
        self.bind = Some(address.to_owned());
        self
    }

    /// Uses an existing data directory.
    #[must_use]
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    /// Runs the server through `program` (see [`ServerOptions::wrapper`]).
    #[must_use]
    pub fn wrapped_in(mut self, program: &[&str]) -> Self {
        self.wrapper = program.iter().map(|&s| s.to_owned()).collect();
        self
    }
}

/// A server that exited before it listened.
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it printed.
    pub output: String,
}

impl Server {
    /// Starts a server on the embedded defaults in a fresh data directory.
    pub fn start() -> Server {
        Self::start_with(ServerOptions::default()).expect("server starts")
    }

    /// Starts a server and waits until its first log line announces the address.
    pub fn start_with(options: ServerOptions) -> Result<Server, StartFailure> {
        let (owned, data_dir) = match options.data_dir {
            Some(dir) => (None, dir),
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("data");
                (Some(dir), path)
            }
        };
        let mut command = match options.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary());
                command
            }
            None => Command::new(binary()),
        };
        clean_env(&mut command);
        command
            .args(["serve", "--bind"])
            .arg(options.bind.as_deref().unwrap_or("127.0.0.1:0"))
            .arg("--data-dir")
            .arg(&data_dir)
            .envs(options.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("wildid starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let readers_open = Arc::new(AtomicUsize::new(0));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let lines = Arc::clone(&lines);
            let open = Arc::clone(&readers_open);
            open.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // The first line at the usual filters (`the_first_log_line_announces_the_address_...`);
            // at debug level the database's own lines of the migration come before it.
            let announced = lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains("listening on http://"))
                .and_then(|l| address_in(l));
            if let Some(mut addr) = announced {
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                return Ok(Server {
                    child,
                    addr,
                    data_dir,
                    lines,
                    readers_open,
                    _owned_dir: owned,
                });
            }
            if let Some(status) = child.try_wait().unwrap() {
                drained(&readers_open);
                let output = lines.lock().unwrap().join("\n");
                return Err(StartFailure { status, output });
            }
            assert!(
                Instant::now() < deadline,
                "server did not announce its address: {:?}",
                lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a log line contains `needle` (up to 10 s).
    pub fn wait_for_log(&self, needle: &str) -> String {
        self.wait_for_log_where(&format!("{needle:?}"), |l| l.contains(needle))
    }

    /// Waits until a log line satisfies `wanted` (up to 10 s) and returns it. The log reaches
    /// the test through a pipe read by another thread, so a line the server wrote before it
    /// answered may still be on its way when the answer arrives: never assert on
    /// [`Server::logs`] for a line that must be there, wait for it.
    pub fn wait_for_log_where(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.logs().into_iter().find(|l| wanted(l)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {what}: {:#?}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM.
    pub fn signal_terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and waits for the exit (up to 30 s).
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        self.signal_terminate();
        let status = self.wait_exit(Duration::from_secs(30));
        let logs = self.logs();
        (status, logs)
    }

    /// Waits for the process to exit, then for the last of its output to be read.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                drained(&self.readers_open);
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit: {:#?}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits (up to 5 s) until every output pipe of an exited server has been read to its end;
/// a process the server started may hold one open longer, so this does not wait for ever.
fn drained(readers_open: &AtomicUsize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while readers_open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn address_in(line: &str) -> Option<SocketAddr> {
    let start = line.find("http://")? + "http://".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '.' || c == ':' || c == '[' || c == ']')
        })
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Two servers on one fresh Postgres database, each started with `options()` plus that
/// database and one shared set of keys (as an operator deploys several); `None` where Postgres
/// is not available (outside CI).
///
/// # Panics
/// When a server does not start.
pub async fn two_on_one_postgres(options: impl Fn() -> ServerOptions) -> Option<(Server, Server)> {
    let url = crate::db::fresh_postgres_url().await?;
    let wildid_adapters_db::DatabaseUrl::Postgres(raw) = &url else {
        unreachable!("a fresh Postgres URL is a Postgres URL")
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, generated, _) = run_cli(dir.path(), &[], &["keys", "generate"]);
    let start = || {
        let mut options = options().env("DATABASE_URL", raw.expose());
        for line in generated.lines().filter(|l| l.starts_with("WILDID_")) {
            let (key, value) = line.split_once('=').unwrap();
            options = options.env(key, value);
        }
        Server::start_with(options).unwrap()
    };
    Some((start(), start()))
}

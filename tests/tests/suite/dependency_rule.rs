//! The hexagon's dependency rule, checked on the real dependency graph (`cargo tree`):
//!
//! - `wildid-domain` depends on no adapter, no port crate and no I/O crate, even indirectly,
//!   and its code reads no clock, file, socket or randomness;
//! - `wildid-ports` depends on the domain and no adapter;
//! - adapters never depend on each other or on `wildid-app`;
//! - `wildid-app` (the composition root) depends on every adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ADAPTERS: &[&str] = &[
    "wildid-adapters-http",
    "wildid-adapters-db",
    "wildid-adapters-ai",
    "wildid-adapters-mail",
];
/// Crates that do I/O or run an event loop: none may reach the domain.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "reqwest",
    "diesel",
    "diesel-async",
    "libsqlite3-sys",
    "tokio-postgres",
    "lettre",
    "askama",
    "getrandom",
    "rand",
    "socket2",
];

/// Dependency sets from `cargo tree`, which resolves features for the one package asked about
/// (`cargo metadata` unifies features across the workspace and would blame the domain for what
/// other crates enable).
struct Graph;

impl Graph {
    fn load() -> Self {
        Graph
    }

    fn tree(&self, name: &str, depth: Option<u32>) -> BTreeSet<String> {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args([
                "tree", "--locked", "-p", name, "-e", "normal", "--target", "all", "--prefix",
                "none", "--format", "{p}",
            ])
            .current_dir(workspace);
        if let Some(depth) = depth {
            command.args(["--depth", &depth.to_string()]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    fn direct(&self, name: &str) -> BTreeSet<String> {
        self.tree(name, Some(1))
    }

    fn closure(&self, name: &str) -> BTreeSet<String> {
        self.tree(name, None)
    }
}

#[test]
fn the_domain_is_pure() {
    let graph = Graph::load();
    let reach = graph.closure("wildid-domain");
    let bad: Vec<&String> = reach
        .iter()
        .filter(|n| n.starts_with("wildid-") || IO_CRATES.contains(&n.as_str()))
        .collect();
    assert!(bad.is_empty(), "wildid-domain reaches {bad:?}");

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/domain/src");
    let forbidden = [
        "Utc::now",
        "Local::now",
        "SystemTime",
        "Instant::now",
        "std::fs",
        "std::net",
        "std::env",
        "thread_rng",
        "OsRng",
    ];
    let files = wildid_tests::sources::rust_files(&src);
    assert!(
        files.iter().any(|f| f.ends_with("visits/booking.rs")),
        "the walk reaches the domain's folders"
    );
    for path in files {
        let code = std::fs::read_to_string(&path).unwrap();
        for word in forbidden {
            assert!(
                !code.contains(word),
                "{} uses {word}: the domain takes time and randomness as inputs",
                path.display()
            );
        }
    }
}

#[test]
fn ports_depend_on_the_domain_and_no_adapter() {
    let graph = Graph::load();
    let reach = graph.closure("wildid-ports");
    assert!(reach.contains("wildid-domain"));
    for forbidden in
        ADAPTERS
            .iter()
            .chain(&["wildid-app", "axum", "diesel", "reqwest", "lettre", "hyper"])
    {
        assert!(
            !reach.contains(*forbidden),
            "wildid-ports reaches {forbidden}"
        );
    }
}

#[test]
fn adapters_do_not_depend_on_each_other() {
    let graph = Graph::load();
    for adapter in ADAPTERS {
        let reach = graph.closure(adapter);
        for other in ADAPTERS
            .iter()
            .chain(&["wildid-app"])
            .filter(|o| *o != adapter)
        {
            assert!(!reach.contains(*other), "{adapter} depends on {other}");
        }
        assert!(reach.contains("wildid-ports"), "{adapter} implements ports");
    }
}

#[test]
fn only_the_app_depends_on_every_adapter() {
    let graph = Graph::load();
    let app = graph.direct("wildid-app");
    for adapter in ADAPTERS {
        assert!(app.contains(*adapter), "wildid-app must compose {adapter}");
    }
    for crate_name in ["wildid-domain", "wildid-ports"] {
        let reach = graph.closure(crate_name);
        assert!(
            !reach.contains("wildid-app"),
            "{crate_name} depends on the app"
        );
    }
}

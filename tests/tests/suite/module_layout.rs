//! The workspace's layout rules, checked on the sources, so that a change that breaks one
//! fails here with the offending files named:
//!
//! - no source file of the HTTP adapter imports one that imports it back (directly or round
//!   a longer loop), so each file can be read with what it depends on;
//! - no page imports a JSON route file (what both need lives in the kit);
//! - no use case spells a URL path of the router (mail links come from `AccountLinks`);
//! - no source file outside tests grows past [`MAX_LINES`] lines of code before its tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The ceiling on a source file's lines before its test module: "about 400", with room for a
/// file to grow a little before it is split.
const MAX_LINES: usize = 440;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether a file holds only tests (a `tests.rs`, a file under a `tests/` folder, or a
/// fixture for unit tests).
fn is_test_file(relative: &str) -> bool {
    relative.contains("/tests/")
        || relative.ends_with("/tests.rs")
        || relative.ends_with("/fixture.rs")
        || relative.ends_with("/test_world.rs")
}

/// The code of a file before its unit tests (`#[cfg(test)] mod tests {`), without
/// test-only imports.
fn code_of(text: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            match lines.peek() {
                Some(next) if next.starts_with("mod tests {") => break,
                Some(_) => {
                    lines.next();
                    continue;
                }
                None => break,
            }
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// The module path of a source file of a crate (`src/routes/table/mod.rs` is
/// `routes::table`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The modules a file's code names through `crate::...` paths (grouped imports expanded),
/// resolved to the longest module that exists.
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut named = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let path = path.trim_end_matches(':').to_owned();
        let after = &rest[path.len()..];
        let group = after
            .strip_prefix("::{")
            .or_else(|| after.strip_prefix('{').filter(|_| path.is_empty()));
        if let Some(group) = group {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let item = item.split_whitespace().next().unwrap_or_default();
                if item.is_empty() {
                    continue;
                }
                named.push(if path.is_empty() {
                    item.to_owned()
                } else {
                    format!("{path}::{item}")
                });
            }
        } else {
            named.push(path);
        }
    }
    named
        .into_iter()
        .filter_map(|path| {
            let mut parts: Vec<&str> = path.split("::").collect();
            while !parts.is_empty() {
                let candidate = parts.join("::");
                if modules.contains(&candidate) {
                    return Some(candidate);
                }
                parts.pop();
            }
            None
        })
        .collect()
}

/// The HTTP adapter's import graph: module → the modules its code imports (not its own
/// descendants, which a parent declares rather than depends on).
fn http_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join("crates/adapters-http/src");
    let files: Vec<PathBuf> = wildid_tests::sources::rust_files(&src)
        .into_iter()
        .filter(|f| !is_test_file(&f.to_string_lossy()))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    files
        .iter()
        .map(|file| {
            let module = module_of(&src, file);
            let code = code_of(&std::fs::read_to_string(file).unwrap());
            let imported = imports(&code, &modules)
                .into_iter()
                .filter(|m| *m != module && !m.starts_with(&format!("{module}::")))
                .filter(|m| !module.starts_with(&format!("{m}::")))
                .collect();
            (module, imported)
        })
        .collect()
}

/// The groups of modules that import each other round a loop (Tarjan's strongly connected
/// components of more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_http_adapter_has_no_import_cycle() {
    let graph = http_graph();
    assert!(graph.len() > 50, "the adapter's files were found");
    let found = cycles(&graph);
    assert!(found.is_empty(), "modules importing each other: {found:?}");
}

#[test]
fn the_cycle_check_sees_a_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&graph), [vec!["a", "b", "c"]]);
    let modules: BTreeSet<String> = ["routes", "routes::journal_api", "kit"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        imports(
            "use crate::routes::journal_api::EntryView;\nuse crate::{kit, session};",
            &modules
        ),
        ["kit", "routes::journal_api"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

#[test]
fn no_page_imports_a_route_file() {
    let offending: Vec<String> = http_graph()
        .into_iter()
        .filter(|(module, _)| module.starts_with("pages"))
        .flat_map(|(module, imported)| {
            imported
                .into_iter()
                .filter(|m| m.starts_with("routes::") && !m.starts_with("routes::paths"))
                .map(move |m| format!("{module} imports {m}"))
        })
        .collect();
    assert!(offending.is_empty(), "{offending:?}");
}

#[test]
fn no_use_case_spells_a_path_of_the_router() {
    let services = workspace().join("crates/ports/src/services");
    let prefixes = [
        "\"/auth",
        "\"/account",
        "\"/api/",
        "\"/admin",
        "\"/history",
        "\"/worker",
    ];
    let mut offending = Vec::new();
    for file in wildid_tests::sources::rust_files(&services) {
        let relative = file
            .strip_prefix(&services)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if is_test_file(&format!("/{relative}")) {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if prefixes.iter().any(|p| line.contains(p)) {
                offending.push(format!("{relative}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "{offending:#?}");
}

#[test]
fn no_source_file_outgrows_the_ceiling() {
    let root = workspace();
    let mut too_long = Vec::new();
    let mut seen = 0;
    for file in wildid_tests::sources::rust_files(&root.join("crates")) {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if is_test_file(&relative) || relative.contains("/target/") {
            continue;
        }
        seen += 1;
        let lines = code_of(&std::fs::read_to_string(&file).unwrap())
            .lines()
            .count();
        if lines > MAX_LINES {
            too_long.push(format!("{relative}: {lines} lines"));
        }
    }
    assert!(seen > 200, "the sources were found ({seen})");
    assert!(
        too_long.is_empty(),
        "split these by concern (at most {MAX_LINES} lines before the tests): {too_long:#?}"
    );
}

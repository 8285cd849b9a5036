//! Every secret WildID makes comes from the operating system's CSPRNG (ASVS 6.5.3, 7.2.3,
//! 11.5.1). The services take their random bytes only through the `SecureRandom` port, and
//! tokens are built from fixed-size arrays of those bytes (`[u8; 32]` for tokens, `[u8; 16]`
//! for ids and nonces: the sizes are in the types). So the proof is about what can fill the
//! port and what else can make random numbers:
//!
//! - outside test code, the only implementation of `SecureRandom` is `OsRandom`
//!   (`getrandom(2)`), so the composition root cannot wire anything else;
//! - no crate of the workspace depends on a user-space generator (`rand`, `fastrand`...), and
//!   `getrandom` is called directly in the places listed below only, each with its reason;
//! - the mocks of the ports (feature `mock`) are enabled for tests only, never in the
//!   `[dependencies]` of a crate.
//!
//! That the session's tokens are exactly the port's bytes is proven in
//! `ports::services::sessions::randomness_tests`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// Direct calls to the OS generator allowed outside the port, and why.
const DIRECT_CALLS: &[(&str, &str)] = &[
    // OsRandom itself: the port's one implementation.
    ("crates/ports/src/builtin/random.rs", "getrandom::fill"),
    // The argon2 salt, drawn inside the hasher (a salt is not secret; it is still OS random).
    ("crates/ports/src/builtin/password.rs", "getrandom::fill"),
    // Jitter between provider retries: not a secret, and never a reason to fail.
    ("crates/adapters-ai/src/resilience.rs", "getrandom::u64"),
];

/// Ways to make random numbers other than through the port.
const GENERATORS: &[&str] = &[
    "getrandom::",
    "rand::",
    "rand_core::",
    "thread_rng",
    "OsRng",
    "StdRng",
    "SmallRng",
    "fastrand::",
    "RandomState::new",
];

/// Crates that are user-space generators; none may be a dependency of the workspace.
const GENERATOR_CRATES: &[&str] = &["rand", "rand_core", "rand_chacha", "fastrand", "oorandom"];

/// The part of a source file that is not test code: everything before its inline test
/// module (`#[cfg(test)] mod tests { ... }`, which comes last in this workspace). A test
/// module in a file of its own (`#[cfg(test)] mod fixture;`) is dropped by name by the
/// caller; anything else behind `#[cfg(test)]` is scanned like production code.
fn production_part(source: &str) -> &str {
    let mut from = 0;
    while let Some(at) = source[from..].find("#[cfg(test)]") {
        let start = from + at;
        let after = source[start + "#[cfg(test)]".len()..].trim_start();
        let declaration = after.split(['{', ';']).next().unwrap_or_default();
        let inline_module = declaration.trim_start().starts_with("mod ")
            && after[declaration.len()..].starts_with('{');
        if inline_module {
            return &source[..start];
        }
        from = start + 1;
    }
    source
}

/// Names of the files a source declares as test-only modules (`#[cfg(test)] mod x;`).
fn test_modules(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("#[cfg(test)]") {
        rest = &rest[at + "#[cfg(test)]".len()..];
        let next = rest.trim_start();
        for prefix in ["mod ", "pub(crate) mod ", "pub(super) mod "] {
            if let Some(decl) = next.strip_prefix(prefix)
                && let Some(name) = decl.split(';').next().filter(|n| !n.contains('{'))
            {
                out.push(format!("{}.rs", name.trim()));
            }
        }
    }
    out
}

/// What `source` (at `path`, relative to the workspace) does that the rules above forbid.
fn violations(path: &str, source: &str) -> Vec<String> {
    let code = production_part(source);
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let text = line.trim_start();
        if text.starts_with("//") {
            continue;
        }
        if let Some(rest) = text.split("impl SecureRandom for ").nth(1) {
            let ty = rest.split_whitespace().next().unwrap_or_default();
            if ty != "OsRandom" {
                found.push(format!(
                    "{path}:{}: SecureRandom implemented by {ty}",
                    n + 1
                ));
            }
        }
        for generator in GENERATORS {
            if text.contains(generator) {
                let allowed = DIRECT_CALLS
                    .iter()
                    .any(|(file, call)| path == *file && text.contains(call));
                if !allowed {
                    found.push(format!("{path}:{}: {generator} outside the port", n + 1));
                }
                break;
            }
        }
    }
    found
}

/// What a crate manifest does that the rules above forbid.
fn manifest_violations(path: &str, manifest: &str) -> Vec<String> {
    let value: toml::Table = toml::from_str(manifest).unwrap();
    let mut found = Vec::new();
    let sections = [
        value.get("dependencies"),
        value.get("workspace").and_then(|w| w.get("dependencies")),
    ];
    for deps in sections.into_iter().flatten() {
        let Some(table) = deps.as_table() else {
            continue;
        };
        for (name, spec) in table {
            if GENERATOR_CRATES.contains(&name.as_str()) {
                found.push(format!("{path}: depends on the generator {name}"));
            }
            let mock = spec
                .get("features")
                .and_then(|f| f.as_array())
                .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("mock")));
            if mock {
                found.push(format!("{path}: {name} with its mocks outside tests"));
            }
        }
    }
    found
}

#[test]
fn every_secret_comes_from_the_operating_system() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // Test directories are test code.
    let crates = root.join("crates");
    let files: Vec<PathBuf> = wildid_tests::sources::rust_files(&crates)
        .into_iter()
        .filter(|f| {
            !f.strip_prefix(&crates)
                .unwrap()
                .components()
                .any(|c| c.as_os_str() == "tests")
        })
        .collect();
    assert!(files.len() > 50, "the workspace's sources were found");
    let mut test_only = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let dir = file.parent().unwrap();
        let stem = file.file_stem().unwrap();
        for module in test_modules(&source) {
            // `mod x;` in `a/b.rs` lives in `a/b/x.rs`; in `a/mod.rs` or `lib.rs`, in `a/x.rs`.
            test_only.push(dir.join(stem).join(&module));
            test_only.push(dir.join(&module));
        }
    }
    let mut found = Vec::new();
    let mut implementations = 0;
    for file in files.iter().filter(|f| !test_only.contains(f)) {
        let source = std::fs::read_to_string(file).unwrap();
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        implementations += production_part(&source)
            .matches("impl SecureRandom for OsRandom")
            .count();
        found.extend(violations(&relative, &source));
    }
    assert_eq!(implementations, 1, "the scan sees OsRandom");
    // And OsRandom is the operating system's generator, with no fallback.
    let os_random =
        std::fs::read_to_string(root.join("crates/ports/src/builtin/random.rs")).unwrap();
    let body = os_random
        .split("impl SecureRandom for OsRandom")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .unwrap();
    assert!(
        body.contains("getrandom::fill(buf).map_err(|_| RandomUnavailable)"),
        "OsRandom fills from getrandom and fails without it: {body}"
    );
    let mut manifests = vec![root.join("Cargo.toml")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        manifests.push(entry.unwrap().path().join("Cargo.toml"));
    }
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let relative = manifest.strip_prefix(root).unwrap().to_string_lossy();
        found.extend(manifest_violations(&relative, &text));
    }
    assert!(
        found.is_empty(),
        "random numbers from somewhere else:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_flags_every_other_source() {
    let any = "crates/ports/src/services/x.rs";
    for snippet in [
        "impl SecureRandom for CounterRandom {",
        "let n = rand::random::<u64>();",
        "let mut rng = rand::thread_rng();",
        "let key = OsRng.gen::<[u8; 32]>();",
        "getrandom::fill(&mut token)?;",
        "let x = fastrand::u64(..);",
    ] {
        assert_eq!(violations(any, snippet).len(), 1, "{snippet}");
    }
    // The listed calls are allowed where they are listed, and test code is not production.
    assert!(violations("crates/ports/src/builtin/random.rs", "getrandom::fill(buf)").is_empty());
    assert!(violations(any, "getrandom::u64()").len() == 1);
    assert!(
        violations(
            any,
            "#[cfg(test)]\nmod tests { impl SecureRandom for Fake {} }"
        )
        .is_empty()
    );
    assert!(violations(any, "// rand::random() is not used").is_empty());
    // Code after a test module's declaration is still production code.
    assert_eq!(
        violations(
            any,
            "#[cfg(test)]\nmod fixture;\nfn f() { getrandom::fill(&mut b); }"
        )
        .len(),
        1
    );
    assert_eq!(
        violations(
            any,
            "#[cfg(test)]\nfn helper() {}\nfn f() { getrandom::fill(&mut b); }"
        )
        .len(),
        1
    );
    assert_eq!(
        test_modules("mod a;\n#[cfg(test)]\nmod fixture;\n#[cfg(test)]\nmod tests {"),
        vec!["fixture.rs".to_owned()]
    );
    let manifest = "[dependencies]\nrand = \"0.9\"\nwildid-ports = { workspace = true, features = [\"mock\"] }\n[dev-dependencies]\nwildid-ports = { workspace = true, features = [\"mock\"] }\n";
    assert_eq!(manifest_violations("Cargo.toml", manifest).len(), 2);
}

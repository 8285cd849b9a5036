//! No secret is written in the code (ASVS 13.3.1): keys, peppers and passwords come from the
//! environment or files (`crates/app/src/secrets.rs`), never from a literal. This reads every
//! Rust file of `crates/` outside test code and fails naming the place of anything that looks
//! like a key: a secret type built from a literal, or a string literal shaped like a key (a
//! base64 value of 32 bytes or more, a long hexadecimal value, a PEM block).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Literals that look like keys but are public, each with why.
const PUBLIC_LITERALS: &[(&str, &str)] = &[(
    "684fd3db38fbc30a7fb55d19845730749566ae5e5f50aa4d112fbefdf4aca028",
    "the SHA-256 of the committed model file, checked at load (adapters-ai local_model)",
)];

/// Secret types built from a literal in production code, each with why it is no secret.
const ALLOWED_SECRET_LITERALS: &[(&str, &str)] = &[(
    "crates/ports/src/builtin/kdf.rs",
    "the unreachable fallback of derive_key (HMAC takes keys of any length)",
)];

/// The test-only module files: `#[cfg(test)] mod name;` in a file makes its child `name` test
/// code.
fn test_modules(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut tests = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for pair in lines.windows(2) {
            if pair[0].trim() != "#[cfg(test)]" {
                continue;
            }
            let declared = pair[1].trim();
            let Some(name) = declared
                .strip_prefix("mod ")
                .or_else(|| declared.strip_prefix("pub(crate) mod "))
                .or_else(|| declared.strip_prefix("pub mod "))
                .and_then(|rest| rest.strip_suffix(';'))
            else {
                continue;
            };
            let stem = file.file_stem().unwrap().to_string_lossy();
            let dir = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
                file.parent().unwrap().to_path_buf()
            } else {
                file.with_extension("")
            };
            tests.insert(dir.join(format!("{name}.rs")));
            tests.insert(dir.join(name).join("mod.rs"));
        }
    }
    tests
}

/// The production part of a file: everything before its first `#[cfg(test)]` item (test
/// modules come last, by this workspace's layout).
fn production_part(source: &str) -> &str {
    source
        .find("#[cfg(test)]")
        .map_or(source, |at| &source[..at])
}

/// Whether `text` (a string literal's content) is shaped like key material.
fn looks_like_a_key(text: &str) -> bool {
    let base64 = text.len() >= 43
        && text.trim_end_matches('=').chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '-' || c == '_'
        })
        && text.chars().any(|c| c.is_ascii_lowercase())
        && text.chars().any(|c| c.is_ascii_uppercase())
        && text.chars().filter(char::is_ascii_digit).count() >= 3
        && !text.contains("__")
        // One alphabet: standard (`+`, `/`) or URL-safe (`-`, `_`), not both as in a path.
        && !(text.contains(['+', '/']) && text.contains(['-', '_']));
    let hex = text.len() >= 32
        && text.chars().all(|c| c.is_ascii_hexdigit())
        && text.chars().any(|c| c.is_ascii_digit())
        && text.chars().any(|c| c.is_ascii_alphabetic());
    let pem = text.contains("-----BEGIN") && text.contains("PRIVATE KEY");
    base64 || hex || pem
}

/// Every key-like thing in the production part of `source` (a file at `path`), as
/// `path:line: what`.
fn findings(path: &str, source: &str) -> Vec<String> {
    let code = production_part(source);
    let line_of = |at: usize| code[..at].lines().count().max(1);
    let mut found = Vec::new();
    for constructor in [
        "SecretString::new(\"",
        "SecretString::new(String::from(\"",
        "SecretBytes::new(vec![",
        "SecretBytes::new(b\"",
        "Fernet::new(\"",
    ] {
        for (at, _) in code.match_indices(constructor) {
            if !ALLOWED_SECRET_LITERALS
                .iter()
                .any(|(file, _)| *file == path)
            {
                found.push(format!("{path}:{}: {constructor}…", line_of(at)));
            }
        }
    }
    let mut rest = code;
    let mut offset = 0;
    while let Some(open) = rest.find('"') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            break;
        };
        let literal = &after[..close];
        if looks_like_a_key(literal) && !PUBLIC_LITERALS.iter().any(|(l, _)| *l == literal) {
            found.push(format!(
                "{path}:{}: a key-like literal {}…",
                line_of(offset + open),
                &literal[..12]
            ));
        }
        let consumed = open + 1 + close + 1;
        offset += consumed;
        rest = &rest[consumed..];
    }
    found
}

#[test]
fn no_secret_is_written_in_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let files = wildid_tests::sources::rust_files(&root.join("crates"));
    assert!(files.len() > 50, "the workspace's sources were found");
    let test_only = test_modules(&files);
    let mut found = Vec::new();
    let mut read = 0;
    for file in &files {
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let is_test = test_only.contains(file)
            || relative.contains("/tests/")
            || file
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().ends_with("tests"));
        if is_test {
            continue;
        }
        read += 1;
        found.extend(findings(&relative, &std::fs::read_to_string(file).unwrap()));
    }
    assert!(read > 50);
    assert!(
        found.is_empty(),
        "secrets belong in the environment or a file, not the code:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_each_shape_of_written_secret() {
    let file = "crates/app/src/x.rs";
    let written = [
        r#"let key = SecretString::new("c2VjcmV0".into());"#,
        r#"let pepper = SecretBytes::new(b"pepper-pepper-pepper-pepper-1234".to_vec());"#,
        "let master = SecretBytes::new(vec![7; 64]);",
        r#"const FERNET: &str = "Nz0ZyRLx3pJkqvR8bU6mD1tW4eYc9HfA2gSi5oKjQlE=";"#,
        r#"const SESSION: &str = "q8XnV2kLpR7tZ0bW4yHs9dF3jM6cA1gE5uN8iO2rT7wK4xB0vY3zQ6lP9mS1hJ5";"#,
        r#"let token = "3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e";"#,
        "const PEM: &str = \"-----BEGIN PRIVATE KEY-----MIIEvQ\";",
    ];
    for snippet in written {
        assert_eq!(findings(file, snippet).len(), 1, "not found: {snippet}");
    }
    let ordinary = [
        r#"let var = "WILDID_ANONYMOUS_SESSIONS_PER_HOUR";"#,
        r#"let path = "/api/admin/users/00000000-0000-4000-8000-000000000000/role";"#,
        r#"let model = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8";"#,
        r#"let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";"#,
        r#"let kind = "application/x-www-form-urlencoded";"#,
        "#[cfg(test)]\nmod tests { const K: &str = \"Nz0ZyRLx3pJkqvR8bU6mD1tW4eYc9HfA2gSi5oKjQlE=\"; }",
    ];
    for snippet in ordinary {
        assert_eq!(findings(file, snippet), Vec::<String>::new(), "{snippet}");
    }
}

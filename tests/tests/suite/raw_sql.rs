//! No raw SQL is built at run time (ASVS 1.2.4). Queries go through diesel's query builder,
//! which binds every value; the few raw statements (a health probe, pragmas, the migration
//! lock, test fixtures) must be string literals or constants, and only the database adapter
//! may write them. This reads every Rust file of `crates/` and fails naming the place of any
//! raw SQL call whose text is computed (a `format!`, a concatenation, a variable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// The ways to hand diesel SQL text.
const RAW_SQL_CALLS: &[&str] = &[
    "sql_query(",
    "batch_execute(",
    "sql::<",
    "dsl::sql(",
    "sql_literal(",
];

/// Arguments that are not literals but are `&'static str` by type, with where they come from.
const STATIC_BINDINGS: &[(&str, &str)] = &[(
    "crates/adapters-db/src/pool.rs",
    "pragmas", // `let pragmas: &'static str = $pragmas;`, the macro given SQLITE_PRAGMAS/""
)];

/// The text between the parentheses (or angle-then-parentheses) that follow `at`.
fn argument(source: &str, at: usize) -> &str {
    let rest = &source[at..];
    let Some(open) = rest.find('(') else {
        return rest;
    };
    let mut depth = 0;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &rest[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    rest
}

/// Whether `argument` is SQL text fixed at compile time: a string literal (plain or raw), or
/// a constant (`UPPER_CASE`, possibly borrowed).
fn is_fixed(argument: &str) -> bool {
    let a = argument.trim().trim_end_matches(',').trim();
    let literal = (a.starts_with('"') || a.starts_with("r\"") || a.starts_with("r#\""))
        && (a.ends_with('"') || a.ends_with("\"#"))
        && !a.contains("\" +")
        && !a.contains("+ \"");
    let constant = {
        let name = a.trim_start_matches('&');
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    literal || constant
}

/// Every raw SQL call of `source` (a file at `path`, relative to the workspace) that is not
/// fixed text, as `path:line: call(argument)`.
fn computed_sql(path: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for call in RAW_SQL_CALLS {
        for (at, _) in source.match_indices(call) {
            let line = source[..at].lines().count().max(1);
            let line_text = source[..at].rsplit('\n').next().unwrap_or_default();
            if line_text.trim_start().starts_with("//") {
                continue;
            }
            let arg = argument(source, at);
            let allowed_binding = STATIC_BINDINGS
                .iter()
                .any(|(file, name)| path == *file && arg.trim() == *name);
            if !path.starts_with("crates/adapters-db/") {
                found.push(format!(
                    "{path}:{line}: raw SQL outside the database adapter"
                ));
            } else if !is_fixed(arg) && !allowed_binding {
                found.push(format!("{path}:{line}: {call}{})", arg.trim()));
            }
        }
    }
    found
}

#[test]
fn raw_sql_is_never_computed_at_run_time() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let files = wildid_tests::sources::rust_files(&root.join("crates"));
    assert!(files.len() > 50, "the workspace's sources were found");
    let mut found = Vec::new();
    let mut raw_calls = 0;
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        raw_calls += RAW_SQL_CALLS
            .iter()
            .map(|c| source.matches(c).count())
            .sum::<usize>();
        found.extend(computed_sql(&relative, &source));
    }
    assert!(raw_calls > 0, "the scan sees the raw statements that exist");
    assert!(
        found.is_empty(),
        "raw SQL built at run time:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_tells_fixed_text_from_computed_text() {
    let db = "crates/adapters-db/src/x.rs";
    let fixed = [
        r#"diesel::sql_query("SELECT 1")"#,
        "conn.batch_execute(SQLITE_PRAGMAS)",
        "conn.batch_execute(&PG_LOCK)",
        "conn.batch_execute(r#\"PRAGMA a; PRAGMA b;\"#)",
        "conn.batch_execute(\n    \"BEGIN; \\\n     COMMIT;\",\n)",
    ];
    for snippet in fixed {
        assert_eq!(computed_sql(db, snippet), Vec::<String>::new(), "{snippet}");
    }
    let computed = [
        r#"diesel::sql_query(format!("SELECT * FROM users WHERE email = '{email}'"))"#,
        r#"conn.batch_execute(&format!("DROP TABLE {table}"))"#,
        r#"diesel::sql_query("SELECT " + column)"#,
        "diesel::sql_query(query)",
        "diesel::dsl::sql::<Bool>(&clause)",
    ];
    for snippet in computed {
        assert_eq!(computed_sql(db, snippet).len(), 1, "{snippet}");
    }
    assert_eq!(
        computed_sql(
            "crates/adapters-http/src/x.rs",
            r#"diesel::sql_query("SELECT 1")"#
        )
        .len(),
        1,
        "raw SQL outside the database adapter"
    );
}

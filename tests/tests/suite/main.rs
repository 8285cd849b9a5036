//! WildID's integration suite, one test binary: the repository contracts on SQLite and
//! Postgres, black-box tests of the real `wildid` binary and its HTTP API, and the static
//! checks of the workspace (the dependency rule, no raw SQL).
//!
//! One binary rather than one per file: each test binary links the whole dependency graph,
//! and twenty of them cost minutes of linking and gigabytes of disk on every clean build.
//! Run one part with a filter, e.g. `cargo test -p wildid-tests --test suite journal::`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_data;
mod admin;
mod admin_console;
mod api_fuzz;
mod auth;
mod backup;
mod captcha;
mod contract;
mod defenses;
mod dependency_rule;
mod disk_full;
mod email_change;
mod faults;
mod first_admin;
mod identify;
mod interrupted;
mod journal;
mod keys;
mod mail;
mod malware_scan;
mod metrics;
mod module_layout;
mod offline_model;
mod pepper_rotation;
mod privacy;
mod profile;
mod provider_resilience;
mod randomness;
mod raw_sql;
mod safe_methods;
mod second_factor;
mod secrets_in_code;
mod server;
mod several_servers;
mod visits;

//! Shared harness of WildID's integration tests: a throwaway Postgres cluster, fresh databases
//! of both backends, and the `wildid` binary started as a real server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::print_stdout
)]

pub mod accounts;
pub mod captcha;
pub mod clamd;
pub mod client;
pub mod db;
pub mod pg;
pub mod photos;
pub mod provider;
pub mod scrape;
pub mod server;
pub mod smtp;
pub mod sources;
pub mod stats;

//! The repository contract suite: every rule the port documentation states, checked against
//! every backend (a fresh SQLite file and a fresh Postgres database per test).

pub mod accounts;
pub mod audit;
pub mod captchas;
pub mod exposures;
pub mod fixtures;
pub mod held_photos;
pub mod journal;
pub mod leases;
pub mod sealed;
pub mod sessions;
pub mod users;
pub mod visits;

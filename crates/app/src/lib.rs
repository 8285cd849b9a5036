//! WildID's composition root and command line. Small on purpose: it reads the configuration
//! once, builds the adapters, hands them to the core and runs the chosen command.

pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod data_dir;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod secrets;
pub mod serve;
pub mod settings_sheet;
mod startup_checks;

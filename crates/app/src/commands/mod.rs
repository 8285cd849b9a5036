//! The subcommands. Each prints its result on standard output and errors on standard error,
//! and returns the exit status: 0 success (also when the reader of the output went away, as
//! in `wildid config check | head -2`), 1 a check failed, 2 the command could not run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// Prints a line on standard output, like `println!`, but a reader that has gone away
/// (`wildid config check | head -2`) ends the command quietly (see [`output::write`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod admin;
pub mod audit;
mod config_check;
pub mod keys;
pub mod output;
pub mod purge;
pub mod rekey_emails;
pub mod users;

pub use config_check::config_check;

use std::process::ExitCode;

use wildid_adapters_db::{Database, PoolOptions, run_migrations};

use crate::config::Settings;
use crate::serve;

/// Prints `error` and returns exit status 2.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
}

/// `wildid config check` with values that do not parse: prints every bad value (`error`),
/// then which checks could therefore not run, and returns exit status 2.
pub fn config_unreadable(error: &dyn std::fmt::Display) -> ExitCode {
    let code = fail(error);
    eprintln!(
        "not checked: the secrets, the offline model, the database, the mail transport and the \
         providers (they need the values above)"
    );
    code
}

/// The database of an existing deployment, for a one-off command (two connections); a SQLite
/// file that does not exist yet is an error, never created. On failure the error is printed
/// and its exit code (2) returned.
pub fn existing_database(settings: &Settings) -> Result<std::sync::Arc<Database>, ExitCode> {
    if let wildid_adapters_db::DatabaseUrl::Sqlite { path, .. } = &settings.database
        && !path.exists()
    {
        return Err(fail(&format!(
            "no database at {}: start the server or run `wildid migrate` first",
            path.display()
        )));
    }
    Database::open(
        &settings.database,
        PoolOptions {
            max_connections: 2,
            ..PoolOptions::default()
        },
    )
    .map_err(|e| fail(&e))
}

/// `wildid serve`.
pub async fn serve(settings: Settings) -> ExitCode {
    match serve::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        // Once: in the log when logging has started (a collector reads it there), else as
        // a plain line.
        Err(e) if tracing::dispatcher::has_been_set() => {
            tracing::error!(error = %e, "server could not run");
            ExitCode::from(2)
        }
        Err(e) => fail(&e),
    }
}

/// `wildid migrate`.
pub async fn migrate(settings: &Settings) -> ExitCode {
    if let wildid_adapters_db::DatabaseUrl::Sqlite { create: true, .. } = settings.database
        && let Err(e) = crate::data_dir::ensure(&settings.data_dir)
    {
        return fail(&e);
    }
    match run_migrations(&settings.database).await {
        Ok(applied) if applied.is_empty() => {
            say!("{}: up to date", settings.database.redacted());
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            for version in &applied {
                say!("applied {version}");
            }
            say!(
                "{}: {} migration(s) applied",
                settings.database.redacted(),
                applied.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

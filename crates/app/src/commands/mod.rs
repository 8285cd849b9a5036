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

pub mod audit;
pub mod keys;
pub mod output;
pub mod purge;
pub mod users;

use std::process::ExitCode;

use wildid_adapters_db::{Database, PoolOptions, run_migrations};

use crate::config::{Provider, Settings};
use crate::{compose, secrets, serve};

/// Prints `error` and returns exit status 2.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
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
        wildid_adapters_db::PoolOptions {
            max_connections: 2,
            ..wildid_adapters_db::PoolOptions::default()
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

/// `items` joined by commas, or "none".
fn model_source(source: &wildid_adapters_ai::ModelSource) -> String {
    match source {
        wildid_adapters_ai::ModelSource::Embedded => "built-in MobileNetV2 weights".to_owned(),
        wildid_adapters_ai::ModelSource::File(path) => format!("weights from {}", path.display()),
    }
}

fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `wildid config check`.
pub async fn config_check(settings: &Settings) -> ExitCode {
    let mut ok = true;
    say!("environment      {:?}", settings.environment);
    say!("bind             {}", settings.bind);
    say!("data directory   {}", settings.data_dir.display());
    say!(
        "log              {} ({:?})",
        settings.log_filter,
        settings.log_format
    );
    say!("secure cookies   {}", compose::secure_cookies(settings));
    say!(
        "allowed hosts    {} (and the public URL's host)",
        settings.allowed_hosts.join(", ")
    );
    say!(
        "CORS origins     {} (and the public URL's origin)",
        listed(&settings.cors_origins)
    );
    say!("map tile origins {}", listed(&settings.map_tile_origins));
    let ai = &settings.identification;
    if ai.chain.is_empty() {
        say!("identification   none (POST /api/identify answers 503)");
    }
    for (i, provider) in ai.chain.iter().enumerate() {
        let label = if i == 0 {
            "identification  "
        } else {
            "  then          "
        };
        match provider {
            Provider::Remote(p) => say!(
                "{label} {} at {} (model {}, key {}, {} retries, budget {} s)",
                p.name,
                p.base_url,
                p.model,
                if p.api_key.is_some() { "set" } else { "none" },
                ai.retry.retries,
                ai.retry.budget.as_secs()
            ),
            Provider::LocalModel(source) => match compose::local_model(source) {
                Ok(_) => say!("{label} local-model, offline ({})", model_source(source)),
                Err(e) => {
                    ok = false;
                    say!("{label} local-model ERROR: {e}");
                }
            },
        }
    }
    say!("upload limit     {} bytes", settings.max_upload_bytes);
    let journal = &settings.journal;
    say!(
        "journal          photos up to {} bytes, {} bytes per person",
        journal.photo_max_bytes,
        journal.allowance_bytes
    );
    say!(
        "geoprivacy       sightings obscured from {} (IUCN) on",
        journal.obscure_from.code().unwrap_or("-")
    );
    say!(
        "retention        visit data {} days, read notifications {} days (purged daily); spent sign-in links and delivered mail {} day(s)",
        settings.retention.visit_mappings().num_days(),
        settings.retention.read_notifications().num_days(),
        settings.retention.spent_tokens().num_days()
    );
    match secrets::check(settings) {
        Ok(origin) => say!("secrets          {origin}"),
        Err(e) => {
            ok = false;
            say!("secrets          ERROR: {e}");
        }
    }
    let database = settings.database.redacted();
    match &settings.database {
        wildid_adapters_db::DatabaseUrl::Sqlite { path, create: true } if !path.exists() => {
            say!("database         {database} (will be created at first start)");
        }
        url => match Database::open(
            url,
            PoolOptions {
                max_connections: 1,
                acquire_timeout: serve::CHECK_TIMEOUT,
            },
        ) {
            Ok(db) => match db.health().ping().await {
                Ok(()) => say!("database         {database} (reachable)"),
                Err(e) => {
                    ok = false;
                    say!("database         {database} ERROR: {e}");
                }
            },
            Err(e) => {
                ok = false;
                say!("database         {database} ERROR: {e}");
            }
        },
    }
    if ok {
        say!("configuration OK");
        ExitCode::SUCCESS
    } else {
        say!("configuration has errors");
        ExitCode::from(1)
    }
}

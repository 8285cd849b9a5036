//! The subcommands. Each prints its result on standard output and errors on standard error,
//! and returns the exit status: 0 success, 1 a check failed, 2 the command could not run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod keys;
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

/// `wildid serve`.
pub async fn serve(settings: Settings) -> ExitCode {
    match serve::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            fail(&e)
        }
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
            println!("{}: up to date", settings.database.redacted());
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            for version in &applied {
                println!("applied {version}");
            }
            println!(
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
    println!("environment      {:?}", settings.environment);
    println!("bind             {}", settings.bind);
    println!("data directory   {}", settings.data_dir.display());
    println!(
        "log              {} ({:?})",
        settings.log_filter, settings.log_format
    );
    println!("secure cookies   {}", compose::secure_cookies(settings));
    println!(
        "allowed hosts    {} (and the public URL's host)",
        settings.allowed_hosts.join(", ")
    );
    println!(
        "CORS origins     {} (and the public URL's origin)",
        listed(&settings.cors_origins)
    );
    println!("map tile origins {}", listed(&settings.map_tile_origins));
    let ai = &settings.identification;
    if ai.chain.is_empty() {
        println!("identification   none (POST /api/identify answers 503)");
    }
    for (i, provider) in ai.chain.iter().enumerate() {
        let label = if i == 0 {
            "identification  "
        } else {
            "  then          "
        };
        match provider {
            Provider::Remote(p) => println!(
                "{label} {} at {} (model {}, key {}, {} retries, budget {} s)",
                p.name,
                p.base_url,
                p.model,
                if p.api_key.is_some() { "set" } else { "none" },
                ai.retry.retries,
                ai.retry.budget.as_secs()
            ),
            Provider::LocalModel(source) => match compose::local_model(source) {
                Ok(_) => println!("{label} local-model, offline ({})", model_source(source)),
                Err(e) => {
                    ok = false;
                    println!("{label} local-model ERROR: {e}");
                }
            },
        }
    }
    println!("upload limit     {} bytes", settings.max_upload_bytes);
    match secrets::check(settings) {
        Ok(origin) => println!("secrets          {origin}"),
        Err(e) => {
            ok = false;
            println!("secrets          ERROR: {e}");
        }
    }
    let database = settings.database.redacted();
    match &settings.database {
        wildid_adapters_db::DatabaseUrl::Sqlite { path, create: true } if !path.exists() => {
            println!("database         {database} (will be created at first start)");
        }
        url => match Database::open(
            url,
            PoolOptions {
                max_connections: 1,
                acquire_timeout: serve::CHECK_TIMEOUT,
            },
        ) {
            Ok(db) => match db.health().ping().await {
                Ok(()) => println!("database         {database} (reachable)"),
                Err(e) => {
                    ok = false;
                    println!("database         {database} ERROR: {e}");
                }
            },
            Err(e) => {
                ok = false;
                println!("database         {database} ERROR: {e}");
            }
        },
    }
    if ok {
        println!("configuration OK");
        ExitCode::SUCCESS
    } else {
        println!("configuration has errors");
        ExitCode::from(1)
    }
}

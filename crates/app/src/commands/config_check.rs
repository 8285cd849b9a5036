//! `wildid config check`: every effective setting, grouped as in docs/configuration.md, secrets
//! masked (only whether each is set and where from), then the checks that need more than the
//! values (the secrets, the offline model, the database, the SMTP server and the remote
//! providers). Exit status 0 when everything is
//! usable, 1 when a check failed; every problem a check finds is named (all missing or
//! malformed secrets at once). A configuration with bad values does not get here: every bad
//! value is named at once, followed by the checks that could therefore not run (exit status 2).

use std::process::ExitCode;

use std::cell::Cell;

use wildid_adapters_ai::ModelSource;
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_adapters_http::SettingsSection;

use crate::config::Settings;
use crate::{compose, secrets, serve, settings_sheet, startup_checks};

/// Prints `section` as `[name]` (in lower case) and one `label value` line per row.
fn print(section: &SettingsSection) {
    say!("[{}]", section.name.to_lowercase());
    for (label, value) in &section.rows {
        say!("{label:<16} {value}");
    }
}

/// Returns whether the secrets are usable.
fn secrets(settings: &Settings) -> bool {
    say!("[secrets]");
    match secrets::check(settings) {
        Ok(origin) => {
            say!("secrets          {origin}");
            true
        }
        Err(e) => {
            say!("secrets          ERROR: {e}");
            false
        }
    }
}

/// Returns whether the database answers (or will be created).
async fn database(settings: &Settings) -> bool {
    say!("[database]");
    let database = settings.database.redacted();
    say!(
        "pool             {} connections",
        settings.db_max_connections
    );
    match &settings.database {
        DatabaseUrl::Sqlite { path, create: true } if !path.exists() => {
            say!("database         {database} (will be created at first start)");
            true
        }
        url => match Database::open(
            url,
            PoolOptions {
                max_connections: 1,
                acquire_timeout: serve::CHECK_TIMEOUT,
            },
        ) {
            Ok(db) => match db.health().ping().await {
                Ok(()) => {
                    say!("database         {database} (reachable)");
                    true
                }
                Err(e) => {
                    say!("database         {database} ERROR: {e}");
                    false
                }
            },
            Err(e) => {
                say!("database         {database} ERROR: {e}");
                false
            }
        },
    }
}

/// Returns whether the mail transport and every remote provider answered (the checks
/// `wildid serve` makes before it announces its address; nothing to check for the file outbox
/// and the offline model, which is loaded above).
async fn services(settings: &Settings) -> bool {
    let findings = startup_checks::run(settings).await;
    if findings.is_empty() {
        return true;
    }
    say!("[connections]");
    for finding in &findings {
        if finding.warning {
            say!("ERROR: {}", finding.line);
        } else {
            say!("{}", finding.line);
        }
    }
    findings.iter().all(|f| !f.warning)
}

/// `wildid config check`.
pub async fn config_check(settings: &Settings) -> ExitCode {
    // The offline model is loaded here, where the page only describes it.
    let model_loads = Cell::new(true);
    let load = |source: &ModelSource| match compose::local_model(source) {
        Ok(_) => settings_sheet::described(source),
        Err(e) => {
            model_loads.set(false);
            format!("local-model ERROR: {e}")
        }
    };
    for section in settings_sheet::sections(settings, &load) {
        print(&section);
    }
    let model = model_loads.get();
    let keys = secrets(settings);
    let database = database(settings).await;
    let reachable = services(settings).await;
    if model && keys && database && reachable {
        say!("configuration OK");
        ExitCode::SUCCESS
    } else {
        say!("configuration has errors");
        ExitCode::from(1)
    }
}

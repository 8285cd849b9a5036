//! `wildid purge`: deletes visit data past its retention period now, as the server's
//! maintenance job does every few minutes (visit mappings and bookings older than 14 days,
//! notifications read more than 90 days ago), audited with its counts.

use std::process::ExitCode;
use std::sync::Arc;

use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_domain::retention::RetentionPolicy;
use wildid_ports::builtin::SystemClock;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::visits::{Purged, VisitRetention};

use crate::config::Settings;

/// Runs one purge and prints what it deleted. Exit status 0 when every store was purged, 1
/// when one failed (what the others deleted stays deleted), 2 when the database cannot be
/// opened.
pub async fn run(settings: &Settings) -> ExitCode {
    if let DatabaseUrl::Sqlite { path, .. } = &settings.database
        && !path.exists()
    {
        return super::fail(&format!(
            "no database at {}: start the server or run `wildid migrate` first",
            path.display()
        ));
    }
    let db = match Database::open(
        &settings.database,
        PoolOptions {
            max_connections: 2,
            ..PoolOptions::default()
        },
    ) {
        Ok(db) => db,
        Err(e) => return super::fail(&e),
    };
    let retention = VisitRetention::new(
        db.bookings(),
        db.visit_mappings(),
        db.notifications(),
        AuditTrail::new(db.audit_log()),
        Arc::new(SystemClock),
        RetentionPolicy::default(),
    );
    match retention.purge().await {
        Ok(purged) => {
            report(&purged);
            ExitCode::SUCCESS
        }
        Err(failed) => {
            report(&failed.purged);
            eprintln!("error: {failed}");
            ExitCode::from(1)
        }
    }
}

fn report(purged: &Purged) {
    say!(
        "deleted {} visit mapping(s), {} booking(s) and {} read notification(s) past their retention period",
        purged.mappings,
        purged.bookings,
        purged.notifications
    );
}

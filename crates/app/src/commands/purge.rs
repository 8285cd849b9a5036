//! `wildid purge`: deletes visit data past its retention period now, as the servers'
//! maintenance job does daily (visit mappings and bookings older than
//! `WILDID_RETENTION_VISIT_DAYS`, 14 by default; notifications read more than
//! `WILDID_RETENTION_READ_NOTIFICATION_DAYS`, 90, ago), audited with its counts. It takes the
//! same lease as the servers, so it never runs beside a server's purge. On a terminal a bar
//! shows how many of the rows that were due are gone, read from the database as it goes.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use wildid_domain::audit::Actor;
use wildid_ports::builtin::{OsRandom, SystemClock};
use wildid_ports::clock::Clock;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::visits::{PurgeRun, Purged, VisitRetention};

use crate::compose;
use crate::config::Settings;

/// Runs one purge and prints what it deleted. Exit status 0 when every store was purged, 1
/// when one failed (what the others deleted stays deleted), 2 when the database cannot be
/// opened, 3 when a server is purging at that moment.
pub async fn run(settings: &Settings) -> ExitCode {
    let db = match super::existing_database(settings) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let holder = match compose::lease_holder(&OsRandom) {
        Ok(holder) => holder,
        Err(e) => return super::fail(&e),
    };
    let retention = compose::visit_retention(
        &db,
        &AuditTrail::new(db.audit_log()),
        &clock,
        settings,
        &holder,
    );
    let bar = progress(&retention).await;
    let outcome = retention.purge_now(Actor::System, None).await;
    if let Some((bar, poller)) = bar {
        poller.abort();
        bar.finish_and_clear();
    }
    match outcome {
        Ok(PurgeRun::Purged(purged)) => {
            report(&purged);
            ExitCode::SUCCESS
        }
        Ok(PurgeRun::Busy | PurgeRun::NotDue) => {
            eprintln!(
                "error: a server process is purging now (it holds the purge's lease); try again in a few minutes"
            );
            ExitCode::from(3)
        }
        Err(failed) => {
            report(&failed.purged);
            eprintln!("error: {failed}");
            ExitCode::from(1)
        }
    }
}

/// How often the bar reads how many rows are still due.
const POLL: Duration = Duration::from_millis(250);

/// A bar over the rows due now, moved by a task that counts what is left (on the second of
/// the command's two connections, beside the purge's writes); `None` when nothing is due or
/// the count fails (the purge then runs without a bar).
async fn progress(
    retention: &VisitRetention,
) -> Option<(ProgressBar, tokio::task::JoinHandle<()>)> {
    let total = due(&retention.waiting().await.ok()?);
    if total == 0 {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows deleted, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (shown, retention) = (bar.clone(), retention.clone());
    let poller = tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL).await;
            if let Ok(left) = retention.waiting().await {
                shown.set_position(total.saturating_sub(due(&left)));
            }
        }
    });
    Some((bar, poller))
}

fn due(purged: &Purged) -> u64 {
    purged.mappings + purged.bookings + purged.notifications
}

fn report(purged: &Purged) {
    say!(
        "deleted {} visit mapping(s), {} booking(s) and {} read notification(s) past their retention period",
        purged.mappings,
        purged.bookings,
        purged.notifications
    );
}

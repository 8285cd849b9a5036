//! `wildid keys rekey-emails`: after a pepper rotation, moves every stored address digest to
//! the current pepper, so that the previous one can be dropped.

use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use wildid_domain::audit::Actor;
use wildid_ports::builtin::{FernetKeyRing, OsRandom, SystemClock};
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::email_rekey::{EmailRekey, EmailRekeyPorts, Event, Stuck};

use crate::config::Settings;
use crate::secrets;

/// Runs the walk with a progress bar on standard error. Exit status 0 when every digest is
/// under the current pepper (the previous ones may be removed), 1 when an account or link was
/// left behind (each named, none changed) or the walk stopped (run it again), 2 when the
/// configuration or database is unusable.
pub async fn run(settings: &Settings) -> ExitCode {
    let (secrets, _) = match secrets::resolve(settings, &OsRandom) {
        Ok(s) => s,
        Err(e) => return super::fail(&e),
    };
    let (index, ring) = match (
        secrets.email_index(),
        FernetKeyRing::new(&secrets.fernet_keys),
    ) {
        (Ok(index), Ok(ring)) => (index, ring),
        _ => return super::fail(&"the secrets are not usable"),
    };
    let previous = index.previous_count();
    let db = match super::existing_database(settings) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let walk = EmailRekey::new(EmailRekeyPorts {
        users: db.users(),
        tokens: db.login_tokens(),
        index: Arc::new(index),
        cipher: Arc::new(ring),
        audit: AuditTrail::new(db.audit_log()),
        clock: Arc::new(SystemClock),
    });
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} accounts, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let mut on = move |event: Event| match event {
        Event::Total(n) => shown.set_length(n),
        Event::Examined(n) => shown.inc(n),
        Event::Stuck(stuck) => shown.suspend(|| {
            #[allow(clippy::print_stderr, reason = "a finding reported as it is made")]
            {
                match stuck {
                    Stuck::Unreadable(row) => eprintln!(
                        "unreadable: {row}: no field key opens its address; kept as it is"
                    ),
                    Stuck::Conflict(row) => eprintln!(
                        "conflict: {row}: another account already has this address under the \
                         current pepper; both kept (merge or delete one, then run again)"
                    ),
                }
            }
        }),
    };
    let outcome = walk.run(Actor::System, &mut on).await;
    bar.finish_and_clear();
    match outcome {
        Ok(done) => {
            say!(
                "moved {} account(s) and {} link(s) to the current pepper; {} looked at, {} \
                 unreadable, {} in conflict",
                done.accounts,
                done.links,
                done.examined,
                done.unreadable,
                done.conflicts
            );
            if done.complete() {
                say!(
                    "every address digest is under the current pepper{}",
                    if previous > 0 {
                        "; WILDID_EMAIL_PEPPER_PREVIOUS can be removed once every server runs \
                         with the current pepper"
                    } else {
                        ""
                    }
                );
                ExitCode::SUCCESS
            } else {
                say!("keep WILDID_EMAIL_PEPPER_PREVIOUS until the rows above are resolved");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "the command's error")]
            {
                eprintln!("error: {e}; run the command again to go on");
            }
            ExitCode::from(1)
        }
    }
}

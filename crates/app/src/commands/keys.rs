//! `wildid keys generate`, `rotate`, `reencrypt` and `status`: the secrets, and rolling a new
//! field key over every encrypted value.

use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use wildid_domain::audit::Actor;
use wildid_ports::builtin::{FernetKeyRing, OsRandom, SystemClock};
use wildid_ports::clock::Clock;
use wildid_ports::crypto::FieldCipher;
use wildid_ports::random::random_array;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::reencryption::{Event, KeyStatus, Reencryption, Walk};

use super::output;
use crate::compose;
use crate::config::Settings;
use crate::secrets::{self, Origin};

/// Prints fresh secrets in environment-file form.
pub fn generate() -> ExitCode {
    match secrets::generate_env(&OsRandom) {
        Ok(env) => {
            say!("# WildID secrets. Keep them secret and back them up: losing WILDID_FERNET_KEYS");
            say!("# makes every encrypted address unreadable. To rotate the Fernet key, run");
            say!("# `wildid keys rotate` (docs/configuration.md, \"Rotating the field key\").");
            output::write(format_args!("{env}"));
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

/// Puts a fresh key first in the ring: rewrites the development secrets file when the ring
/// comes from it, otherwise prints the new `WILDID_FERNET_KEYS` to set.
pub fn rotate(settings: &Settings) -> ExitCode {
    let (secrets, origin) = match secrets::resolve(settings, &OsRandom) {
        Ok(resolved) => resolved,
        Err(e) => return super::fail(&e),
    };
    let fresh: [u8; 32] = match random_array(&OsRandom) {
        Ok(bytes) => bytes,
        Err(e) => return super::fail(&e),
    };
    let keys: Vec<String> = std::iter::once(secrets::fernet_key(&fresh))
        .chain(
            secrets
                .fernet_keys
                .iter()
                .map(|k| k.expose().trim().to_owned()),
        )
        .collect();
    let ring = keys.join(",");
    let from_file = settings.secrets.fernet_keys.is_none();
    match origin {
        Origin::DevFile { path, .. } if from_file => {
            if let Err(e) = secrets::replace_dev_ring(&path, &ring) {
                return super::fail(&e);
            }
            say!(
                "{} now holds {} Fernet keys, the new one first.",
                path.display(),
                keys.len()
            );
        }
        _ => {
            say!("# The new key ring, newest first. Set it on every server process and restart");
            say!("# them (several servers: two rounds, docs/configuration.md, \"Rotating the");
            say!("# field key\"); then `wildid keys reencrypt`, or let the servers do it.");
            say!("WILDID_FERNET_KEYS={ring}");
            return ExitCode::SUCCESS;
        }
    }
    say!("Restart the server, then run `wildid keys reencrypt` (or let the server do it).");
    ExitCode::SUCCESS
}

/// The database, the ring and the re-encryption use case; or the exit code, already printed.
fn walker(settings: &Settings) -> Result<(Reencryption, FernetKeyRing), ExitCode> {
    let (secrets, _) = secrets::resolve(settings, &OsRandom).map_err(|e| super::fail(&e))?;
    let ring = FernetKeyRing::new(&secrets.fernet_keys).map_err(|e| super::fail(&e))?;
    let db = super::existing_database(settings)?;
    let holder = compose::lease_holder(&OsRandom).map_err(|e| super::fail(&e))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let walker = compose::reencryption(
        &db,
        &AuditTrail::new(db.audit_log()),
        &clock,
        Arc::new(ring.clone()),
        &holder,
    );
    Ok((walker, ring))
}

/// Rewrites every encrypted value under the newest key, with a progress bar on standard
/// error. Exit status 0 when every value is under it, 1 when values no key decrypts were found
/// (each is named; none is changed) or the walk stopped (run it again: it resumes), 2 when the
/// configuration or database is unusable, 3 when a server process is re-encrypting now.
pub async fn reencrypt(settings: &Settings) -> ExitCode {
    let (walker, ring) = match walker(settings) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} values, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let mut on = move |event: Event| match event {
        Event::Total(n) => shown.set_length(n),
        Event::Examined(n) => shown.inc(n),
        Event::Unreadable { column, row } => shown.suspend(|| {
            #[allow(clippy::print_stderr, reason = "a finding reported as it is made")]
            {
                eprintln!(
                    "unreadable: {} row {row}: no key of the ring decrypts it; kept as it is",
                    column.as_str()
                );
            }
        }),
    };
    let outcome = walker.run(Actor::System, true, &mut on).await;
    bar.finish_and_clear();
    let key = ring.key_id();
    let code = match outcome {
        Ok(Walk::Done(done)) => {
            say!(
                "re-encrypted {} of {} value(s) under key {key}; {} unreadable",
                done.rewritten,
                done.examined,
                done.unreadable
            );
            ExitCode::SUCCESS
        }
        Ok(Walk::AlreadyDone) => {
            say!("every column was already walked under key {key}");
            ExitCode::SUCCESS
        }
        Ok(Walk::Busy) => {
            #[allow(clippy::print_stderr, reason = "the command's error")]
            {
                eprintln!(
                    "error: a server process is re-encrypting now (it holds the job's lease); see `wildid keys status`"
                );
            }
            return ExitCode::from(3);
        }
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "the command's error")]
            {
                eprintln!("error: {e}; run the command again to resume");
            }
            return ExitCode::from(1);
        }
    };
    match walker.status().await {
        Ok(status) if status.older_keys_retirable() => {
            say!("{}", retirable(&status));
            code
        }
        Ok(status) => {
            say!("{}", retirable(&status));
            ExitCode::from(1)
        }
        Err(e) => super::fail(&e),
    }
}

/// Prints each encrypted column's state under the newest key.
pub async fn status(settings: &Settings) -> ExitCode {
    let (walker, _) = match walker(settings) {
        Ok(w) => w,
        Err(code) => return code,
    };
    match walker.status().await {
        Ok(status) => {
            say!(
                "newest key {} ({} key(s) in the ring)",
                status.key_id,
                status.key_count
            );
            for c in &status.columns {
                let progress = c.progress.as_ref();
                say!(
                    "{:<31} {:>9} value(s)  {}",
                    c.column.as_str(),
                    c.values,
                    match progress {
                        None => "not walked under this key".to_owned(),
                        Some(p) => format!(
                            "{} looked at, {} rewritten, {} unreadable{}",
                            p.examined,
                            p.rewritten,
                            p.unreadable,
                            if p.finished_at.is_some() {
                                ", done"
                            } else {
                                ""
                            }
                        ),
                    }
                );
            }
            say!("{}", retirable(&status));
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

fn retirable(status: &KeyStatus) -> &'static str {
    if status.key_count == 1 {
        "the ring holds one key"
    } else if status.older_keys_retirable() {
        "every value is under the newest key: the older keys can be removed from WILDID_FERNET_KEYS"
    } else {
        "the older keys are still needed: keep them in WILDID_FERNET_KEYS"
    }
}

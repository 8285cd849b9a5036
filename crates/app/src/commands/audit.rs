//! `wildid audit verify` and `wildid audit head`.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use wildid_domain::audit::{ChainHash, ChainProblem};
use wildid_ports::services::audit::{AuditTrail, VerifyOutcome};

use crate::config::Settings;

fn trail(settings: &Settings) -> Result<AuditTrail, ExitCode> {
    let db = super::existing_database(settings)?;
    Ok(AuditTrail::new(db.audit_log()))
}

fn parse_anchor(raw: &str) -> Option<(i64, ChainHash)> {
    let (seq, hash) = raw.split_once(':')?;
    Some((seq.trim().parse().ok()?, ChainHash::from_hex(hash)?))
}

/// Verifies the chain.
pub async fn verify(settings: &Settings, anchor: Option<&str>) -> ExitCode {
    let anchor = match anchor.map(|a| parse_anchor(a).ok_or(a)) {
        Some(Ok(a)) => Some(a),
        Some(Err(raw)) => {
            return super::fail(&format!("--anchor {raw:?} is not SEQ:HASH (64 hex digits)"));
        }
        None => None,
    };
    let trail = match trail(settings) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // A bar on a terminal (hidden otherwise) for a long chain; the head says how long.
    let total = match trail.head().await {
        Ok(head) => head.map_or(0, |(seq, _)| u64::try_from(seq).unwrap_or(0)),
        Err(e) => return super::fail(&e),
    };
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} entries checked, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let outcome = trail
        .verify_showing(anchor, &mut move |n| shown.inc(n))
        .await;
    bar.finish_and_clear();
    match outcome {
        Ok(VerifyOutcome::Intact(summary)) => {
            match summary.head {
                Some((seq, hash)) => say!(
                    "audit log intact: {} entries, head {seq}:{}",
                    summary.entries,
                    hash.to_hex()
                ),
                None => say!("audit log intact: empty"),
            }
            ExitCode::SUCCESS
        }
        Ok(VerifyOutcome::Broken(broken)) => {
            let what = match broken.problem {
                ChainProblem::Altered => {
                    "its content was altered (it no longer matches its digest)".to_owned()
                }
                ChainProblem::BrokenLink => {
                    "it does not link to the entry before it (that entry was altered or replaced)"
                        .to_owned()
                }
                ChainProblem::Missing { expected_seq } => {
                    format!(
                        "entries from {expected_seq} to {} were deleted",
                        broken.seq - 1
                    )
                }
            };
            say!("audit log BROKEN at entry {}: {what}", broken.seq);
            ExitCode::from(1)
        }
        Ok(VerifyOutcome::AnchorMismatch { seq }) => {
            say!(
                "audit log BROKEN: the anchored entry {seq} is missing or changed (newest entries deleted?)"
            );
            ExitCode::from(1)
        }
        Err(e) => super::fail(&format!("{e}: {}", e.0)),
    }
}

/// Prints the head.
pub async fn head(settings: &Settings) -> ExitCode {
    let trail = match trail(settings) {
        Ok(t) => t,
        Err(code) => return code,
    };
    match trail.head().await {
        Ok(Some((seq, hash))) => {
            say!("{seq}:{}", hash.to_hex());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            say!("empty");
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&format!("{e}: {}", e.0)),
    }
}

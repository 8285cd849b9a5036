//! WildID's policies used directly, with no server, database or adapter.
//!
//! Run with `cargo run -p wildid-domain --example policies`.

use chrono::{TimeZone, Utc};
use wildid_domain::Duration;
use wildid_domain::audit::{
    Actor, AuditAction, AuditDetails, AuditEntry, AuditRecord, ChainVerifier,
};
use wildid_domain::email::Email;
use wildid_domain::lockout::{FailureOutcome, LockoutPolicy, LockoutState};
use wildid_domain::trust::{RateLimitPolicy, TrustDecision, TrustState};

#[allow(clippy::print_stdout)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Utc
        .with_ymd_and_hms(2026, 5, 1, 8, 0, 0)
        .single()
        .ok_or("bad date")?;

    // Input validation: normalised, or refused with a reason.
    let email = Email::parse("  Ranger.Ann@Example.ORG ")?;
    println!("normalised address: {}", email.as_str());
    match Email::parse("ann@example.org.") {
        Ok(_) => println!("unexpectedly accepted"),
        Err(e) => println!("refused: {e}"),
    }

    // Lockout: five failures lock the account for thirty minutes.
    let lockout = LockoutPolicy::default();
    let mut state = LockoutState::default();
    for attempt in 1..=5 {
        let (next, outcome) = lockout.after_failure(&state, now);
        state = next;
        match outcome {
            FailureOutcome::Counted { remaining } => {
                println!("failure {attempt}: {remaining} left")
            }
            FailureOutcome::Locked(until) => println!("failure {attempt}: locked until {until}"),
            FailureOutcome::AlreadyLocked(_) => println!("failure {attempt}: already locked"),
        }
    }

    // Adaptive trust: the 10th identification in an hour requires a CAPTCHA.
    let limit = RateLimitPolicy::default();
    let mut trust = TrustState::default();
    for _ in 0..limit.threshold() {
        trust.record_identification(&limit, now);
    }
    if let TrustDecision::CaptchaRequired { retry_after } = trust.can_proceed(&limit, now) {
        println!("captcha required (or wait {} s)", retry_after.num_seconds());
    }
    trust.pass_captcha(now + Duration::seconds(30));
    println!("after the captcha: trusted = {}", trust.is_trusted);

    // The audit chain: append three entries, then tamper with one and verify.
    let mut log: Vec<AuditEntry> = Vec::new();
    for (i, action) in ["user.created", "auth.login.succeeded", "user.role.changed"]
        .iter()
        .enumerate()
    {
        let record = AuditRecord::new(
            now + Duration::seconds(i as i64),
            Actor::System,
            AuditAction::new(action)?,
        )
        .details(AuditDetails::new().with("step", i.to_string()));
        let head = log.last().map(|e| (e.seq, e.hash));
        log.push(AuditEntry::append_to(head, record));
    }
    log[1].record.details = AuditDetails::new().with("step", "forged");
    let mut verifier = ChainVerifier::new();
    for entry in &log {
        if let Err(broken) = verifier.push(entry) {
            println!("audit chain: {broken}");
            break;
        }
    }
    Ok(())
}

//! Recording security events and verifying the chain (`wildid audit verify`).

use std::sync::Arc;

use wildid_domain::audit::{
    Action, Actor, AuditDetails, AuditEntry, AuditRecord, ChainBreak, ChainHash, ChainProblem,
    ChainSummary, ChainVerifier, Origin,
};

use crate::RepoError;
use crate::builtin::SystemClock;
use crate::clock::Clock;
use crate::repo::{AuditFilter, AuditLog, AuditRow};

/// Rows fetched per round trip while verifying.
const PAGE: u32 = 1000;

/// Recording failed; the event was not stored.
#[derive(Debug, thiserror::Error)]
#[error("audit entry could not be stored")]
pub struct RecordAuditError(#[source] pub RepoError);

/// Verification could not run to the end.
#[derive(Debug, thiserror::Error)]
#[error("audit log could not be read")]
pub struct VerifyAuditError(#[source] pub RepoError);

/// The log could not be searched.
#[derive(Debug, thiserror::Error)]
#[error("audit log could not be searched")]
pub struct SearchAuditError(#[source] pub RepoError);

/// The most entries one search page holds.
pub const MAX_SEARCH_PAGE: u32 = 200;

/// One page of a search, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The matching rows, newest first.
    pub rows: Vec<AuditRow>,
    /// The `before` of the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// What verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// Every entry is intact and linked.
    Intact(ChainSummary),
    /// The first break.
    Broken(ChainBreak),
    /// The chain is internally consistent but an anchor recorded earlier does not match:
    /// entries at or after the anchor were removed or the log was rebuilt.
    AnchorMismatch {
        /// The anchor's sequence number.
        seq: i64,
    },
}

/// The target of the log line every stored audit entry also becomes.
pub const LOG_TARGET: &str = "wildid::audit";

/// The stored entry as one structured line of the log stream (target `wildid::audit`), so a
/// log collector sees every security event too: its place in the chain, what, who (a user id,
/// or `system` / `anonymous`), to what, the request and the client's coarse network, and the
/// named details. Audit records hold nothing secret and no address by construction
/// ([`AuditRecord`]; a network is a /24 or /48); the details are written as
/// one JSON object, so a value cannot forge a line of its own.
fn log_line(entry: &AuditEntry) {
    let record = &entry.record;
    let details: serde_json::Map<String, serde_json::Value> = record
        .details
        .iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
        .collect();
    tracing::info!(
        target: LOG_TARGET,
        seq = entry.seq,
        action = record.action.as_str(),
        actor = %record.actor.to_storage(),
        target_id = record.target.as_deref().unwrap_or(""),
        request_id = %record.request_id.map(|r| r.to_string()).unwrap_or_default(),
        client = record.client.as_ref().map_or("", |c| c.as_str()),
        details = %serde_json::Value::Object(details),
        "audit event"
    );
}

/// The audit log's use cases.
#[derive(Clone)]
pub struct AuditTrail {
    log: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl AuditTrail {
    /// Over `log`, on the system clock.
    pub fn new(log: Arc<dyn AuditLog>) -> Self {
        Self {
            log,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same, with `clock` dating the entries this trail writes itself (those of
    /// [`AuditTrail::verify_for`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// [`AuditTrail::verify`] of the whole log, asked for by `actor` (an admin at the console)
    /// from `origin`, and recorded as `audit.chain_checked` with its outcome (`intact`,
    /// `broken` and the entry's number): who looked, and what they were shown.
    ///
    /// # Errors
    /// [`VerifyAuditError`] when the log cannot be read (nothing is recorded then).
    pub async fn verify_for(
        &self,
        actor: Actor,
        origin: Option<Origin>,
    ) -> Result<VerifyOutcome, VerifyAuditError> {
        let outcome = self.verify(None).await?;
        let details = match &outcome {
            VerifyOutcome::Intact(summary) => AuditDetails::new()
                .with("outcome", "intact")
                .with("entries", summary.entries.to_string()),
            VerifyOutcome::Broken(found) => AuditDetails::new()
                .with("outcome", "broken")
                .with("at_entry", found.seq.to_string()),
            VerifyOutcome::AnchorMismatch { seq } => AuditDetails::new()
                .with("outcome", "anchor_mismatch")
                .with("at_entry", seq.to_string()),
        };
        let record = AuditRecord::new(self.clock.now(), actor, Action::AuditChainChecked)
            .details(details)
            .origin(origin);
        self.record_or_log(record).await;
        Ok(outcome)
    }

    /// Appends a record.
    ///
    /// # Errors
    /// [`RecordAuditError`] when it could not be stored.
    pub async fn record(&self, record: AuditRecord) -> Result<AuditEntry, RecordAuditError> {
        let entry = self.log.append(record).await.map_err(RecordAuditError)?;
        log_line(&entry);
        Ok(entry)
    }

    /// Appends a record where the action it describes has already happened and must not be
    /// undone by a failing log: a record that cannot be stored is logged as lost (an error
    /// line with the cause, never the record's details) instead of failing the caller.
    pub async fn record_or_log(&self, record: AuditRecord) {
        if let Err(error) = self.record(record).await {
            tracing::error!(%error, cause = %error.0, "audit entry lost");
        }
    }

    /// A page of the entries matching `filter`, newest first, older than sequence number
    /// `before` (from the newest when `None`), at most `limit` (capped at
    /// [`MAX_SEARCH_PAGE`]).
    ///
    /// # Errors
    /// [`SearchAuditError`] when the log cannot be read.
    pub async fn search(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<AuditPage, SearchAuditError> {
        let limit = limit.clamp(1, MAX_SEARCH_PAGE);
        let mut rows = self
            .log
            .search(filter, before, limit + 1)
            .await
            .map_err(SearchAuditError)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_before = more.then(|| rows.last().map(AuditRow::seq)).flatten();
        Ok(AuditPage { rows, next_before })
    }

    /// The current head (record it elsewhere as an anchor).
    ///
    /// # Errors
    /// [`VerifyAuditError`] when the log cannot be read.
    pub async fn head(&self) -> Result<Option<(i64, ChainHash)>, VerifyAuditError> {
        self.log.head().await.map_err(VerifyAuditError)
    }

    /// Walks the whole log and reports the first altered, unlinked or missing entry. With an
    /// `anchor` (a head recorded earlier), also checks that this entry is still there unchanged,
    /// which detects deletion of the newest entries.
    ///
    /// # Errors
    /// [`VerifyAuditError`] when the log cannot be read.
    pub async fn verify(
        &self,
        anchor: Option<(i64, ChainHash)>,
    ) -> Result<VerifyOutcome, VerifyAuditError> {
        self.verify_showing(anchor, &mut |_| {}).await
    }

    /// [`AuditTrail::verify`], calling `checked` with the number of entries checked after
    /// each page (for a progress bar; the total is the head's sequence number).
    ///
    /// # Errors
    /// [`VerifyAuditError`] when the log cannot be read.
    pub async fn verify_showing(
        &self,
        anchor: Option<(i64, ChainHash)>,
        checked: &mut (dyn FnMut(u64) + Send),
    ) -> Result<VerifyOutcome, VerifyAuditError> {
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        let mut anchor_seen = false;
        loop {
            let rows = self.log.page(after, PAGE).await.map_err(VerifyAuditError)?;
            let Some(last) = rows.last() else { break };
            after = last.seq();
            for row in &rows {
                let entry = match row {
                    AuditRow::Entry(entry) => entry,
                    AuditRow::Unreadable { seq } => {
                        let expected_seq = verifier.expected_seq();
                        let problem = if *seq == expected_seq {
                            ChainProblem::Altered
                        } else {
                            ChainProblem::Missing { expected_seq }
                        };
                        return Ok(VerifyOutcome::Broken(ChainBreak { seq: *seq, problem }));
                    }
                };
                if let Err(broken) = verifier.push(entry) {
                    return Ok(VerifyOutcome::Broken(broken));
                }
                if let Some((seq, hash)) = anchor
                    && entry.seq == seq
                {
                    if entry.hash != hash {
                        return Ok(VerifyOutcome::AnchorMismatch { seq });
                    }
                    anchor_seen = true;
                }
            }
            checked(rows.len() as u64);
        }
        if let Some((seq, _)) = anchor
            && !anchor_seen
        {
            return Ok(VerifyOutcome::AnchorMismatch { seq });
        }
        Ok(VerifyOutcome::Intact(verifier.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MockAuditLog;
    use chrono::TimeZone;
    use wildid_domain::audit::{Actor, AuditAction};

    fn entries(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let at = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                + chrono::TimeDelta::seconds(i.into());
            let record = AuditRecord::new(at, Actor::System, AuditAction::new("test").unwrap());
            out.push(AuditEntry::append_to(
                out.last().map(|e| (e.seq, e.hash)),
                record,
            ));
        }
        out
    }

    fn log_of(rows: Vec<AuditRow>) -> MockAuditLog {
        let mut log = MockAuditLog::new();
        log.expect_page().returning(move |after, limit| {
            Ok(rows
                .iter()
                .filter(|r| r.seq() > after)
                .take(limit as usize)
                .cloned()
                .collect())
        });
        log
    }

    #[tokio::test]
    async fn intact_log_and_anchor() {
        let es = entries(3);
        let head = (es[2].seq, es[2].hash);
        let rows: Vec<AuditRow> = es.into_iter().map(AuditRow::Entry).collect();
        let trail = AuditTrail::new(Arc::new(log_of(rows.clone())));
        assert!(
            matches!(trail.verify(Some(head)).await.unwrap(), VerifyOutcome::Intact(s) if s.entries == 3)
        );

        let truncated = AuditTrail::new(Arc::new(log_of(rows[..2].to_vec())));
        assert_eq!(
            truncated.verify(Some(head)).await.unwrap(),
            VerifyOutcome::AnchorMismatch { seq: 3 }
        );
    }

    /// The chain has no key: whoever can write the table can edit an entry and re-chain every
    /// later one, and the log then verifies on its own. A head recorded elsewhere still
    /// catches it (ASVS 16.4.2), whichever entry was rewritten.
    #[tokio::test]
    async fn a_rechained_log_verifies_alone_but_not_against_its_anchor() {
        let honest = entries(4);
        let head = (honest[3].seq, honest[3].hash);
        for edited in 0..4 {
            let mut forged: Vec<AuditEntry> = Vec::new();
            for (i, entry) in honest.iter().enumerate() {
                let mut record = entry.record.clone();
                if i == edited {
                    record.details =
                        wildid_domain::audit::AuditDetails::new().with("covered", "up");
                }
                forged.push(AuditEntry::append_to(
                    forged.last().map(|e| (e.seq, e.hash)),
                    record,
                ));
            }
            let rows: Vec<AuditRow> = forged.into_iter().map(AuditRow::Entry).collect();
            let trail = AuditTrail::new(Arc::new(log_of(rows)));
            assert!(
                matches!(trail.verify(None).await.unwrap(), VerifyOutcome::Intact(_)),
                "re-chained, it is consistent"
            );
            assert_eq!(
                trail.verify(Some(head)).await.unwrap(),
                VerifyOutcome::AnchorMismatch { seq: 4 },
                "entry {} rewritten",
                edited + 1
            );
        }
    }

    #[tokio::test]
    async fn progress_is_told_page_by_page_up_to_every_entry() {
        let rows: Vec<AuditRow> = entries(2_500).into_iter().map(AuditRow::Entry).collect();
        let trail = AuditTrail::new(Arc::new(log_of(rows)));
        let mut told = Vec::new();
        let outcome = trail
            .verify_showing(None, &mut |n| told.push(n))
            .await
            .unwrap();
        assert!(matches!(outcome, VerifyOutcome::Intact(s) if s.entries == 2_500));
        assert_eq!(told, [1_000, 1_000, 500], "one report per page");
    }

    #[tokio::test]
    async fn unreadable_rows_count_as_altered() {
        let es = entries(3);
        let rows = vec![
            AuditRow::Entry(es[0].clone()),
            AuditRow::Unreadable { seq: 2 },
            AuditRow::Entry(es[2].clone()),
        ];
        let trail = AuditTrail::new(Arc::new(log_of(rows)));
        assert_eq!(
            trail.verify(None).await.unwrap(),
            VerifyOutcome::Broken(ChainBreak {
                seq: 2,
                problem: ChainProblem::Altered
            })
        );
    }

    #[tokio::test]
    async fn search_pages_run_newest_first_and_end_without_a_next_page() {
        let rows: Vec<AuditRow> = entries(5).into_iter().map(AuditRow::Entry).collect();
        let mut log = MockAuditLog::new();
        log.expect_search().returning(move |_, before, limit| {
            Ok(rows
                .iter()
                .rev()
                .filter(|r| before.is_none_or(|b| r.seq() < b))
                .take(limit as usize)
                .cloned()
                .collect())
        });
        let trail = AuditTrail::new(Arc::new(log));
        let filter = AuditFilter::default();
        let first = trail.search(&filter, None, 2).await.unwrap();
        let seqs = |p: &AuditPage| p.rows.iter().map(AuditRow::seq).collect::<Vec<_>>();
        assert_eq!((seqs(&first), first.next_before), (vec![5, 4], Some(4)));
        let second = trail.search(&filter, first.next_before, 2).await.unwrap();
        assert_eq!((seqs(&second), second.next_before), (vec![3, 2], Some(2)));
        let last = trail.search(&filter, second.next_before, 2).await.unwrap();
        assert_eq!((seqs(&last), last.next_before), (vec![1], None));
        // Exactly a page left: no next page is offered.
        let exact = trail.search(&filter, Some(3), 2).await.unwrap();
        assert_eq!((seqs(&exact), exact.next_before), (vec![2, 1], None));
    }
}

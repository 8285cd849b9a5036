//! The hash chain: [`AuditEntry`] links each record to the one before by SHA-256
//! ([`ChainHash`]), and [`ChainVerifier`] walks a log to the first break ([`ChainBreak`]).

use std::fmt;

use sha2::{Digest, Sha256};

use super::AuditRecord;

/// A SHA-256 link of the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The `prev_hash` of the first entry.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// Rebuilds a stored digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses lower- or upper-case hex.
    pub fn from_hex(raw: &str) -> Option<Self> {
        let bytes = hex::decode(raw.trim()).ok()?;
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1 with no gaps.
    pub seq: i64,
    /// The recorded event.
    pub record: AuditRecord,
    /// Digest of the previous entry ([`ChainHash::GENESIS`] for the first).
    pub prev_hash: ChainHash,
    /// Digest of this entry (over `seq`, the record and `prev_hash`).
    pub hash: ChainHash,
}

impl AuditEntry {
    /// The entry that follows `head` (the current last entry, `None` for an empty log).
    pub fn append_to(head: Option<(i64, ChainHash)>, record: AuditRecord) -> Self {
        let (seq, prev_hash) = match head {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, ChainHash::GENESIS),
        };
        let hash = Self::digest(seq, &record, &prev_hash);
        Self {
            seq,
            record,
            prev_hash,
            hash,
        }
    }

    /// The digest of an entry. Every field is length-prefixed so no two different entries
    /// encode alike.
    pub fn digest(seq: i64, record: &AuditRecord, prev_hash: &ChainHash) -> ChainHash {
        fn put(h: &mut Sha256, bytes: &[u8]) {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        let mut h = Sha256::new();
        put(&mut h, b"wildid-audit-v1");
        put(&mut h, &seq.to_be_bytes());
        put(&mut h, &record.at.timestamp_micros().to_be_bytes());
        put(&mut h, record.actor.to_storage().as_bytes());
        put(&mut h, record.action.as_str().as_bytes());
        match &record.target {
            Some(t) => {
                put(&mut h, b"1");
                put(&mut h, t.as_bytes());
            }
            None => put(&mut h, b"0"),
        }
        put(&mut h, &(record.details.0.len() as u64).to_be_bytes());
        for (k, v) in record.details.iter() {
            put(&mut h, k.as_bytes());
            put(&mut h, v.as_bytes());
        }
        match &record.request_id {
            Some(id) => put(&mut h, id.as_uuid().as_bytes()),
            None => put(&mut h, b""),
        }
        // Added after the first entries were written: absent, it adds nothing, so an entry
        // from before keeps its digest; present, its tag (a length no digest has) keeps the
        // encoding unambiguous.
        if let Some(client) = &record.client {
            put(&mut h, b"client");
            put(&mut h, client.as_str().as_bytes());
        }
        put(&mut h, prev_hash.as_bytes());
        ChainHash(h.finalize().into())
    }
}

/// What is wrong at the first break of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// The entry's content no longer matches its digest: it was edited.
    Altered,
    /// The entry does not link to the one before: that one was edited and re-hashed, or
    /// entries were replaced.
    BrokenLink,
    /// Entries are missing before this one (deleted).
    Missing {
        /// The sequence number that should have come next.
        expected_seq: i64,
    },
}

/// The first break found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {problem:?}")]
pub struct ChainBreak {
    /// Sequence number of the first entry found wrong.
    pub seq: i64,
    /// What is wrong.
    pub problem: ChainProblem,
}

/// Walks entries in sequence order and stops at the first break.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    head: Option<(i64, ChainHash)>,
    count: u64,
}

/// A verified chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSummary {
    /// Entries checked.
    pub entries: u64,
    /// The last entry's sequence number and digest: record it elsewhere to detect truncation.
    pub head: Option<(i64, ChainHash)>,
}

impl ChainVerifier {
    /// A verifier at the start of the log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry.
    ///
    /// # Errors
    /// [`ChainBreak`] describing the first problem.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let (expected_seq, expected_prev) = match self.head {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, ChainHash::GENESIS),
        };
        if entry.seq != expected_seq {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::Missing { expected_seq },
            });
        }
        if AuditEntry::digest(entry.seq, &entry.record, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::Altered,
            });
        }
        if entry.prev_hash != expected_prev {
            return Err(ChainBreak {
                seq: entry.seq,
                problem: ChainProblem::BrokenLink,
            });
        }
        self.head = Some((entry.seq, entry.hash));
        self.count += 1;
        Ok(())
    }

    /// The sequence number the next entry must have.
    pub fn expected_seq(&self) -> i64 {
        self.head.map_or(1, |(seq, _)| seq + 1)
    }

    /// The summary once every entry was pushed.
    pub fn finish(self) -> ChainSummary {
        ChainSummary {
            entries: self.count,
            head: self.head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditAction, AuditDetails, ClientNetwork};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn record(i: u32) -> AuditRecord {
        let at = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
            + chrono::TimeDelta::seconds(i.into());
        AuditRecord::new(at, Actor::System, AuditAction::new("test.event").unwrap())
            .target(format!("thing-{i}"))
            .details(AuditDetails::new().with("n", i.to_string()))
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.seq, e.hash));
            out.push(AuditEntry::append_to(head, record(i)));
        }
        out
    }

    fn verify(entries: &[AuditEntry]) -> Result<ChainSummary, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in entries {
            v.push(e)?;
        }
        Ok(v.finish())
    }

    #[test]
    fn intact_chain_verifies() {
        let entries = chain(5);
        let summary = verify(&entries).unwrap();
        assert_eq!(summary.entries, 5);
        assert_eq!(summary.head, Some((5, entries[4].hash)));
    }

    #[test]
    fn detects_edit_rehash_and_deletion() {
        let mut edited = chain(5);
        edited[2].record.target = Some("other".into());
        assert_eq!(
            verify(&edited),
            Err(ChainBreak {
                seq: 3,
                problem: ChainProblem::Altered
            })
        );

        let mut rehashed = chain(5);
        rehashed[2].record.target = Some("other".into());
        rehashed[2].hash = AuditEntry::digest(3, &rehashed[2].record, &rehashed[2].prev_hash);
        assert_eq!(
            verify(&rehashed),
            Err(ChainBreak {
                seq: 4,
                problem: ChainProblem::BrokenLink
            })
        );

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify(&deleted),
            Err(ChainBreak {
                seq: 3,
                problem: ChainProblem::Missing { expected_seq: 2 }
            })
        );
    }

    #[test]
    fn the_client_network_is_chained_and_older_entries_keep_their_digest() {
        // The digest of an entry written before entries named their client network (pinned
        // when the field was added): the chains already stored still verify.
        let first = AuditEntry::append_to(None, record(0));
        assert_eq!(
            hex::encode(first.hash.as_bytes()),
            "097853ea51fc8781cf28c4d7f5ff4c3a7eb853acb5bd63fa5dea9d70a566fc43",
            "an entry without a client network digests as before"
        );
        let origin = crate::audit::Origin::new(
            crate::ids::RequestId::from_random([7; 16]),
            Some("203.0.113.9".parse().unwrap()),
        );
        let placed = AuditEntry::append_to(None, record(0).origin(Some(origin)));
        assert_ne!(placed.hash, first.hash, "the network is part of the digest");
        let mut moved = vec![placed];
        moved[0].record.client = Some(ClientNetwork::of("198.51.100.1".parse().unwrap()));
        assert_eq!(
            verify(&moved),
            Err(ChainBreak {
                seq: 1,
                problem: ChainProblem::Altered
            })
        );
    }

    proptest! {
        /// Changing any single entry anywhere is detected at that entry or the next.
        #[test]
        fn any_single_edit_is_detected(n in 2u32..20, victim in 0usize..20, new_target in "[a-z]{1,8}") {
            let mut entries = chain(n);
            let victim = victim % entries.len();
            prop_assume!(entries[victim].record.target.as_deref() != Some(new_target.as_str()));
            entries[victim].record.target = Some(new_target);
            let err = verify(&entries).unwrap_err();
            prop_assert_eq!(err.seq, entries[victim].seq);
        }
    }
}

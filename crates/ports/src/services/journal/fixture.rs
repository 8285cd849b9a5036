//! The journal, photos and owners shared by the journal tests.

use std::sync::{Arc, Mutex};

use wildid_domain::audit::AuditEntry;
use wildid_domain::ids::UserId;
use wildid_domain::secret::SecretBytes;

use super::{Journal, JournalSettings};
use crate::builtin::{HmacDigest, OsRandom};
use crate::identify::CheckedImage;
use crate::repo::{MockAuditLog, MockIdentificationRepository};
use crate::services::audit::AuditTrail;
use crate::services::fixtures::{FixedClock, t0};

pub(super) fn journal(repo: MockIdentificationRepository, settings: JournalSettings) -> Journal {
    audited_journal(repo, settings).0
}

/// The records a test journal audited: (action, actor, target), in order.
pub(super) type Audited = Arc<Mutex<Vec<(String, String, String)>>>;

/// [`journal`], and every record it audits.
pub(super) fn audited_journal(
    repo: MockIdentificationRepository,
    settings: JournalSettings,
) -> (Journal, Audited) {
    let audited: Audited = Arc::default();
    let seen = Arc::clone(&audited);
    let mut log = MockAuditLog::new();
    log.expect_append().returning(move |record| {
        seen.lock().unwrap().push((
            record.action.as_str().to_owned(),
            record.actor.to_storage(),
            record.target.clone().unwrap_or_default(),
        ));
        Ok(AuditEntry::append_to(None, record))
    });
    let journal = Journal::new(
        Arc::new(repo),
        AuditTrail::new(Arc::new(log)),
        Arc::new(FixedClock(t0())),
        Arc::new(OsRandom),
        Arc::new(HmacDigest::new(SecretBytes::new(vec![9; 32]))),
        settings,
    );
    (journal, audited)
}

pub(super) fn image(bytes: usize) -> CheckedImage {
    CheckedImage {
        source_format: crate::identify::ImageFormat::Jpeg,
        format: crate::identify::ImageFormat::Jpeg,
        bytes: vec![1; bytes],
        width: 10,
        height: 10,
        thumbnail: Some(vec![2; 100]),
        upload_sha256: [3; 32],
    }
}

pub(super) fn owner(n: u8) -> UserId {
    UserId::from_random([n; 16])
}

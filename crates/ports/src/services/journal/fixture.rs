//! The journal, photos and owners shared by the journal tests.

use std::sync::Arc;

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
    let mut log = MockAuditLog::new();
    log.expect_append()
        .returning(|record| Ok(AuditEntry::append_to(None, record)));
    Journal::new(
        Arc::new(repo),
        AuditTrail::new(Arc::new(log)),
        Arc::new(FixedClock(t0())),
        Arc::new(OsRandom),
        Arc::new(HmacDigest::new(SecretBytes::new(vec![9; 32]))),
        settings,
    )
}

pub(super) fn image(bytes: usize) -> CheckedImage {
    CheckedImage {
        source_format: crate::identify::ImageFormat::Jpeg,
        format: crate::identify::ImageFormat::Jpeg,
        bytes: vec![1; bytes],
        width: 10,
        height: 10,
        thumbnail: vec![2; 100],
        upload_sha256: [3; 32],
    }
}

pub(super) fn owner(n: u8) -> UserId {
    UserId::from_random([n; 16])
}

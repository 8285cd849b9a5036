//! The photos, providers, gates and journals shared by the identification tests.

use std::sync::Arc;

use wildid_domain::audit::AuditRecord;
use wildid_domain::identification::{Confidence, SpeciesResult};
use wildid_domain::secret::SecretBytes;
use wildid_domain::session::Session;
use wildid_domain::text::PlainText;
use wildid_domain::trust::RateLimitPolicy;

use super::Identifications;
use crate::builtin::{HmacDigest, MemoryRateLimits};
use crate::identify::{
    CheckedImage, ImageFormat, MockImageChecker, MockSpeciesIdentifier, SpeciesIdentifier,
};
use crate::services::audit::AuditTrail;
use crate::services::fixtures::{FixedClock, anonymous_session, cas_sessions, t0};
use crate::services::journal::Journal;
use crate::services::sessions::ClientInfo;
use crate::services::trust::TrustGate;

pub(super) fn text(s: &str) -> PlainText {
    PlainText::new(s, 100).unwrap()
}

pub(super) fn answer() -> SpeciesResult {
    SpeciesResult {
        is_animal: true,
        species: text("Chelonia mydas"),
        common_name: text("Green sea turtle"),
        animal_type: Some(text("reptile")),
        conservation_status: Some(text("Endangered")),
        confidence: Confidence::High,
        description: None,
        notes: None,
        alternatives: Vec::new(),
    }
}

pub(super) fn client(network: Option<&str>) -> ClientInfo {
    ClientInfo {
        fingerprint: anonymous_session(1).fingerprint(),
        coarse_ip: None,
        device: None,
        request_id: None,
        network: network.map(str::to_owned),
    }
}

/// An audit trail that keeps what it is given.
pub(super) fn audit(kept: Arc<std::sync::Mutex<Vec<AuditRecord>>>) -> AuditTrail {
    let mut log = crate::repo::MockAuditLog::new();
    log.expect_append().returning(move |record| {
        kept.lock().unwrap().push(record.clone());
        Ok(wildid_domain::audit::AuditEntry::append_to(None, record))
    });
    AuditTrail::new(Arc::new(log))
}

pub(super) fn journal(repo: crate::repo::MockIdentificationRepository, allowance: u64) -> Journal {
    Journal::new(
        Arc::new(repo),
        audit(Arc::new(std::sync::Mutex::new(Vec::new()))),
        Arc::new(FixedClock(t0())),
        Arc::new(crate::builtin::OsRandom),
        Arc::new(HmacDigest::new(SecretBytes::new(vec![2; 64]))),
        crate::services::journal::JournalSettings {
            allowance_bytes: allowance,
            ..Default::default()
        },
    )
}

pub(super) fn signed_in(n: u8) -> Session {
    crate::services::fixtures::session_of(n, wildid_domain::ids::UserId::from_random([n; 16]))
}

pub(super) fn checked() -> CheckedImage {
    CheckedImage {
        source_format: ImageFormat::Png,
        format: ImageFormat::Jpeg,
        bytes: vec![0xFF, 0xD8],
        thumbnail: Some(vec![0xFF, 0xD8]),
        width: 4,
        height: 3,
        upload_sha256: [7; 32],
    }
}

pub(super) fn service(
    session: &Session,
    images: MockImageChecker,
    provider: Option<MockSpeciesIdentifier>,
) -> Identifications {
    Identifications::new(
        gate(cas_sessions(vec![session.clone()]).0),
        Arc::new(images),
        provider
            .into_iter()
            .map(|p| Arc::new(p) as Arc<dyn SpeciesIdentifier>)
            .collect(),
        Arc::new(FixedClock(t0())),
    )
}

/// The gate over `sessions`: threshold 2, network threshold 2, ceiling 20, at `t0`.
pub(super) fn gate(sessions: crate::repo::MockSessionRepository) -> TrustGate {
    TrustGate::new(
        Arc::new(sessions),
        Arc::new(MemoryRateLimits::default()),
        Arc::new(HmacDigest::new(SecretBytes::new(vec![1; 64]))),
        Arc::new(FixedClock(t0())),
        RateLimitPolicy::new(2, chrono::TimeDelta::seconds(3600), 2, 20).unwrap(),
    )
}

pub(super) fn good_images() -> MockImageChecker {
    let mut images = MockImageChecker::new();
    images.expect_check().returning(|_, _| Ok(checked()));
    images
}

pub(super) fn good_provider(calls: usize) -> MockSpeciesIdentifier {
    let mut provider = MockSpeciesIdentifier::new();
    provider.expect_name().return_const("test".to_owned());
    provider.expect_reads_thumbnail().return_const(false);
    provider
        .expect_identify()
        .times(calls)
        .withf(|image| image.format == ImageFormat::Jpeg)
        .returning(|_| Ok(answer()));
    provider
}

//! Step 2: the upload, exactly as received, through the malware scanner; what it finds is
//! audited (`upload.infected`), and no verdict refuses the upload (fail closed).

use sha2::Digest as _;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::session::Session;

use super::{Identifications, IdentifyFailure, MalwareScan};
use crate::scan::ScanVerdict;
use crate::services::sessions::ClientInfo;

impl Identifications {
    /// Step 2: the upload as received, through the scanner.
    pub(super) async fn scan(
        &self,
        scan: &MalwareScan,
        session: &Session,
        client: &ClientInfo,
        upload: &[u8],
    ) -> Result<(), IdentifyFailure> {
        let signature = match scan.scanner.scan(upload).await {
            Ok(ScanVerdict::Clean) => return Ok(()),
            Ok(ScanVerdict::Infected(signature)) => signature,
            Err(e) => return Err(IdentifyFailure::ScanUnavailable(e.0)),
        };
        tracing::warn!(
            security_event = "upload_infected",
            signature = %signature,
            "the malware scan refused an upload"
        );
        let digest: [u8; 32] = sha2::Sha256::digest(upload).into();
        let actor = session.user_id().map_or(Actor::Anonymous, Actor::User);
        let record = AuditRecord::new(self.clock.now(), actor, Action::UploadInfected)
            .details(
                AuditDetails::new()
                    .with("signature", signature.clone())
                    .with("sha256", hex::encode(digest))
                    .with("bytes", upload.len().to_string())
                    .with("fingerprint", session.fingerprint().to_hex()),
            )
            .origin(client.origin());
        scan.audit.record_or_log(record).await;
        Err(IdentifyFailure::Infected(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::MockImageChecker;
    use crate::services::fixtures::anonymous_session;
    use crate::services::identify::fixture::{audit, client, good_images, good_provider, service};
    use std::sync::Arc;

    fn scanner(
        verdict: Result<ScanVerdict, crate::scan::ScanUnavailable>,
    ) -> crate::scan::MockMalwareScanner {
        let mut scanner = crate::scan::MockMalwareScanner::new();
        scanner
            .expect_scan()
            .withf(|bytes| bytes == [6, 6, 6])
            .returning(move |_| verdict.clone());
        scanner
    }

    #[tokio::test]
    async fn an_infected_upload_is_refused_audited_and_never_decoded_counted_or_sent() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images.expect_check().never();
        let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ids = service(&session, images, Some(good_provider(0))).with_malware_scan(
            Arc::new(scanner(Ok(ScanVerdict::Infected("Eicar-Test".into())))),
            audit(Arc::clone(&kept)),
        );
        let e = ids
            .identify(&session, &client(None), vec![6, 6, 6])
            .await
            .unwrap_err();
        assert_eq!(e, IdentifyFailure::Infected("Eicar-Test".into()));
        let kept = kept.lock().unwrap().clone();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].action.as_str(), "upload.infected");
        let detail = |name: &str| {
            kept[0]
                .details
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        };
        assert_eq!(detail("signature").as_deref(), Some("Eicar-Test"));
        assert_eq!(detail("bytes").as_deref(), Some("3"));
        assert_eq!(detail("sha256").map(|h| h.len()), Some(64));
        let standing = ids.gate.admit(&session, None).await.unwrap();
        assert_eq!(
            standing.trust.request_count, 1,
            "the infected upload counted nothing"
        );
        drop(kept);
    }

    #[tokio::test]
    async fn no_verdict_refuses_the_upload_and_a_clean_one_goes_on() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images.expect_check().never();
        let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
        let down = service(&session, images, Some(good_provider(0))).with_malware_scan(
            Arc::new(scanner(Err(crate::scan::ScanUnavailable(
                "clamd: no verdict in time".into(),
            )))),
            audit(Arc::clone(&kept)),
        );
        let e = down
            .identify(&session, &client(None), vec![6, 6, 6])
            .await
            .unwrap_err();
        assert_eq!(
            e,
            IdentifyFailure::ScanUnavailable("clamd: no verdict in time".into())
        );

        let clean = service(&session, good_images(), Some(good_provider(1))).with_malware_scan(
            Arc::new(scanner(Ok(ScanVerdict::Clean))),
            audit(Arc::clone(&kept)),
        );
        clean
            .identify(&session, &client(None), vec![6, 6, 6])
            .await
            .unwrap();
        assert!(kept.lock().unwrap().is_empty(), "nothing to audit");
    }
}

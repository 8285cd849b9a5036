//! Identifying the animal in a photo.
//!
//! The order is what protects the provider's quota and the person's allowance:
//!
//! 1. a session the adaptive limit already holds is refused before anything is decoded;
//! 2. when a malware scanner is configured ([`Identifications::with_malware_scan`]), the
//!    upload is scanned exactly as received; an infected file is refused and audited, and no
//!    verdict (the scanner down or slow) refuses it too: fail closed;
//! 3. the photo is checked by its content and re-encoded from its pixels
//!    ([`ImageChecker`]); a file that is no photo costs no identification;
//! 4. the identification is counted by the [`TrustGate`] (per session and per network,
//!    atomically), which may still refuse it;
//! 5. only then are the providers asked, with the re-encoded image: the first of the chain,
//!    and when it fails the next, until one answers (`WILDID_AI_FALLBACK`); the result names
//!    the provider that answered.
//!
//! When the use case keeps held photos ([`Identifications::with_held_photos`]) and the page
//! asks for it ([`Identifications::identify_or_keep`]), a photo refused at step 1 or 4 only
//! because the session must pass the check is still scanned and checked (steps 2 and 3), then
//! kept for [`HELD_PHOTO_MINUTES`] bound to that session; [`Identifications::identify_kept`]
//! identifies it (steps 4 and 5) once the check is passed. Nothing is counted for keeping.
//!
//! When the use case keeps journals ([`Identifications::with_journal`]) and the session is
//! signed in, the photo must fit the person's journal before step 4 (a full journal costs no
//! identification), and the answer is kept in it after step 5 with the sighting the person
//! gave ([`Identifications::identify_sighting`]); the answer names the entry
//! ([`Identified::kept`]). Anonymous identifications are not kept.
//!
//! A provider failure after step 4 stays counted (once, however many providers were asked):
//! the providers were asked, and a client that makes them fail on purpose must not get free
//! calls.

use std::sync::Arc;

use wildid_domain::identification::SpeciesResult;
use wildid_domain::session::Session;
use wildid_domain::trust::{Standing, TrustDecision};

use crate::clock::Clock;
use crate::identify::{
    CheckedImage, IdentifyError, ImageChecker, ImageError, ImageFormat, SpeciesIdentifier, Upload,
};
use crate::repo::HeldPhotoRepository;
use crate::scan::{MalwareScanner, ScanVerdict};
use crate::services::audit::AuditTrail;
use crate::services::journal::{Journal, JournalError, NewEntry};
use crate::services::sessions::ClientInfo;
use crate::services::trust::{AdmitError, TrustGate};
use sha2::Digest as _;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::ids::IdentificationId;
use wildid_domain::sighting::{Sighting, SightingError, SightingInput};

/// Why a photo was not identified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyFailure {
    /// No provider is configured on this server (API: 503 `identification_unavailable`).
    #[error("no identification provider is configured")]
    NotConfigured,
    /// The upload is not an acceptable photo (API: 422 `invalid_image`); nothing was counted.
    #[error("invalid image: {0}")]
    InvalidImage(ImageError),
    /// The malware scan found something in the upload (API: 422 `malware_found`); it was
    /// audited, nothing was counted and no provider saw it. The signature's name is for the
    /// audit log only.
    #[error("the malware scan found {0}")]
    Infected(String),
    /// The malware scanner gave no verdict (API: 503 `scan_unavailable`): the upload is
    /// refused rather than let through unscanned.
    #[error("malware scan unavailable: {0}")]
    ScanUnavailable(String),
    /// The adaptive limit holds the session or its network (API: 429 `captcha_required` or
    /// `too_many_requests`), or its storage failed.
    #[error(transparent)]
    Held(AdmitError),
    /// No provider of the chain answered at all (refused, failed, unreachable or too slow; API:
    /// 502 `identification_failed`). A provider that answered unreadably is not a failure:
    /// its result is [`SpeciesResult::unreadable`]. The cause is for the server log only.
    #[error("the provider gave no answer: {0}")]
    ProviderFailed(IdentifyError),
    /// The photo does not fit the person's journal (API: 422 `photo_too_large` or 409
    /// `journal_full`), checked before anything was counted; or the answer could not be kept.
    #[error(transparent)]
    Journal(JournalError),
    /// Where and when the animal was seen was refused (API: 422 `invalid_sighting`), before
    /// anything else: nothing was scanned, decoded or counted.
    #[error("invalid sighting: {0}")]
    InvalidSighting(SightingError),
    /// Storage or the image checker failed.
    #[error("identification unavailable: {0}")]
    Unavailable(String),
}

/// What was identified, and how the photo was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    /// The provider's answer, cleaned.
    pub result: SpeciesResult,
    /// The name of the provider that answered.
    pub provider: String,
    /// Format of the upload, found by decoding it.
    pub source_format: ImageFormat,
    /// Width of the image the provider saw.
    pub width: u32,
    /// Height of the image the provider saw.
    pub height: u32,
    /// SHA-256 of the upload as received.
    pub upload_sha256: [u8; 32],
    /// The checked photo, small (JPEG; see [`CheckedImage::thumbnail`]), to show with the
    /// answer.
    pub thumbnail: Vec<u8>,
    /// Where the session stands after this identification was counted (its trust state, and
    /// what is left).
    pub standing: Standing,
    /// The journal entry it was kept as (signed-in sessions, when journals are kept).
    pub kept: Option<IdentificationId>,
}

/// How long a held photo is kept for its session: time to pass the check, not more.
pub const HELD_PHOTO_MINUTES: i64 = 10;

/// The identification use case.
#[derive(Clone)]
pub struct Identifications {
    gate: TrustGate,
    images: Arc<dyn ImageChecker>,
    providers: Vec<Arc<dyn SpeciesIdentifier>>,
    clock: Arc<dyn Clock>,
    scan: Option<MalwareScan>,
    held: Option<Arc<dyn HeldPhotoRepository>>,
    journal: Option<Journal>,
}

/// The malware scan step and where its findings are written.
#[derive(Clone)]
struct MalwareScan {
    scanner: Arc<dyn MalwareScanner>,
    audit: AuditTrail,
}

impl Identifications {
    /// The use case; `providers` is the fallback chain, asked in order. An empty chain means
    /// the server has no provider (every identification is then answered
    /// [`IdentifyFailure::NotConfigured`], counting nothing).
    pub fn new(
        gate: TrustGate,
        images: Arc<dyn ImageChecker>,
        providers: Vec<Arc<dyn SpeciesIdentifier>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            gate,
            images,
            providers,
            clock,
            scan: None,
            held: None,
            journal: None,
        }
    }

    /// The same use case, keeping the identifications of signed-in sessions in `journal`.
    #[must_use]
    pub fn with_journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The same use case, scanning every upload with `scanner` before anything decodes it and
    /// writing what it finds to `audit` (`upload.infected`).
    #[must_use]
    pub fn with_malware_scan(
        mut self,
        scanner: Arc<dyn MalwareScanner>,
        audit: AuditTrail,
    ) -> Self {
        self.scan = Some(MalwareScan { scanner, audit });
        self
    }

    /// The same use case, keeping in `photos` the photo of a session held for the check
    /// ([`Identifications::identify_or_keep`]).
    #[must_use]
    pub fn with_held_photos(mut self, photos: Arc<dyn HeldPhotoRepository>) -> Self {
        self.held = Some(photos);
        self
    }

    /// Whether a photo held for the check is kept for its session.
    pub fn keeps_held_photos(&self) -> bool {
        self.held.is_some() && !self.providers.is_empty()
    }

    /// Whether a provider is configured.
    pub fn is_configured(&self) -> bool {
        !self.providers.is_empty()
    }

    /// Identifies the animal in `upload` for `session`, from `client` (its network as
    /// `limits::network_of` counts it, and its request for audit entries).
    ///
    /// # Errors
    /// [`IdentifyFailure`], in the order of the module's steps.
    pub async fn identify(
        &self,
        session: &Session,
        client: &ClientInfo,
        upload: impl Into<Upload>,
    ) -> Result<Identified, IdentifyFailure> {
        self.identify_sighting(session, client, upload, &SightingInput::default())
            .await
    }

    /// As [`Identifications::identify`], with where and when the animal was seen, kept with
    /// the answer in a signed-in person's journal.
    ///
    /// # Errors
    /// As [`Identifications::identify`].
    pub async fn identify_sighting(
        &self,
        session: &Session,
        client: &ClientInfo,
        upload: impl Into<Upload>,
        sighting: &SightingInput,
    ) -> Result<Identified, IdentifyFailure> {
        self.run(session, client, upload.into(), sighting, false)
            .await
    }

    /// As [`Identifications::identify`]; but when the session must pass the check first
    /// ([`AdmitError::CaptchaRequired`]) and held photos are kept, the photo is scanned,
    /// checked and kept for the session before that refusal is returned, so
    /// [`Identifications::identify_kept`] can identify it after the check. A photo that is
    /// refused on its own account is refused as by `identify`.
    ///
    /// # Errors
    /// As [`Identifications::identify`].
    pub async fn identify_or_keep(
        &self,
        session: &Session,
        client: &ClientInfo,
        upload: impl Into<Upload>,
        sighting: &SightingInput,
    ) -> Result<Identified, IdentifyFailure> {
        self.run(
            session,
            client,
            upload.into(),
            sighting,
            self.held.is_some(),
        )
        .await
    }

    /// Identifies the photo kept for `session` ([`Identifications::identify_or_keep`]), if one
    /// is kept and not expired: counted and sent to the providers as any other (steps 4 and
    /// 5). The photo is no longer kept afterwards, unless the session is still held (then it
    /// is kept again, for a new period).
    ///
    /// # Errors
    /// As steps 4 and 5 of [`Identifications::identify`]; [`IdentifyFailure::Unavailable`]
    /// when the kept photo cannot be read.
    pub async fn identify_kept(
        &self,
        session: &Session,
        client: &ClientInfo,
    ) -> Result<Option<Identified>, IdentifyFailure> {
        let Some(held) = &self.held else {
            return Ok(None);
        };
        if self.providers.is_empty() {
            return Ok(None);
        }
        let image = held
            .take(&session.key, self.clock.now())
            .await
            .map_err(|e| IdentifyFailure::Unavailable(e.to_string()))?;
        let Some(image) = image else {
            return Ok(None);
        };
        self.check_room(session, &image).await?;
        match self.admit(session, client).await {
            Ok(standing) => self
                .answer(session, image, standing, Sighting::default())
                .await
                .map(Some),
            Err(e) => {
                if matches!(e, IdentifyFailure::Held(AdmitError::CaptchaRequired { .. })) {
                    self.keep(session, &image).await?;
                }
                Err(e)
            }
        }
    }
}

impl Identifications {
    /// Steps 1 to 5; `keep`: a photo held for the check is kept for the session.
    async fn run(
        &self,
        session: &Session,
        client: &ClientInfo,
        upload: Upload,
        sighting: &SightingInput,
        keep: bool,
    ) -> Result<Identified, IdentifyFailure> {
        if self.providers.is_empty() {
            return Err(IdentifyFailure::NotConfigured);
        }
        let sighting = Sighting::from_input(sighting, self.clock.now())
            .map_err(IdentifyFailure::InvalidSighting)?;
        // Step 1: the stored state already says no (no decoding for a held session, unless
        // its photo is to be kept).
        let mut probe = session.trust;
        let held_already = match probe.can_proceed(self.gate.policy(), self.clock.now()) {
            TrustDecision::CaptchaRequired { retry_after } => {
                let refusal = IdentifyFailure::Held(AdmitError::CaptchaRequired {
                    retry_after: retry_after.num_seconds(),
                });
                if !keep {
                    return Err(refusal);
                }
                Some(refusal)
            }
            TrustDecision::Proceed => None,
        };
        // Step 2.
        if let Some(scan) = &self.scan {
            self.scan(scan, session, client, upload.bytes()).await?;
        }
        // Step 3; the upload's bytes are gone after it, and so is what was held for them.
        let (bytes, hold) = upload.into_parts();
        let image = self.images.check(bytes).await.map_err(|e| match e {
            ImageError::Unavailable(cause) => IdentifyFailure::Unavailable(cause),
            refused => IdentifyFailure::InvalidImage(refused),
        });
        drop(hold);
        let image = image?;
        if let Some(refusal) = held_already {
            self.keep(session, &image).await?;
            return Err(refusal);
        }
        self.check_room(session, &image).await?;
        // Step 4.
        let standing = match self.admit(session, client).await {
            Ok(standing) => standing,
            Err(e) => {
                if keep && matches!(e, IdentifyFailure::Held(AdmitError::CaptchaRequired { .. })) {
                    self.keep(session, &image).await?;
                }
                return Err(e);
            }
        };
        // Step 5.
        self.answer(session, image, standing, sighting).await
    }

    /// Whether the photo fits the journal of a signed-in session (before anything counts).
    async fn check_room(
        &self,
        session: &Session,
        image: &CheckedImage,
    ) -> Result<(), IdentifyFailure> {
        match (&self.journal, session.user_id) {
            (Some(journal), Some(owner)) => journal
                .check_room(owner, image)
                .await
                .map_err(IdentifyFailure::Journal),
            _ => Ok(()),
        }
    }

    /// Step 4: the identification counted, or refused.
    async fn admit(
        &self,
        session: &Session,
        client: &ClientInfo,
    ) -> Result<Standing, IdentifyFailure> {
        self.gate
            .admit(session, client.network.as_deref())
            .await
            .map_err(|e| {
                if matches!(e, AdmitError::CaptchaRequired { .. }) {
                    tracing::warn!(
                        security_event = "identification_rate_limited",
                        "identification limit reached; a CAPTCHA is required"
                    );
                }
                IdentifyFailure::Held(e)
            })
    }

    /// Step 5, the answer kept in a signed-in person's journal, and the answer in the use
    /// case's terms.
    async fn answer(
        &self,
        session: &Session,
        image: CheckedImage,
        standing: Standing,
        sighting: Sighting,
    ) -> Result<Identified, IdentifyFailure> {
        let (result, provider) = self.ask_providers(&image).await?;
        let kept = match (&self.journal, session.user_id) {
            (Some(journal), Some(owner)) => Some(
                journal
                    .keep(NewEntry {
                        owner,
                        image: &image,
                        result: &result,
                        provider: &provider,
                        sighting,
                    })
                    .await
                    .map_err(IdentifyFailure::Journal)?,
            ),
            _ => None,
        };
        Ok(Identified {
            kept,
            result,
            provider,
            source_format: image.source_format,
            width: image.width,
            height: image.height,
            upload_sha256: image.upload_sha256,
            thumbnail: image.thumbnail,
            standing,
        })
    }

    /// Keeps `image` for `session` for [`HELD_PHOTO_MINUTES`].
    async fn keep(&self, session: &Session, image: &CheckedImage) -> Result<(), IdentifyFailure> {
        let Some(held) = &self.held else {
            return Ok(());
        };
        let until = self.clock.now() + chrono::TimeDelta::minutes(HELD_PHOTO_MINUTES);
        held.keep(&session.key, image, until)
            .await
            .map_err(|e| IdentifyFailure::Unavailable(e.to_string()))
    }
}

impl Identifications {
    /// Step 2: the upload as received, through the scanner.
    async fn scan(
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
        let actor = session.user_id.map_or(Actor::Anonymous, Actor::User);
        let record = AuditRecord::new(self.clock.now(), actor, Action::UploadInfected)
            .details(
                AuditDetails::new()
                    .with("signature", signature.clone())
                    .with("sha256", hex::encode(digest))
                    .with("bytes", upload.len().to_string())
                    .with("fingerprint", session.fingerprint.to_hex()),
            )
            .request(client.request_id);
        scan.audit.record_or_log(record).await;
        Err(IdentifyFailure::Infected(signature))
    }

    /// The first answer of the chain, with the name of the provider that gave it. When every
    /// provider fails and one of them did answer, but unreadably, the answer is
    /// [`SpeciesResult::unreadable`] from that provider (a reply, however malformed, is not a
    /// server error and says so to the person); when none answered at all, the last failure.
    async fn ask_providers(
        &self,
        image: &CheckedImage,
    ) -> Result<(SpeciesResult, String), IdentifyFailure> {
        let mut last = IdentifyError::NotConfigured;
        let mut answered_badly = None;
        for (position, provider) in self.providers.iter().enumerate() {
            match provider.identify(image).await {
                Ok(result) => return Ok((result, provider.name().to_owned())),
                Err(e) => {
                    if position + 1 < self.providers.len() {
                        tracing::warn!(
                            provider = provider.name(),
                            error = %e,
                            "identification provider failed; asking the next one"
                        );
                    }
                    if matches!(e, IdentifyError::BadResponse(_)) {
                        answered_badly = Some(provider.name().to_owned());
                    }
                    last = e;
                }
            }
        }
        match answered_badly {
            Some(provider) => {
                tracing::warn!(
                    %provider,
                    error = %last,
                    "identification provider failed; its unreadable answer is reported as such"
                );
                Ok((SpeciesResult::unreadable(), provider))
            }
            None => Err(IdentifyFailure::ProviderFailed(last)),
        }
    }
}

#[cfg(test)]
mod tests {
    use wildid_domain::identification::Confidence;
    use wildid_domain::secret::SecretBytes;
    use wildid_domain::text::PlainText;
    use wildid_domain::trust::RateLimitPolicy;

    use super::*;
    use crate::builtin::{HmacDigest, MemoryRateLimits};
    use crate::identify::{CheckedImage, MockImageChecker, MockSpeciesIdentifier};
    use crate::services::fixtures::{FixedClock, anonymous_session, cas_sessions, t0};

    fn text(s: &str) -> PlainText {
        PlainText::new(s, 100).unwrap()
    }

    fn answer() -> SpeciesResult {
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

    fn client(network: Option<&str>) -> ClientInfo {
        ClientInfo {
            fingerprint: anonymous_session(1).fingerprint,
            coarse_ip: None,
            device: None,
            request_id: None,
            network: network.map(str::to_owned),
        }
    }

    /// An audit trail that keeps what it is given.
    fn audit(kept: Arc<std::sync::Mutex<Vec<AuditRecord>>>) -> AuditTrail {
        let mut log = crate::repo::MockAuditLog::new();
        log.expect_append().returning(move |record| {
            kept.lock().unwrap().push(record.clone());
            Ok(wildid_domain::audit::AuditEntry::append_to(None, record))
        });
        AuditTrail::new(Arc::new(log))
    }

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

    fn journal(repo: crate::repo::MockIdentificationRepository, allowance: u64) -> Journal {
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

    fn signed_in(n: u8) -> Session {
        Session {
            user_id: Some(wildid_domain::ids::UserId::from_random([n; 16])),
            ..anonymous_session(n)
        }
    }

    #[tokio::test]
    async fn a_signed_in_answer_is_kept_with_its_sighting_and_an_anonymous_one_is_not() {
        let session = signed_in(1);
        let owner = session.user_id;
        let mut repo = crate::repo::MockIdentificationRepository::new();
        repo.expect_stored_bytes().returning(|_| Ok(0));
        repo.expect_insert()
            .times(1)
            .withf(move |i, photo, _| {
                Some(i.owner) == owner
                    && i.provider == "test"
                    && i.result == answer()
                    && i.sighting.position.is_some()
                    && photo.bytes == checked().bytes
            })
            .returning(|_, _, _| Ok(crate::repo::Kept::Stored));
        let ids = service(&session, good_images(), Some(good_provider(1)))
            .with_journal(journal(repo, 1_000));
        let sighting = SightingInput {
            latitude: Some(-33.9),
            longitude: Some(151.2),
            ..SightingInput::default()
        };
        let identified = ids
            .identify_sighting(&session, &client(None), vec![1], &sighting)
            .await
            .unwrap();
        assert!(identified.kept.is_some());

        let anonymous = anonymous_session(2);
        let mut repo = crate::repo::MockIdentificationRepository::new();
        repo.expect_insert().never();
        repo.expect_stored_bytes().never();
        let ids = service(&anonymous, good_images(), Some(good_provider(1)))
            .with_journal(journal(repo, 1_000));
        let identified = ids
            .identify(&anonymous, &client(None), vec![1])
            .await
            .unwrap();
        assert_eq!(identified.kept, None);
    }

    #[tokio::test]
    async fn a_full_journal_refuses_before_anything_is_counted_or_asked() {
        let session = signed_in(1);
        let mut repo = crate::repo::MockIdentificationRepository::new();
        repo.expect_stored_bytes().returning(|_| Ok(999));
        repo.expect_insert().never();
        let ids = service(&session, good_images(), Some(good_provider(0)))
            .with_journal(journal(repo, 1_000));
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert_eq!(
            e,
            IdentifyFailure::Journal(JournalError::Full {
                used: 999,
                allowance: 1_000
            })
        );
        let standing = ids.gate.admit(&session, None).await.unwrap();
        assert_eq!(standing.trust.request_count, 1, "nothing was counted");
    }

    fn checked() -> CheckedImage {
        CheckedImage {
            source_format: ImageFormat::Png,
            format: ImageFormat::Jpeg,
            bytes: vec![0xFF, 0xD8],
            thumbnail: vec![0xFF, 0xD8],
            width: 4,
            height: 3,
            upload_sha256: [7; 32],
        }
    }

    fn service(
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
    fn gate(sessions: crate::repo::MockSessionRepository) -> TrustGate {
        TrustGate::new(
            Arc::new(sessions),
            Arc::new(MemoryRateLimits::default()),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![1; 64]))),
            Arc::new(FixedClock(t0())),
            RateLimitPolicy::new(2, chrono::TimeDelta::seconds(3600), 2, 20).unwrap(),
        )
    }

    fn good_images() -> MockImageChecker {
        let mut images = MockImageChecker::new();
        images.expect_check().returning(|_| Ok(checked()));
        images
    }

    fn good_provider(calls: usize) -> MockSpeciesIdentifier {
        let mut provider = MockSpeciesIdentifier::new();
        provider.expect_name().return_const("test".to_owned());
        provider
            .expect_identify()
            .times(calls)
            .withf(|image| image.format == ImageFormat::Jpeg)
            .returning(|_| Ok(answer()));
        provider
    }

    /// A held-photo store in a shared cell (the SQL one is held to the port's contract by the
    /// repository contract suite).
    fn held_photos(
        cell: Arc<std::sync::Mutex<Option<CheckedImage>>>,
    ) -> crate::repo::MockHeldPhotoRepository {
        let mut photos = crate::repo::MockHeldPhotoRepository::new();
        let kept = Arc::clone(&cell);
        photos.expect_keep().returning(move |_, photo, until| {
            assert_eq!(until, t0() + chrono::TimeDelta::minutes(HELD_PHOTO_MINUTES));
            *kept.lock().unwrap() = Some(photo.clone());
            Ok(())
        });
        photos
            .expect_take()
            .returning(move |_, _| Ok(cell.lock().unwrap().take()));
        photos
    }

    #[tokio::test]
    async fn a_held_photo_is_checked_kept_and_identified_after_the_check() {
        let mut session = anonymous_session(1);
        session.trust.request_count = 2;
        session.trust.rate_limited = true;
        session.trust.window_started_at = Some(t0());
        let (repo, stored) = cas_sessions(vec![session.clone()]);
        let mut images = MockImageChecker::new();
        images.expect_check().times(1).returning(|_| Ok(checked()));
        let cell = Arc::new(std::sync::Mutex::new(None));
        let ids = Identifications::new(
            gate(repo),
            Arc::new(images),
            vec![Arc::new(good_provider(1))],
            Arc::new(FixedClock(t0())),
        )
        .with_held_photos(Arc::new(held_photos(Arc::clone(&cell))));
        let held = |e: &IdentifyFailure| {
            matches!(e, IdentifyFailure::Held(AdmitError::CaptchaRequired { .. }))
        };
        // The API path keeps nothing and decodes nothing for a held session.
        let e = ids
            .identify(&session, &client(Some("n")), vec![1])
            .await
            .unwrap_err();
        assert!(held(&e));
        assert!(cell.lock().unwrap().is_none());
        // The page's path: checked, kept, still refused, nothing counted.
        let e = ids
            .identify_or_keep(
                &session,
                &client(Some("n")),
                vec![1],
                &SightingInput::default(),
            )
            .await
            .unwrap_err();
        assert!(held(&e));
        assert_eq!(cell.lock().unwrap().as_ref(), Some(&checked()));
        // Before the check the kept photo stays kept and unanswered.
        let e = ids
            .identify_kept(&session, &client(Some("n")))
            .await
            .unwrap_err();
        assert!(held(&e));
        assert!(
            cell.lock().unwrap().is_some(),
            "kept again while still held"
        );
        // The check passed: the kept photo is identified, counted, and no longer kept.
        let mut passed = session.trust;
        passed.pass_captcha(t0());
        stored.lock().unwrap()[0].trust = passed;
        session.trust = passed;
        let done = ids
            .identify_kept(&session, &client(Some("n")))
            .await
            .unwrap()
            .expect("the kept photo is answered");
        assert_eq!(done.result, answer());
        assert_eq!(done.upload_sha256, [7; 32]);
        assert!(done.standing.trust.is_trusted);
        assert!(cell.lock().unwrap().is_none());
        assert_eq!(
            ids.identify_kept(&session, &client(Some("n")))
                .await
                .unwrap(),
            None,
            "answered once"
        );
    }

    #[tokio::test]
    async fn a_photo_refused_on_its_own_account_is_not_kept() {
        let mut session = anonymous_session(1);
        session.trust.rate_limited = true;
        session.trust.window_started_at = Some(t0());
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_| Err(ImageError::UnsupportedFormat));
        let mut photos = crate::repo::MockHeldPhotoRepository::new();
        photos.expect_keep().never();
        let ids =
            service(&session, images, Some(good_provider(0))).with_held_photos(Arc::new(photos));
        let e = ids
            .identify_or_keep(
                &session,
                &client(Some("n")),
                vec![1],
                &SightingInput::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e,
            IdentifyFailure::InvalidImage(ImageError::UnsupportedFormat)
        );
    }

    #[tokio::test]
    async fn a_photo_is_checked_counted_and_identified() {
        let session = anonymous_session(1);
        let ids = service(&session, good_images(), Some(good_provider(1)));
        let done = ids
            .identify(&session, &client(Some("n")), vec![1, 2])
            .await
            .unwrap();
        assert_eq!(done.result, answer());
        assert_eq!(done.provider, "test");
        assert_eq!((done.width, done.height), (4, 3));
        assert_eq!(done.source_format, ImageFormat::Png);
        assert_eq!(done.standing.trust.request_count, 1);
    }

    #[tokio::test]
    async fn without_a_provider_nothing_is_checked_or_counted() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images.expect_check().never();
        let ids = service(&session, images, None);
        assert!(!ids.is_configured());
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert_eq!(e, IdentifyFailure::NotConfigured);
    }

    #[tokio::test]
    async fn a_file_that_is_no_photo_costs_no_identification() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_| Err(ImageError::UnsupportedFormat));
        let ids = service(&session, images, Some(good_provider(0)));
        for _ in 0..5 {
            let e = ids
                .identify(&session, &client(Some("n")), vec![1])
                .await
                .unwrap_err();
            assert_eq!(
                e,
                IdentifyFailure::InvalidImage(ImageError::UnsupportedFormat)
            );
        }
    }

    #[tokio::test]
    async fn the_threshold_asks_for_a_captcha_before_the_provider_is_called() {
        let session = anonymous_session(1);
        // Threshold 2: the second identification marks the session, the third is refused.
        let ids = service(&session, good_images(), Some(good_provider(2)));
        let first = ids
            .identify(&session, &client(Some("n")), vec![1])
            .await
            .unwrap();
        let second = ids
            .identify(
                &Session {
                    trust: first.standing.trust,
                    ..session.clone()
                },
                &client(Some("n")),
                vec![1],
            )
            .await
            .unwrap();
        assert!(second.standing.trust.rate_limited);
        let held = Session {
            trust: second.standing.trust,
            ..session.clone()
        };
        let e = ids
            .identify(&held, &client(Some("n")), vec![1])
            .await
            .unwrap_err();
        assert!(
            matches!(e, IdentifyFailure::Held(AdmitError::CaptchaRequired { retry_after }) if retry_after > 0)
        );
    }

    #[tokio::test]
    async fn a_held_session_is_refused_before_its_upload_is_decoded() {
        let mut session = anonymous_session(1);
        session.trust.rate_limited = true;
        session.trust.request_count = 2;
        session.trust.window_started_at = Some(t0());
        let mut images = MockImageChecker::new();
        images.expect_check().never();
        let ids = service(&session, images, Some(good_provider(0)));
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert!(matches!(
            e,
            IdentifyFailure::Held(AdmitError::CaptchaRequired { .. })
        ));
    }

    #[tokio::test]
    async fn what_an_upload_holds_is_let_go_once_it_is_checked_before_any_provider() {
        let session = anonymous_session(1);
        let hold = Arc::new(());
        let probe = Arc::clone(&hold);
        let mut provider = MockSpeciesIdentifier::new();
        provider.expect_name().return_const("test".to_owned());
        provider.expect_identify().times(1).returning(move |_| {
            assert_eq!(Arc::strong_count(&probe), 1, "the hold is gone already");
            Ok(answer())
        });
        let ids = service(&session, good_images(), Some(provider));
        ids.identify(&session, &client(None), Upload::holding(vec![1], hold))
            .await
            .unwrap();

        // A refused photo lets go of it too (with the upload).
        let hold = Arc::new(());
        let probe = Arc::clone(&hold);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_| Err(ImageError::Corrupt));
        let ids = service(&session, images, Some(good_provider(0)));
        let refused = ids
            .identify(&session, &client(None), Upload::holding(vec![1], hold))
            .await;
        assert!(matches!(refused, Err(IdentifyFailure::InvalidImage(_))));
        assert_eq!(Arc::strong_count(&probe), 1);
    }

    #[tokio::test]
    async fn a_provider_failure_is_reported_and_stays_counted() {
        let session = anonymous_session(1);
        let mut provider = MockSpeciesIdentifier::new();
        provider.expect_name().return_const("test".to_owned());
        provider
            .expect_identify()
            .returning(|_| Err(IdentifyError::Unavailable("status 500".into())));
        let ids = service(&session, good_images(), Some(provider));
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert!(matches!(e, IdentifyFailure::ProviderFailed(_)));
        let again = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert!(matches!(again, IdentifyFailure::ProviderFailed(_)));
        let held = ids
            .gate
            .admit(&session, None)
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(held, AdmitError::CaptchaRequired { .. }),
            "two failed calls used the allowance of two"
        );
    }

    #[tokio::test]
    async fn when_a_provider_fails_the_next_one_answers_and_is_named() {
        let session = anonymous_session(1);
        let mut failing = MockSpeciesIdentifier::new();
        failing.expect_name().return_const("remote".to_owned());
        failing.expect_identify().times(2).returning(|_| {
            Err(IdentifyError::Transient {
                cause: "status 503".into(),
                retry_after: None,
            })
        });
        let mut also_failing = MockSpeciesIdentifier::new();
        also_failing.expect_name().return_const("second".to_owned());
        also_failing
            .expect_identify()
            .times(2)
            .returning(|_| Err(IdentifyError::BadResponse("html".into())));
        let mut ids = service(&session, good_images(), None);
        ids.providers = vec![
            Arc::new(failing),
            Arc::new(also_failing),
            Arc::new(good_provider(1)),
        ];
        let identified = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap();
        assert_eq!(identified.provider, "test");
        assert_eq!(identified.result, answer());
        assert_eq!(
            identified.standing.trust.request_count, 1,
            "counted once for the chain"
        );

        // When every provider fails but one answered, unreadably, that is the answer: said as
        // such, nothing of the bad answer in it, from the provider that gave it.
        ids.providers.pop();
        let unreadable = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap();
        assert_eq!(unreadable.provider, "second");
        assert_eq!(unreadable.result, SpeciesResult::unreadable());
        assert_eq!(unreadable.standing.trust.request_count, 2);

        // When none answered at all, the last failure is the answer (and it counts once).
        let mut down = MockSpeciesIdentifier::new();
        down.expect_name().return_const("down".to_owned());
        down.expect_identify().times(1).returning(|_| {
            Err(IdentifyError::Transient {
                cause: "status 503".into(),
                retry_after: None,
            })
        });
        let e = service(&session, good_images(), Some(down))
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert_eq!(
            e,
            IdentifyFailure::ProviderFailed(IdentifyError::Transient {
                cause: "status 503".into(),
                retry_after: None
            })
        );
    }

    #[tokio::test]
    async fn a_broken_checker_is_unavailable_not_the_person_s_fault() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_| Err(ImageError::Unavailable("no slot".into())));
        let ids = service(&session, images, Some(good_provider(0)));
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert_eq!(e, IdentifyFailure::Unavailable("no slot".into()));
    }
}

//! Identifying the animal in a photo (seed §6, §10, §11).
//!
//! The order is what protects the provider's quota and the person's allowance:
//!
//! 1. a session the adaptive limit already holds is refused before anything is decoded;
//! 2. the photo is checked by its content and re-encoded from its pixels
//!    ([`ImageChecker`]); a file that is no photo costs no identification;
//! 3. the identification is counted by the [`TrustGate`] (per session and per network,
//!    atomically), which may still refuse it;
//! 4. only then are the providers asked, with the re-encoded image: the first of the chain,
//!    and when it fails the next, until one answers (`WILDID_AI_FALLBACK`); the result names
//!    the provider that answered.
//!
//! A provider failure after step 3 stays counted (once, however many providers were asked):
//! the providers were asked, and a client that makes them fail on purpose must not get free
//! calls.

use std::sync::Arc;

use wildid_domain::identification::SpeciesResult;
use wildid_domain::session::Session;
use wildid_domain::trust::TrustState;

use crate::clock::Clock;
use crate::identify::{IdentifyError, ImageChecker, ImageError, ImageFormat, SpeciesIdentifier};
use crate::services::trust::{AdmitError, TrustGate};

/// Why a photo was not identified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyFailure {
    /// No provider is configured on this server (API: 503 `identification_unavailable`).
    #[error("no identification provider is configured")]
    NotConfigured,
    /// The upload is not an acceptable photo (API: 422 `invalid_image`); nothing was counted.
    #[error("invalid image: {0}")]
    InvalidImage(ImageError),
    /// The adaptive limit holds the session or its network (API: 429 `captcha_required` or
    /// `too_many_requests`), or its storage failed.
    #[error(transparent)]
    Held(AdmitError),
    /// The provider gave no usable answer (API: 502 `identification_failed`). The cause is
    /// for the server log only.
    #[error("the provider gave no answer: {0}")]
    ProviderFailed(IdentifyError),
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
    /// The session's trust state after this identification was counted.
    pub trust: TrustState,
}

/// The identification use case.
#[derive(Clone)]
pub struct Identifications {
    gate: TrustGate,
    images: Arc<dyn ImageChecker>,
    providers: Vec<Arc<dyn SpeciesIdentifier>>,
    clock: Arc<dyn Clock>,
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
        }
    }

    /// Whether a provider is configured.
    pub fn is_configured(&self) -> bool {
        !self.providers.is_empty()
    }

    /// Identifies the animal in `upload` for `session`, from `network`
    /// (`limits::network_of` of the client address, if known).
    ///
    /// # Errors
    /// [`IdentifyFailure`], in the order of the module's steps.
    pub async fn identify(
        &self,
        session: &Session,
        network: Option<&str>,
        upload: Vec<u8>,
    ) -> Result<Identified, IdentifyFailure> {
        if self.providers.is_empty() {
            return Err(IdentifyFailure::NotConfigured);
        }
        // Step 1: the stored state already says no (no decoding for a held session).
        let mut probe = session.trust;
        if let wildid_domain::trust::TrustDecision::CaptchaRequired { retry_after } =
            probe.can_proceed(self.gate.policy(), self.clock.now())
        {
            return Err(IdentifyFailure::Held(AdmitError::CaptchaRequired {
                retry_after: retry_after.num_seconds(),
            }));
        }
        // Step 2.
        let image = self.images.check(upload).await.map_err(|e| match e {
            ImageError::Unavailable(cause) => IdentifyFailure::Unavailable(cause),
            refused => IdentifyFailure::InvalidImage(refused),
        })?;
        // Step 3.
        let trust = match self.gate.admit(session, network).await {
            Ok(trust) => trust,
            Err(e) => {
                if matches!(e, AdmitError::CaptchaRequired { .. }) {
                    tracing::warn!(
                        security_event = "identification_rate_limited",
                        "identification limit reached; a CAPTCHA is required"
                    );
                }
                return Err(IdentifyFailure::Held(e));
            }
        };
        // Step 4.
        let (result, provider) = self.ask_providers(&image).await?;
        Ok(Identified {
            result,
            provider,
            source_format: image.source_format,
            width: image.width,
            height: image.height,
            upload_sha256: image.upload_sha256,
            thumbnail: image.thumbnail,
            trust,
        })
    }
}

impl Identifications {
    /// The first answer of the chain, with the name of the provider that gave it; when every
    /// provider fails, the last failure.
    async fn ask_providers(
        &self,
        image: &crate::identify::CheckedImage,
    ) -> Result<(SpeciesResult, String), IdentifyFailure> {
        let mut last = IdentifyError::NotConfigured;
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
                    last = e;
                }
            }
        }
        Err(IdentifyFailure::ProviderFailed(last))
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
        let clock = Arc::new(FixedClock(t0()));
        let gate = TrustGate::new(
            Arc::new(cas_sessions(vec![session.clone()]).0),
            Arc::new(MemoryRateLimits::default()),
            Arc::new(HmacDigest::new(SecretBytes::new(vec![1; 64]))),
            clock.clone(),
            RateLimitPolicy::new(2, chrono::TimeDelta::seconds(3600), 20).unwrap(),
        );
        Identifications::new(
            gate,
            Arc::new(images),
            provider
                .into_iter()
                .map(|p| Arc::new(p) as Arc<dyn SpeciesIdentifier>)
                .collect(),
            clock,
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

    #[tokio::test]
    async fn a_photo_is_checked_counted_and_identified() {
        let session = anonymous_session(1);
        let ids = service(&session, good_images(), Some(good_provider(1)));
        let done = ids.identify(&session, Some("n"), vec![1, 2]).await.unwrap();
        assert_eq!(done.result, answer());
        assert_eq!(done.provider, "test");
        assert_eq!((done.width, done.height), (4, 3));
        assert_eq!(done.source_format, ImageFormat::Png);
        assert_eq!(done.trust.request_count, 1);
    }

    #[tokio::test]
    async fn without_a_provider_nothing_is_checked_or_counted() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images.expect_check().never();
        let ids = service(&session, images, None);
        assert!(!ids.is_configured());
        let e = ids.identify(&session, None, vec![1]).await.unwrap_err();
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
                .identify(&session, Some("n"), vec![1])
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
        let first = ids.identify(&session, Some("n"), vec![1]).await.unwrap();
        let second = ids
            .identify(
                &Session {
                    trust: first.trust,
                    ..session.clone()
                },
                Some("n"),
                vec![1],
            )
            .await
            .unwrap();
        assert!(second.trust.rate_limited);
        let held = Session {
            trust: second.trust,
            ..session.clone()
        };
        let e = ids.identify(&held, Some("n"), vec![1]).await.unwrap_err();
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
        let e = ids.identify(&session, None, vec![1]).await.unwrap_err();
        assert!(matches!(
            e,
            IdentifyFailure::Held(AdmitError::CaptchaRequired { .. })
        ));
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
        let e = ids.identify(&session, None, vec![1]).await.unwrap_err();
        assert!(matches!(e, IdentifyFailure::ProviderFailed(_)));
        let again = ids.identify(&session, None, vec![1]).await.unwrap_err();
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
        let identified = ids.identify(&session, None, vec![1]).await.unwrap();
        assert_eq!(identified.provider, "test");
        assert_eq!(identified.result, answer());
        assert_eq!(
            identified.trust.request_count, 1,
            "counted once for the chain"
        );

        // When every provider fails, the last failure is the answer (and it counts once).
        ids.providers.pop();
        let e = ids.identify(&session, None, vec![1]).await.unwrap_err();
        assert_eq!(
            e,
            IdentifyFailure::ProviderFailed(IdentifyError::BadResponse("html".into()))
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
        let e = ids.identify(&session, None, vec![1]).await.unwrap_err();
        assert_eq!(e, IdentifyFailure::Unavailable("no slot".into()));
    }
}

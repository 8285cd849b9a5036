//! The entry points of the identification use case and steps 1 to 4 of the module's order:
//! the stored trust state, the malware scan, the photo checked by its content, and the
//! identification counted. Step 5 is in `answer`.

use wildid_domain::session::Session;
use wildid_domain::sighting::{Sighting, SightingInput};
use wildid_domain::trust::{Standing, TrustDecision};

use super::{Identifications, Identified, IdentifyFailure};
use crate::identify::{CheckedImage, ImageError, Renditions, Upload};
use crate::services::sessions::ClientInfo;
use crate::services::trust::AdmitError;

/// Who asks for an identification, which decides what is made of the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// The JSON API: the answer alone.
    Api,
    /// A page: the photo is shown with its answer, and kept through the human check.
    Page,
}

impl Identifications {
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
        self.run(session, client, upload.into(), sighting, Caller::Api)
            .await
    }

    /// As [`Identifications::identify`], for a page that shows the photo with its answer
    /// ([`Identified::thumbnail`] is always made); and when the session must pass the check first
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
        self.run(session, client, upload.into(), sighting, Caller::Page)
            .await
    }

    /// Steps 1 to 5, for `caller`.
    async fn run(
        &self,
        session: &Session,
        client: &ClientInfo,
        upload: Upload,
        sighting: &SightingInput,
        caller: Caller,
    ) -> Result<Identified, IdentifyFailure> {
        // A photo held for the check is kept for the session (pages only).
        let keep = caller == Caller::Page && self.held.is_some();
        if self.providers.is_empty() {
            return Err(IdentifyFailure::NotConfigured);
        }
        let sighting = Sighting::from_input(sighting, self.clock.now())
            .map_err(IdentifyFailure::InvalidSighting)?;
        // Step 1: the stored state already says no (no decoding for a held session, unless
        // its photo is to be kept).
        let mut probe = session.trust();
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
        let renditions = self.renditions(session, caller);
        let image = self
            .images
            .check(bytes, renditions)
            .await
            .map_err(|e| match e {
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

    /// What the check makes: a thumbnail only when something will use it (a page shows it,
    /// a journal or a held photo keeps it, or the first provider reads it). Only the first
    /// provider is asked: a later one that reads thumbnails (the offline model behind a remote
    /// provider) reads the copy instead when the first fails, which costs it one larger
    /// decode during an outage rather than a thumbnail on every photo.
    fn renditions(&self, session: &Session, caller: Caller) -> Renditions {
        let kept = self.journal.is_some() && session.user_id().is_some();
        let read = self
            .providers
            .first()
            .is_some_and(|provider| provider.reads_thumbnail());
        if caller == Caller::Page || kept || read {
            Renditions::WithThumbnail
        } else {
            Renditions::CopyOnly
        }
    }

    /// Whether the photo fits the journal of a signed-in session (before anything counts).
    pub(super) async fn check_room(
        &self,
        session: &Session,
        image: &CheckedImage,
    ) -> Result<(), IdentifyFailure> {
        match (&self.journal, session.user_id()) {
            (Some(journal), Some(owner)) => journal
                .check_room(owner, image)
                .await
                .map_err(IdentifyFailure::Journal),
            _ => Ok(()),
        }
    }

    /// Step 4: the identification counted, or refused.
    pub(super) async fn admit(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::{ImageFormat, MockImageChecker, MockSpeciesIdentifier};
    use crate::services::fixtures::{anonymous_session, t0};
    use crate::services::identify::fixture::{
        answer, checked, client, good_images, good_provider, journal, service, signed_in,
    };
    use crate::services::journal::JournalError;
    use std::sync::Arc;

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
    async fn a_thumbnail_is_made_only_for_what_shows_keeps_or_reads_it() {
        fn images_asked_for(wanted: Renditions) -> MockImageChecker {
            let mut images = MockImageChecker::new();
            images
                .expect_check()
                .times(1)
                .withf(move |_, renditions| *renditions == wanted)
                .returning(|_, _| Ok(checked()));
            images
        }
        // An anonymous answer through the API: nothing shows or keeps the photo.
        let session = anonymous_session(1);
        let ids = service(
            &session,
            images_asked_for(Renditions::CopyOnly),
            Some(good_provider(1)),
        );
        ids.identify(&session, &client(None), vec![1])
            .await
            .unwrap();

        // A page shows it.
        let session = anonymous_session(2);
        let ids = service(
            &session,
            images_asked_for(Renditions::WithThumbnail),
            Some(good_provider(1)),
        );
        let done = ids
            .identify_or_keep(&session, &client(None), vec![1], &SightingInput::default())
            .await
            .unwrap();
        assert_eq!(done.thumbnail, checked().thumbnail);

        // A journal keeps it.
        let session = signed_in(3);
        let mut repo = crate::repo::MockIdentificationRepository::new();
        repo.expect_stored_bytes().returning(|_| Ok(0));
        repo.expect_insert()
            .times(1)
            .returning(|_, _, _| Ok(crate::repo::Kept::Stored));
        let ids = service(
            &session,
            images_asked_for(Renditions::WithThumbnail),
            Some(good_provider(1)),
        )
        .with_journal(journal(repo, 1_000));
        ids.identify(&session, &client(None), vec![1])
            .await
            .unwrap();

        // The provider reads it.
        let session = anonymous_session(4);
        let mut reader = MockSpeciesIdentifier::new();
        reader.expect_name().return_const("offline".to_owned());
        reader.expect_reads_thumbnail().return_const(true);
        reader
            .expect_identify()
            .times(1)
            .returning(|_| Ok(answer()));
        let ids = service(
            &session,
            images_asked_for(Renditions::WithThumbnail),
            Some(reader),
        );
        ids.identify(&session, &client(None), vec![1])
            .await
            .unwrap();
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
            .returning(|_, _| Err(ImageError::UnsupportedFormat));
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
                &session.clone().with_trust(first.standing.trust),
                &client(Some("n")),
                vec![1],
            )
            .await
            .unwrap();
        assert!(second.standing.trust.rate_limited);
        let held = session.clone().with_trust(second.standing.trust);
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
        let mut trust = session.trust();
        trust.rate_limited = true;
        trust.request_count = 2;
        trust.window_started_at = Some(t0());
        session.set_trust(trust);
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
        provider.expect_reads_thumbnail().return_const(false);
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
            .returning(|_, _| Err(ImageError::Corrupt));
        let ids = service(&session, images, Some(good_provider(0)));
        let refused = ids
            .identify(&session, &client(None), Upload::holding(vec![1], hold))
            .await;
        assert!(matches!(refused, Err(IdentifyFailure::InvalidImage(_))));
        assert_eq!(Arc::strong_count(&probe), 1);
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

    #[tokio::test]
    async fn a_broken_checker_is_unavailable_not_the_person_s_fault() {
        let session = anonymous_session(1);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_, _| Err(ImageError::Unavailable("no slot".into())));
        let ids = service(&session, images, Some(good_provider(0)));
        let e = ids
            .identify(&session, &client(None), vec![1])
            .await
            .unwrap_err();
        assert_eq!(e, IdentifyFailure::Unavailable("no slot".into()));
    }
}

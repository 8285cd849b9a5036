//! Step 5: the providers asked in order until one answers, and the answer kept in a
//! signed-in person's journal.

use wildid_domain::identification::SpeciesResult;
use wildid_domain::session::Session;
use wildid_domain::sighting::Sighting;
use wildid_domain::trust::Standing;

use super::{Identifications, Identified, IdentifyFailure};
use crate::identify::{CheckedImage, IdentifyError};
use crate::services::journal::NewEntry;

impl Identifications {
    /// Step 5, the answer kept in a signed-in person's journal, and the answer in the use
    /// case's terms.
    pub(super) async fn answer(
        &self,
        session: &Session,
        image: CheckedImage,
        standing: Standing,
        sighting: Sighting,
    ) -> Result<Identified, IdentifyFailure> {
        let (result, provider) = self.ask_providers(&image).await?;
        let kept = match (&self.journal, session.user_id()) {
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
                            security_event = "provider_failed",
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
                    security_event = "provider_failed",
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
    use super::*;
    use crate::identify::MockSpeciesIdentifier;
    use crate::services::fixtures::anonymous_session;
    use crate::services::identify::fixture::{
        answer, checked, client, good_images, good_provider, journal, service, signed_in,
    };
    use crate::services::trust::AdmitError;
    use std::sync::Arc;
    use wildid_domain::sighting::SightingInput;

    #[tokio::test]
    async fn a_signed_in_answer_is_kept_with_its_sighting_and_an_anonymous_one_is_not() {
        let session = signed_in(1);
        let owner = session.user_id();
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
    async fn a_provider_failure_is_reported_and_stays_counted() {
        let session = anonymous_session(1);
        let mut provider = MockSpeciesIdentifier::new();
        provider.expect_name().return_const("test".to_owned());
        provider.expect_reads_thumbnail().return_const(false);
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
        failing.expect_reads_thumbnail().return_const(false);
        failing.expect_identify().times(2).returning(|_| {
            Err(IdentifyError::Transient {
                cause: "status 503".into(),
                retry_after: None,
            })
        });
        let mut also_failing = MockSpeciesIdentifier::new();
        also_failing.expect_name().return_const("second".to_owned());
        also_failing.expect_reads_thumbnail().return_const(false);
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
        down.expect_reads_thumbnail().return_const(false);
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
}

//! Photos held for the check: kept for [`HELD_PHOTO_MINUTES`] bound to a session the
//! adaptive limit holds, and identified once the session passed the check.

use wildid_domain::session::Session;
use wildid_domain::sighting::Sighting;

use super::{HELD_PHOTO_MINUTES, Identifications, Identified, IdentifyFailure};
use crate::identify::CheckedImage;
use crate::services::sessions::ClientInfo;
use crate::services::trust::AdmitError;

impl Identifications {
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
            .take(&session.key(), self.clock.now())
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

    /// Keeps `image` for `session` for [`HELD_PHOTO_MINUTES`].
    pub(super) async fn keep(
        &self,
        session: &Session,
        image: &CheckedImage,
    ) -> Result<(), IdentifyFailure> {
        let Some(held) = &self.held else {
            return Ok(());
        };
        let until = self.clock.now() + chrono::TimeDelta::minutes(HELD_PHOTO_MINUTES);
        held.keep(&session.key(), image, until)
            .await
            .map_err(|e| IdentifyFailure::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::{ImageError, MockImageChecker};
    use crate::services::fixtures::{FixedClock, anonymous_session, cas_sessions, t0};
    use crate::services::identify::fixture::{
        answer, checked, client, gate, good_provider, service,
    };
    use std::sync::Arc;
    use wildid_domain::sighting::SightingInput;

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
        let mut trust = session.trust();
        trust.request_count = 2;
        trust.rate_limited = true;
        trust.window_started_at = Some(t0());
        session.set_trust(trust);
        let (repo, stored) = cas_sessions(vec![session.clone()]);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .times(1)
            .returning(|_, _| Ok(checked()));
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
        let mut passed = session.trust();
        passed.pass_captcha(t0());
        stored.lock().unwrap()[0].set_trust(passed);
        session.set_trust(passed);
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
        let mut trust = session.trust();
        trust.rate_limited = true;
        trust.window_started_at = Some(t0());
        session.set_trust(trust);
        let mut images = MockImageChecker::new();
        images
            .expect_check()
            .returning(|_, _| Err(ImageError::UnsupportedFormat));
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
}

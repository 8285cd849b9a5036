use std::sync::Arc;

use wildid_domain::session::SessionToken;
use wildid_ports::RepoError;
use wildid_ports::identify::{CheckedImage, ImageFormat};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::{at, session};

fn photo(n: u8) -> CheckedImage {
    CheckedImage {
        source_format: ImageFormat::Webp,
        format: ImageFormat::Jpeg,
        bytes: vec![n; 3000],
        width: 2048,
        height: 768,
        thumbnail: Some(vec![n ^ 0xFF; 500]),
        upload_sha256: [n; 32],
    }
}

on_both_backends!(
    a_held_photo_is_taken_once_by_its_own_session,
    |t: TestDb| async move {
        let repo = t.db.held_photos();
        let (mine, other) = (session(&t, 1).await, session(&t, 2).await);
        repo.keep(&mine.key(), &photo(1), at(600)).await.unwrap();
        assert_eq!(repo.take(&other.key(), at(1)).await.unwrap(), None);
        // A second photo replaces the first.
        repo.keep(&mine.key(), &photo(2), at(600)).await.unwrap();
        assert_eq!(repo.take(&mine.key(), at(1)).await.unwrap(), Some(photo(2)));
        assert_eq!(
            repo.take(&mine.key(), at(2)).await.unwrap(),
            None,
            "taken once"
        );
        // No session, no photo.
        let gone = SessionToken::from_random([9; 32]).key();
        assert_eq!(
            repo.keep(&gone, &photo(3), at(600)).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(
    an_expired_photo_is_never_returned_and_is_purged,
    |t: TestDb| async move {
        let repo = t.db.held_photos();
        let (a, b) = (session(&t, 1).await, session(&t, 2).await);
        repo.keep(&a.key(), &photo(1), at(600)).await.unwrap();
        repo.keep(&b.key(), &photo(2), at(1200)).await.unwrap();
        assert_eq!(repo.take(&a.key(), at(600)).await.unwrap(), None, "expired");
        assert_eq!(repo.purge_expired(at(1200)).await.unwrap(), 1);
        assert_eq!(repo.purge_expired(at(1200)).await.unwrap(), 0);
    }
);

on_both_backends!(a_photo_goes_with_its_session, |t: TestDb| async move {
    let repo = t.db.held_photos();
    let s = session(&t, 1).await;
    repo.keep(&s.key(), &photo(1), at(600)).await.unwrap();
    t.db.sessions().delete(&s.key()).await.unwrap();
    let again = session(&t, 1).await;
    assert_eq!(repo.take(&again.key(), at(1)).await.unwrap(), None);
});

on_both_backends!(
    of_concurrent_takes_one_gets_the_photo,
    |t: TestDb| async move {
        let repo = t.db.held_photos();
        let s = session(&t, 1).await;
        repo.keep(&s.key(), &photo(1), at(600)).await.unwrap();
        let repo = Arc::new(repo);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let repo = Arc::clone(&repo);
                let key = s.key();
                tokio::spawn(async move { repo.take(&key, at(1)).await.unwrap() })
            })
            .collect();
        let mut got = 0;
        for task in tasks {
            got += usize::from(task.await.unwrap().is_some());
        }
        assert_eq!(got, 1);
    }
);

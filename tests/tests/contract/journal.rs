use std::sync::Arc;

use wildid_domain::identification::{
    Alternative, Confidence, Feedback, Identification, PhotoFacts, Probability, SpeciesResult,
};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::sighting::{Position, Sighting, Visibility, obscure};
use wildid_domain::text::PlainText;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::RepoError;
use wildid_ports::repo::{
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, Kept, PhotoSize,
};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::at;

const ROOMY: u64 = 1 << 40;

fn text(s: &str) -> PlainText {
    PlainText::new(s, 1000).unwrap()
}

async fn owner(t: &TestDb, n: u8) -> UserId {
    let id = UserId::from_random([n; 16]);
    let user = User::new(
        id,
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-ciphertext-{n}")),
        at(0),
    );
    t.db.users().insert(&user).await.unwrap();
    id
}

/// Entry `n` of `owner`, made `secs` after the fixtures' instant, with every field set.
fn entry(owner: UserId, n: u16, secs: i64) -> Identification {
    let [hi, lo] = n.to_be_bytes();
    let position = Position::new(-33.856_784, 151.215_297).unwrap();
    Identification {
        id: IdentificationId::from_random([hi, lo, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]),
        owner,
        created_at: at(secs),
        provider: "local-model".into(),
        upload_sha256: [lo; 32],
        photo: PhotoFacts {
            width: 768,
            height: 512,
            stored_bytes: 1_000,
        },
        result: SpeciesResult {
            is_animal: true,
            species: text("Chelonia mydas"),
            common_name: text("Green sea turtle"),
            animal_type: Some(text(if n.is_multiple_of(2) {
                "Reptile"
            } else {
                "bird"
            })),
            conservation_status: Some(text("Endangered")),
            confidence: Confidence::High,
            description: Some(text("A turtle on a reef.")),
            notes: Some(text("Seen clearly.")),
            alternatives: vec![Alternative {
                common_name: text("Hawksbill"),
                species: Some(text("Eretmochelys imbricata")),
                probability: Probability::from_fraction(0.1234).unwrap(),
            }],
        },
        sighting: Sighting {
            position: Some(position),
            observed_at: Some(at(secs - 60)),
            notes: Some(text("On the reef flat\nat low tide")),
        },
        visibility: Visibility::Private,
        obscured_position: Some(obscure(position, [n as u8; 8])),
        feedback: None,
    }
}

fn photo(n: u8) -> JournalPhoto {
    JournalPhoto {
        bytes: vec![n; 900],
        media_type: "image/jpeg".into(),
        thumbnail: vec![n ^ 0xFF; 100],
    }
}

on_both_backends!(
    an_entry_round_trips_every_field_and_only_its_owner_reaches_it,
    |t: TestDb| async move {
        let repo = t.db.identifications();
        let (me, other) = (owner(&t, 1).await, owner(&t, 2).await);
        let mine = entry(me, 1, 10);
        assert_eq!(
            repo.insert(&mine, &photo(1), ROOMY).await.unwrap(),
            Kept::Stored
        );
        assert_eq!(repo.get(mine.id, me).await.unwrap(), mine);
        assert_eq!(repo.get(mine.id, other).await, Err(RepoError::NotFound));
        let full = repo.picture(mine.id, me, PhotoSize::Full).await.unwrap();
        assert_eq!(
            (full.bytes, full.media_type.as_str()),
            (vec![1; 900], "image/jpeg")
        );
        let thumb = repo
            .picture(mine.id, me, PhotoSize::Thumbnail)
            .await
            .unwrap();
        assert_eq!(thumb.bytes, vec![0xFE; 100]);
        assert_eq!(
            repo.picture(mine.id, other, PhotoSize::Full).await,
            Err(RepoError::NotFound)
        );
        // Someone else can neither change nor delete it.
        let verdict = Feedback::new(false, Some("Caretta caretta"), None, at(20)).unwrap();
        assert_eq!(
            repo.put_feedback(mine.id, other, &verdict).await,
            Err(RepoError::NotFound)
        );
        assert_eq!(
            repo.set_visibility(mine.id, other, Visibility::Open).await,
            Err(RepoError::NotFound)
        );
        assert_eq!(repo.delete(mine.id, other).await, Err(RepoError::NotFound));
        assert_eq!(repo.get(mine.id, me).await.unwrap(), mine, "unchanged");
        // The same id twice is a duplicate; an unknown owner is not found.
        assert_eq!(
            repo.insert(&mine, &photo(1), ROOMY).await,
            Err(RepoError::Duplicate)
        );
        let ghost = UserId::from_random([9; 16]);
        assert_eq!(
            repo.insert(&entry(ghost, 2, 10), &photo(2), ROOMY).await,
            Err(RepoError::NotFound)
        );
        assert_eq!(repo.stored_bytes(me).await.unwrap(), 1_000);
        assert_eq!(repo.stored_bytes(ghost).await.unwrap(), 0);
    }
);

on_both_backends!(
    feedback_is_replaced_and_visibility_set_by_the_owner,
    |t: TestDb| async move {
        let repo = t.db.identifications();
        let me = owner(&t, 1).await;
        let mut mine = entry(me, 1, 10);
        repo.insert(&mine, &photo(1), ROOMY).await.unwrap();
        let first =
            Feedback::new(false, Some("Caretta caretta"), Some("Wrong shell"), at(20)).unwrap();
        repo.put_feedback(mine.id, me, &first).await.unwrap();
        let second = Feedback::new(true, None, None, at(30)).unwrap();
        repo.put_feedback(mine.id, me, &second).await.unwrap();
        repo.set_visibility(mine.id, me, Visibility::Obscured)
            .await
            .unwrap();
        mine.feedback = Some(second);
        mine.visibility = Visibility::Obscured;
        assert_eq!(repo.get(mine.id, me).await.unwrap(), mine);
    }
);

on_both_backends!(
    pages_are_newest_first_exact_and_stable_while_entries_are_added,
    |t: TestDb| async move {
        let repo = t.db.identifications();
        let (me, other) = (owner(&t, 1).await, owner(&t, 2).await);
        // Seven entries, three of them at the same instant (the id breaks the tie).
        for (n, secs) in [
            (1, 10),
            (2, 20),
            (3, 30),
            (4, 30),
            (5, 30),
            (6, 40),
            (7, 50),
        ] {
            repo.insert(&entry(me, n, secs), &photo(1), ROOMY)
                .await
                .unwrap();
        }
        repo.insert(&entry(other, 100, 45), &photo(2), ROOMY)
            .await
            .unwrap();
        let all = JournalFilter::default();
        let mut seen = Vec::new();
        let mut after: Option<JournalPosition> = None;
        let mut pages = 0;
        loop {
            let page = repo.list(me, &all, after, 3).await.unwrap();
            assert!(page.entries.len() <= 3);
            seen.extend(page.entries.iter().map(|e| (e.created_at, e.id)));
            pages += 1;
            if pages == 1 {
                // A newer entry arrives while the person reads: later pages do not shift.
                repo.insert(&entry(me, 8, 60), &photo(1), ROOMY)
                    .await
                    .unwrap();
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen.len(), 7, "each of the first seven exactly once");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, then by id");
        assert!(seen.iter().all(|(_, id)| *id != entry(other, 100, 45).id));
        // The new entry is first on a fresh first page.
        let first = repo.list(me, &all, None, 1).await.unwrap();
        assert_eq!(first.entries[0].id, entry(me, 8, 60).id);
    }
);

on_both_backends!(
    filters_by_animal_type_and_by_marked_wrong,
    |t: TestDb| async move {
        let repo = t.db.identifications();
        let me = owner(&t, 1).await;
        for n in 1..=4 {
            repo.insert(&entry(me, n, i64::from(n)), &photo(1), ROOMY)
                .await
                .unwrap();
        }
        let wrong = Feedback::new(false, None, None, at(9)).unwrap();
        let right = Feedback::new(true, None, None, at(9)).unwrap();
        repo.put_feedback(entry(me, 2, 0).id, me, &wrong)
            .await
            .unwrap();
        repo.put_feedback(entry(me, 3, 0).id, me, &right)
            .await
            .unwrap();
        let ids = |page: wildid_ports::repo::JournalSlice| {
            page.entries.into_iter().map(|e| e.id).collect::<Vec<_>>()
        };
        let reptiles = JournalFilter {
            animal_type: Some(" REPTILE ".into()),
            marked_wrong: false,
        };
        assert_eq!(
            ids(repo.list(me, &reptiles, None, 10).await.unwrap()),
            vec![entry(me, 4, 0).id, entry(me, 2, 0).id]
        );
        let marked_wrong = JournalFilter {
            animal_type: None,
            marked_wrong: true,
        };
        assert_eq!(
            ids(repo.list(me, &marked_wrong, None, 10).await.unwrap()),
            vec![entry(me, 2, 0).id]
        );
    }
);

on_both_backends!(
    the_allowance_holds_under_concurrency_and_deletes_give_it_back,
    |t: TestDb| async move {
        let repo: Arc<dyn IdentificationRepository> = t.db.identifications();
        let me = owner(&t, 1).await;
        // Room for three entries of 1,000 bytes; eight try at once.
        let tasks: Vec<_> = (1..=8u16)
            .map(|n| {
                let repo = Arc::clone(&repo);
                tokio::spawn(async move {
                    repo.insert(&entry(me, n, i64::from(n)), &photo(1), 3_500)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut stored = 0;
        for task in tasks {
            match task.await.unwrap() {
                Kept::Stored => stored += 1,
                Kept::OverAllowance { used } => assert!(used <= 3_000),
            }
        }
        assert_eq!(stored, 3);
        assert_eq!(repo.stored_bytes(me).await.unwrap(), 3_000);
        let kept = repo
            .list(me, &JournalFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(kept.entries.len(), 3, "no entry without its bytes counted");
        repo.delete(kept.entries[0].id, me).await.unwrap();
        assert_eq!(repo.stored_bytes(me).await.unwrap(), 2_000);
        assert_eq!(
            repo.picture(kept.entries[0].id, me, PhotoSize::Full).await,
            Err(RepoError::NotFound),
            "the photo went with it"
        );
        assert_eq!(
            repo.delete(kept.entries[0].id, me).await,
            Err(RepoError::NotFound)
        );
    }
);

on_both_backends!(a_journal_goes_with_its_owner, |t: TestDb| async move {
    let repo = t.db.identifications();
    let me = owner(&t, 1).await;
    let mine = entry(me, 1, 10);
    repo.insert(&mine, &photo(1), ROOMY).await.unwrap();
    t.db.users().delete(me).await.unwrap();
    assert_eq!(repo.get(mine.id, me).await, Err(RepoError::NotFound));
    assert_eq!(
        repo.picture(mine.id, me, PhotoSize::Thumbnail).await,
        Err(RepoError::NotFound)
    );
    assert_eq!(repo.stored_bytes(me).await.unwrap(), 0);
    // The same person signing up again starts with an empty journal.
    let again = owner(&t, 1).await;
    let page = repo
        .list(again, &JournalFilter::default(), None, 10)
        .await
        .unwrap();
    assert!(page.entries.is_empty());
});

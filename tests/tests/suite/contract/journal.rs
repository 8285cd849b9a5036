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
    IdentificationRepository, JournalFilter, JournalPhoto, JournalPosition, JournalStamp, Kept,
    PhotoSize,
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
        // Whose it is (for auditing a refusal), and nobody's for an id there is not.
        assert_eq!(repo.owner_of(mine.id).await.unwrap(), Some(me));
        let unknown = entry(me, 99, 10).id;
        assert_eq!(repo.owner_of(unknown).await.unwrap(), None);
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

/// Entry `n` of `owner` at `(lat, lon)`, of a species with `status`, shared as `visibility`.
fn sighting_entry(
    owner: UserId,
    n: u16,
    (lat, lon): (f64, f64),
    status: Option<&str>,
    visibility: Visibility,
) -> Identification {
    let mut e = entry(owner, n, i64::from(n));
    let position = Position::new(lat, lon).unwrap();
    e.sighting.position = Some(position);
    e.obscured_position = Some(obscure(position, [n as u8, 1, 2, 3, 4, 5, 6, 7]));
    e.result.conservation_status = status.map(text);
    e.visibility = visibility;
    e
}

on_both_backends!(
    the_public_map_never_hands_out_a_true_point_it_must_obscure,
    |t: TestDb| async move {
        use wildid_domain::sighting::{Area, ConservationStatus as S};
        let repo = t.db.identifications();
        let me = owner(&t, 1).await;
        let place = (-33.856784, 151.215297);
        let cases = [
            (1, Some("Least Concern"), Visibility::Open, "exact"),
            (2, None, Visibility::Open, "exact"),
            (3, Some("Endangered"), Visibility::Open, "obscured"),
            (4, Some("Near Threatened"), Visibility::Open, "obscured"),
            (5, Some("Least Concern"), Visibility::Obscured, "obscured"),
            (6, Some("Endangered"), Visibility::Private, "hidden"),
            (7, Some("Least Concern"), Visibility::Private, "hidden"),
        ];
        let mut entries = Vec::new();
        for (n, status, visibility, _) in cases {
            let e = sighting_entry(me, n, place, status, visibility);
            repo.insert(&e, &photo(1), ROOMY).await.unwrap();
            entries.push(e);
        }
        // Without a position nothing is shown.
        let mut nowhere = entry(me, 8, 8);
        nowhere.sighting.position = None;
        nowhere.obscured_position = None;
        nowhere.visibility = Visibility::Open;
        repo.insert(&nowhere, &photo(1), ROOMY).await.unwrap();

        let shared = repo
            .shared_in(Area::WORLD, S::NearThreatened, 100)
            .await
            .unwrap();
        assert_eq!(shared.len(), 5, "{shared:?}");
        let true_point = Position::new(place.0, place.1).unwrap();
        for (n, _, _, expected) in cases {
            let e = &entries[usize::from(n) - 1];
            let found: Vec<_> = shared
                .iter()
                .filter(|s| s.position == true_point || Some(s.position) == e.obscured_position)
                .collect();
            match expected {
                "exact" => assert!(
                    found
                        .iter()
                        .any(|s| !s.obscured && s.position == true_point),
                    "{n}"
                ),
                "obscured" => assert!(
                    found
                        .iter()
                        .any(|s| s.obscured && Some(s.position) == e.obscured_position),
                    "{n}"
                ),
                _ => assert!(
                    !shared
                        .iter()
                        .any(|s| Some(s.position) == e.obscured_position),
                    "{n} is private"
                ),
            }
        }
        let exact = shared.iter().filter(|s| s.position == true_point).count();
        assert_eq!(
            exact, 2,
            "only the two open, unthreatened sightings at the true point"
        );
        // From Endangered on, Near Threatened is shown where seen.
        let lenient = repo
            .shared_in(Area::WORLD, S::Endangered, 100)
            .await
            .unwrap();
        assert_eq!(
            lenient.iter().filter(|s| s.position == true_point).count(),
            3
        );
        // An area around the true point but off every obscured point finds only exact ones.
        let tight = Area::new(-33.856_785, 151.215_296, -33.856_783, 151.215_298).unwrap();
        let near = repo.shared_in(tight, S::NearThreatened, 100).await.unwrap();
        assert_eq!(near.len(), 2);
        assert!(near.iter().all(|s| !s.obscured && s.position == true_point));
        // Someone's own map has every sighting of theirs with a position, at its true point.
        let mine = repo.sightings_of(me, 100).await.unwrap();
        assert_eq!(mine.len(), 7);
        assert!(mine.iter().all(|s| s.position == true_point));
        let other = owner(&t, 2).await;
        assert!(repo.sightings_of(other, 100).await.unwrap().is_empty());
    }
);

on_both_backends!(
    a_journals_version_moves_with_every_change_to_it_and_only_then,
    |t: TestDb| async move {
        let repo = t.db.identifications();
        let (me, other) = (owner(&t, 1).await, owner(&t, 2).await);
        let mut seen = vec![repo.stamp(me).await.unwrap()];
        assert_eq!(seen[0], JournalStamp::default(), "never written");
        // Each change, by whichever repository method, gives a new version.
        let moved = |seen: &mut Vec<JournalStamp>, now: JournalStamp, what: &str| {
            assert!(
                seen.iter().all(|s| s.version < now.version),
                "{what}: {now:?} after {seen:?}"
            );
            seen.push(now);
        };
        let mine = entry(me, 1, 10);
        repo.insert(&mine, &photo(1), ROOMY).await.unwrap();
        let now = repo.stamp(me).await.unwrap();
        assert_eq!(now.bytes, 1_000);
        moved(&mut seen, now, "kept");
        let feedback = Feedback {
            correct: false,
            corrected_species: Some(text("Caretta caretta")),
            notes: None,
            given_at: at(20),
        };
        repo.put_feedback(mine.id, me, &feedback).await.unwrap();
        moved(&mut seen, repo.stamp(me).await.unwrap(), "feedback");
        repo.set_visibility(mine.id, me, Visibility::Open)
            .await
            .unwrap();
        moved(&mut seen, repo.stamp(me).await.unwrap(), "visibility");

        // What does not change my journal leaves its version alone: reads, someone else's
        // entry, a refusal.
        let before = repo.stamp(me).await.unwrap();
        repo.list(me, &JournalFilter::default(), None, 10)
            .await
            .unwrap();
        repo.insert(&entry(other, 2, 11), &photo(2), ROOMY)
            .await
            .unwrap();
        assert!(matches!(
            repo.insert(&entry(me, 3, 12), &photo(3), 1_500).await,
            Ok(Kept::OverAllowance { used: 1_000 })
        ));
        assert_eq!(
            repo.set_visibility(mine.id, other, Visibility::Private)
                .await,
            Err(RepoError::NotFound)
        );
        assert_eq!(repo.stamp(me).await.unwrap(), before);

        repo.delete(mine.id, me).await.unwrap();
        let now = repo.stamp(me).await.unwrap();
        assert_eq!(now.bytes, 0);
        moved(&mut seen, now, "deleted");
    }
);

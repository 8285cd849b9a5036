//! The offline model on real photos, and the result built from its ranking.

use super::*;
use wildid_ports::identify::Renditions;

fn model() -> LocalModel {
    LocalModel::load(&ModelSource::Embedded, 1).unwrap()
}

fn ranked(pairs: &[(usize, f32)]) -> Vec<Ranked> {
    pairs
        .iter()
        .map(|&(class, probability)| Ranked { class, probability })
        .collect()
}

#[test]
fn a_loggerhead_ranked_first_is_named_with_its_species_and_status() {
    let table = ClassTable::builtin().unwrap();
    let r = describe(
        &table,
        &ranked(&[(33, 0.72), (34, 0.1), (37, 0.05), (504, 0.02), (1, 0.01)]),
    );
    assert!(r.is_animal);
    assert_eq!(r.species.as_str(), "Caretta caretta");
    assert_eq!(r.common_name.as_str(), "Loggerhead sea turtle");
    assert_eq!(r.animal_type.as_ref().unwrap().as_str(), "reptile");
    assert_eq!(
        r.conservation_status.as_ref().unwrap().as_str(),
        "Vulnerable (VU)"
    );
    assert_eq!(r.confidence, Confidence::High);
    assert_eq!(
        r.description.unwrap().as_str(),
        "Most likely: Loggerhead sea turtle (72 %)."
    );
    assert!(r.notes.unwrap().as_str().contains("offline"));
    assert_eq!(r.alternatives.len(), 5);
    assert_eq!(
        r.alternatives[1].species.as_ref().unwrap().as_str(),
        "Dermochelys coriacea"
    );
    assert_eq!(
        r.alternatives[3].species, None,
        "a coffee mug has no species"
    );
    assert_eq!(r.alternatives[0].probability.percent(), 72);
}

#[test]
fn iucn_codes_are_spelled_out_and_other_statuses_kept() {
    assert_eq!(status_words("CR"), "Critically endangered (CR)");
    assert_eq!(status_words("LC"), "Least concern (LC)");
    assert_eq!(status_words("Domesticated"), "Domesticated");
}

#[test]
fn confidence_follows_the_documented_thresholds() {
    assert_eq!(confidence_of(HIGH_CONFIDENCE), Confidence::High);
    assert_eq!(confidence_of(HIGH_CONFIDENCE - 0.01), Confidence::Medium);
    assert_eq!(confidence_of(MEDIUM_CONFIDENCE), Confidence::Medium);
    assert_eq!(confidence_of(MEDIUM_CONFIDENCE - 0.01), Confidence::Low);
}

#[test]
fn animals_win_when_they_hold_most_of_the_ranked_probability() {
    let table = ClassTable::builtin().unwrap();
    // A rock ranked first, but two turtles together outweigh it.
    let r = describe(&table, &ranked(&[(970, 0.30), (33, 0.25), (34, 0.20)]));
    assert!(r.is_animal);
    assert_eq!(r.species.as_str(), "Caretta caretta");
    assert_eq!(
        r.confidence,
        Confidence::Low,
        "the animal's own score sets the confidence"
    );
}

#[test]
fn a_photo_of_a_thing_says_no_animal_and_what_it_looks_like() {
    let table = ClassTable::builtin().unwrap();
    let r = describe(&table, &ranked(&[(504, 0.8), (968, 0.1), (33, 0.05)]));
    assert!(!r.is_animal);
    assert_eq!(r.species.as_str(), "Unknown");
    assert_eq!(r.animal_type, None);
    let description = r.description.unwrap();
    assert!(
        description
            .as_str()
            .starts_with("No animal recognised. Closest match: "),
        "{description:?}"
    );
    assert_eq!(r.alternatives.len(), 3);
}

#[test]
fn a_missing_or_damaged_model_file_is_refused_with_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.safetensors");
    let e = LocalModel::load(&ModelSource::File(missing), 1).unwrap_err();
    assert!(matches!(e, ModelLoadError::Unreadable { .. }));
    assert!(e.to_string().contains("WILDID_AI_MODEL_PATH"), "{e}");

    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &EMBEDDED_WEIGHTS[..EMBEDDED_WEIGHTS.len() / 2]).unwrap();
    let e = LocalModel::load(&ModelSource::File(cut), 1).unwrap_err();
    assert!(matches!(e, ModelLoadError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string().contains("mobilenet_v2.f16.safetensors"),
        "{e}"
    );

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"version https://git-lfs.github.com/spec/v1\n").unwrap();
    assert!(matches!(
        LocalModel::load(&ModelSource::File(garbage), 1).unwrap_err(),
        ModelLoadError::Corrupt { .. }
    ));
}

#[test]
fn weights_of_another_shape_are_not_taken_for_mobilenet() {
    let mut state =
        candle_core::safetensors::load_buffer(EMBEDDED_WEIGHTS, &network::device()).unwrap();
    let fc = state.remove("classifier.1.weight").unwrap();
    state.insert(
        "classifier.1.weight".to_owned(),
        fc.narrow(0, 0, 10).unwrap(),
    );
    let e = MobileNetV2::from_state(&state).err().unwrap();
    assert!(e.0.contains("classifier.1.weight"), "{}", e.0);
}

#[test]
fn the_embedded_weights_load() {
    let m = model();
    assert_eq!(m.name(), PROVIDER_NAME);
}

/// Committed photos (see `tests/photos/PROVENANCE.md`).
fn photo(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/photos")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Each committed photo, the class the network must rank first, the animal type WildID must
/// answer (`None`: no animal), and the logit of that class as this loader computed it when the
/// photos were added (a check that the weights, the folding and the preprocessing still give
/// the same numbers, within what SIMD differences between machines allow).
const PHOTOS: [(&str, &str, Option<&str>, f32); 9] = [
    ("bird.jpg", "macaw", Some("bird"), 17.8001),
    ("dog.jpg", "German shepherd", Some("mammal"), 22.0196),
    ("fish.jpg", "goldfish", Some("fish"), 22.5754),
    ("fish-clownfish.jpg", "anemone fish", Some("fish"), 18.9216),
    ("cat.jpg", "Egyptian cat", Some("mammal"), 17.8669),
    ("insect-bee.jpg", "bee", Some("insect"), 18.7920),
    (
        "lizard-komodo.jpg",
        "Komodo dragon",
        Some("reptile"),
        21.6744,
    ),
    ("object-coffee.jpg", "espresso", None, 18.2211),
    ("object-rocket.jpg", "drilling platform", None, 11.7696),
];

/// The network's 1,000 logits for an encoded photo.
fn logits_of(m: &LocalModel, photo: &[u8]) -> Vec<f32> {
    let input = preprocess::input_tensor(&image::load_from_memory(photo).unwrap()).unwrap();
    m.classifier
        .network
        .forward(&input)
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn real_photos_are_classified_as_the_animals_they_show() {
    let m = model();
    for (name, class, animal_type, logit) in PHOTOS {
        let bytes = photo(name);
        let ranked = m.rank(&bytes).unwrap();
        let top = m.classifier.classes.get(ranked[0].class).unwrap();
        assert_eq!(top.label, class, "{name}: {ranked:?}");
        let logits = logits_of(&m, &bytes);
        assert_eq!(logits.len(), 1000);
        assert!(
            (logits[ranked[0].class] - logit).abs() < 0.01,
            "{name}: logit {} for {class}, recorded {logit}",
            logits[ranked[0].class]
        );
        let result = m.result(&ranked);
        assert_eq!(result.is_animal, animal_type.is_some(), "{name}");
        assert_eq!(
            result.animal_type.as_ref().map(PlainText::as_str),
            animal_type,
            "{name}"
        );
        assert_eq!(result.alternatives.len(), ALTERNATIVES, "{name}");
    }
}

#[tokio::test]
async fn the_provider_answers_through_the_port_on_the_blocking_pool() {
    let check = |renditions| {
        crate::images::check_photo(
            &photo("lizard-komodo.jpg"),
            &crate::PhotoLimits::default(),
            renditions,
        )
        .unwrap()
    };
    assert!(model().reads_thumbnail(), "so the check makes one for it");
    let checked = check(Renditions::WithThumbnail);
    let result = model().identify(&checked).await.unwrap();
    assert_eq!(result.species.as_str(), "Varanus komodoensis");
    assert_eq!(
        result.conservation_status.unwrap().as_str(),
        "Endangered (EN)"
    );
    assert_eq!(result.confidence, Confidence::High);

    // Without a thumbnail the model reads the copy, and sees the same animal.
    let from_copy = model()
        .identify(&check(Renditions::CopyOnly))
        .await
        .unwrap();
    assert_eq!(from_copy.species, result.species);

    let mut broken = checked;
    broken.bytes.truncate(10);
    if let Some(thumbnail) = broken.thumbnail.as_mut() {
        thumbnail.truncate(10);
    }
    assert!(matches!(
        model().identify(&broken).await,
        Err(IdentifyError::BadResponse(_))
    ));
}

/// `model/reference_logits.tsv` was computed by `model/reference_numpy.py`, an independent
/// numpy implementation that reads torchvision's original float32 `.pth`, applies batch norm
/// unfolded and preprocesses with Pillow as torchvision does. Same top class for every photo;
/// the logit may differ by what float16 weights and another resampler move it (measured: up
/// to 0.06 for the weights, up to 0.4 for the resize).
#[test]
fn the_network_agrees_with_an_independent_reference_implementation() {
    let m = model();
    let reference = include_str!("../../model/reference_logits.tsv");
    let mut checked = 0;
    for line in reference.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, class, logit) = (
            fields[0],
            fields[1].parse::<usize>().unwrap(),
            fields[3].parse::<f32>().unwrap(),
        );
        let bytes = photo(name);
        let logits = logits_of(&m, &bytes);
        let best = (0..logits.len())
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        assert_eq!(best, class, "{name}");
        assert!(
            (logits[class] - logit).abs() < 0.5,
            "{name}: {} against {logit}",
            logits[class]
        );
        checked += 1;
    }
    assert_eq!(checked, PHOTOS.len());
}

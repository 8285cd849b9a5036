//! The offline identification provider: an ImageNet-1k classifier (torchvision's MobileNetV2)
//! run in pure Rust with candle, so that WildID names the animal in a photo on a fresh install
//! with no key and no network.
//!
//! The weights are built into the binary (`model/mobilenet_v2.f16.safetensors`, checked
//! against their SHA-256 when loaded) unless an operator points `WILDID_AI_MODEL_PATH` at
//! another copy. The model is loaded once and shared; each photo runs on tokio's blocking
//! pool, a bounded number at a time.
//!
//! The network knows 1,000 classes, about 400 of them animals; each is mapped to WildID's
//! terms by [`classes`]. It is a generic model, not a field guide: the result says so, and
//! shows the five classes it ranked highest.

mod classes;
mod depthwise;
mod network;
mod preprocess;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::Tensor;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wildid_domain::identification::{
    Alternative, Confidence, Probability, SpeciesResult, unknown_name,
};
use wildid_domain::text::PlainText;
use wildid_ports::identify::{CheckedImage, IdentifyError, SpeciesIdentifier, THUMBNAIL_SIDE};

use classes::{ClassInfo, ClassTable};
use network::MobileNetV2;

/// The provider's name in results and settings.
pub const PROVIDER_NAME: &str = "local-model";

/// The weights built into the binary: torchvision's `mobilenet_v2-b0353104.pth` in float16.
const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../model/mobilenet_v2.f16.safetensors");
/// SHA-256 of [`EMBEDDED_WEIGHTS`] (also in `model/README.md`).
pub const EMBEDDED_WEIGHTS_SHA256: &str =
    "684fd3db38fbc30a7fb55d19845730749566ae5e5f50aa4d112fbefdf4aca028";

/// A top score at or above this is `high` confidence.
pub const HIGH_CONFIDENCE: f32 = 0.60;
/// A top score at or above this (and below [`HIGH_CONFIDENCE`]) is `medium`; below, `low`.
pub const MEDIUM_CONFIDENCE: f32 = 0.30;
/// How many ranked classes a result lists.
pub const ALTERNATIVES: usize = 5;

/// Where the weights come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelSource {
    /// The copy built into the binary.
    #[default]
    Embedded,
    /// A safetensors file with torchvision's MobileNetV2 tensor names.
    File(PathBuf),
}

/// Why the model could not be loaded. The texts say how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    /// The file cannot be read.
    #[error(
        "cannot read the model file {path}: {cause}; fix WILDID_AI_MODEL_PATH or unset it to use the built-in model"
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: String,
    },
    /// The built-in weights are not the ones this build was made with (for example a Git LFS
    /// pointer or a damaged checkout).
    #[error(
        "the built-in model has SHA-256 {found}, expected {EMBEDDED_WEIGHTS_SHA256}; rebuild from a clean checkout (crates/adapters-ai/model)"
    )]
    EmbeddedMismatch {
        /// What was found.
        found: String,
    },
    /// The bytes are not MobileNetV2 weights in safetensors format.
    #[error(
        "the model {source_name} is not usable MobileNetV2 weights: {cause}; replace it with crates/adapters-ai/model/mobilenet_v2.f16.safetensors or unset WILDID_AI_MODEL_PATH"
    )]
    Corrupt {
        /// `built-in` or the file's path.
        source_name: String,
        /// What is wrong.
        cause: String,
    },
}

/// The loaded classifier: network and class table, shared by every request.
struct Classifier {
    network: MobileNetV2,
    classes: ClassTable,
}

/// One ranked class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// ImageNet-1k class index.
    pub class: usize,
    /// Softmax probability.
    pub probability: f32,
}

/// The offline provider ([`SpeciesIdentifier`]).
#[derive(Clone)]
pub struct LocalModel {
    classifier: Arc<Classifier>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel").finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads the model from `source` (synchronously: call it at start-up, or on the blocking
    /// pool); at most `parallel` photos (at least one) are then classified at a time.
    ///
    /// # Errors
    /// [`ModelLoadError`], whose text says how to fix it.
    pub fn load(source: &ModelSource, parallel: usize) -> Result<Self, ModelLoadError> {
        let (bytes, source_name): (std::borrow::Cow<'static, [u8]>, String) = match source {
            ModelSource::Embedded => {
                let found = hex::encode(Sha256::digest(EMBEDDED_WEIGHTS));
                if found != EMBEDDED_WEIGHTS_SHA256 {
                    return Err(ModelLoadError::EmbeddedMismatch { found });
                }
                (EMBEDDED_WEIGHTS.into(), "built-in".to_owned())
            }
            ModelSource::File(path) => (read(path)?.into(), path.display().to_string()),
        };
        let corrupt = |cause: String| ModelLoadError::Corrupt {
            source_name: source_name.clone(),
            cause,
        };
        let state = candle_core::safetensors::load_buffer(&bytes, &network::device())
            .map_err(|e| corrupt(e.to_string()))?;
        let network = MobileNetV2::from_state(&state).map_err(|e| corrupt(e.0))?;
        let classes = ClassTable::builtin().map_err(|e| corrupt(e.to_string()))?;
        Ok(Self {
            classifier: Arc::new(Classifier { network, classes }),
            slots: Arc::new(Semaphore::new(parallel.max(1))),
        })
    }

    /// The classes `photo` most likely shows, best first, [`ALTERNATIVES`] of them
    /// (synchronous; CPU-bound for tens of milliseconds).
    ///
    /// # Errors
    /// The photo does not decode, or the network failed.
    pub fn rank(&self, photo: &[u8]) -> Result<Vec<Ranked>, IdentifyError> {
        let image = image::load_from_memory(photo).map_err(|e| {
            IdentifyError::BadResponse(format!("checked photo did not decode: {e}"))
        })?;
        let input = preprocess::input_tensor(&image).map_err(model_failed)?;
        let logits = self
            .classifier
            .network
            .forward(&input)
            .map_err(model_failed)?;
        top(&logits, ALTERNATIVES).map_err(model_failed)
    }

    /// Runs the network alone on `photo`, decoded and preprocessed beforehand (for the
    /// latency benchmark, which separates the two).
    ///
    /// # Errors
    /// The photo does not decode, or the network failed.
    #[doc(hidden)]
    pub fn forward_only(&self, photo: &[u8]) -> Result<impl Fn() -> bool + use<'_>, IdentifyError> {
        let image = image::load_from_memory(photo)
            .map_err(|e| IdentifyError::BadResponse(format!("photo did not decode: {e}")))?;
        let input = preprocess::input_tensor(&image).map_err(model_failed)?;
        Ok(move || self.classifier.network.forward(&input).is_ok())
    }

    /// The result in WildID's terms for `ranked` (best first).
    fn result(&self, ranked: &[Ranked]) -> SpeciesResult {
        describe(&self.classifier.classes, ranked)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ModelLoadError> {
    std::fs::read(path).map_err(|e| ModelLoadError::Unreadable {
        path: path.to_owned(),
        cause: e.to_string(),
    })
}

fn model_failed(e: candle_core::Error) -> IdentifyError {
    IdentifyError::Unavailable(format!("the offline model failed: {e}"))
}

/// The `k` most probable classes of `logits`, best first.
fn top(logits: &Tensor, k: usize) -> candle_core::Result<Vec<Ranked>> {
    let probabilities: Vec<f32> = candle_nn::ops::softmax_last_dim(logits)?.to_vec1()?;
    let mut ranked: Vec<Ranked> = probabilities
        .iter()
        .enumerate()
        .map(|(class, &probability)| Ranked { class, probability })
        .collect();
    ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    ranked.truncate(k);
    Ok(ranked)
}

/// What the result says about where it came from.
const MODEL_NOTE: &str = "Identified offline by WildID's generic model (MobileNetV2 trained on ImageNet): it knows about 400 kinds of animal, not every species, so check the alternatives and a field guide.";

fn confidence_of(probability: f32) -> Confidence {
    if probability >= HIGH_CONFIDENCE {
        Confidence::High
    } else if probability >= MEDIUM_CONFIDENCE {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

/// A text of the class table as plain text; `None` when it is empty.
fn text(s: &str) -> Option<PlainText> {
    Some(s)
        .filter(|s| !s.is_empty())
        .and_then(|s| PlainText::new(s, 200).ok())
}

/// Builds the result: the best-ranked class that is an animal, when animals hold most of the
/// ranked probability; otherwise "no animal", naming what the photo looks like.
fn describe(classes: &ClassTable, ranked: &[Ranked]) -> SpeciesResult {
    let info = |r: &Ranked| classes.get(r.class);
    let alternatives = ranked
        .iter()
        .filter_map(|r| {
            let c = info(r)?;
            Some(Alternative {
                common_name: text(&c.common_name)?,
                species: text(&c.species),
                probability: Probability::from_fraction(r.probability.clamp(0.0, 1.0))?,
            })
        })
        .collect();
    let animal_mass: f32 = ranked
        .iter()
        .filter(|r| info(r).is_some_and(|c| c.is_animal))
        .map(|r| r.probability)
        .sum();
    let other_mass: f32 = ranked.iter().map(|r| r.probability).sum::<f32>() - animal_mass;
    let best_animal = ranked
        .iter()
        .find_map(|r| info(r).filter(|c| c.is_animal).map(|c| (r, c)));
    let note = text(MODEL_NOTE);
    match best_animal {
        Some((r, c)) if animal_mass >= other_mass => animal_result(c, r, alternatives, note),
        _ => {
            let description = match ranked.first().and_then(info) {
                Some(c) => format!("No animal recognised. Closest match: {}.", c.common_name),
                None => "No animal recognised.".to_owned(),
            };
            SpeciesResult {
                is_animal: false,
                species: unknown_name(),
                common_name: unknown_name(),
                animal_type: None,
                conservation_status: None,
                confidence: confidence_of(other_mass),
                description: text(&description),
                notes: note,
                alternatives,
            }
        }
    }
}

fn animal_result(
    c: &ClassInfo,
    r: &Ranked,
    alternatives: Vec<Alternative>,
    notes: Option<PlainText>,
) -> SpeciesResult {
    let percent =
        Probability::from_fraction(r.probability.clamp(0.0, 1.0)).map_or(0, Probability::percent);
    SpeciesResult {
        is_animal: true,
        species: text(&c.species).unwrap_or_else(unknown_name),
        common_name: text(&c.common_name).unwrap_or_else(unknown_name),
        animal_type: text(&c.animal_type),
        conservation_status: text(&status_words(&c.conservation_status)),
        confidence: confidence_of(r.probability),
        description: text(&format!("Most likely: {} ({percent} %).", c.common_name)),
        notes,
        alternatives,
    }
}

/// An IUCN Red List code as people read it, with the code kept (`Endangered (EN)`); anything
/// else (`Domesticated`) as it is.
fn status_words(code: &str) -> String {
    let words = match code {
        "LC" => "Least concern",
        "NT" => "Near threatened",
        "VU" => "Vulnerable",
        "EN" => "Endangered",
        "CR" => "Critically endangered",
        "EW" => "Extinct in the wild",
        "EX" => "Extinct",
        "DD" => "Data deficient",
        other => return other.to_owned(),
    };
    format!("{words} ({code})")
}

#[async_trait]
impl SpeciesIdentifier for LocalModel {
    fn name(&self) -> &str {
        PROVIDER_NAME
    }

    fn reads_thumbnail(&self) -> bool {
        true
    }

    async fn identify(&self, image: &CheckedImage) -> Result<SpeciesResult, IdentifyError> {
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| IdentifyError::Unavailable("the model's slots are closed".into()))?;
        let model = self.clone();
        // The thumbnail is cheaper to decode and has the pixels the network looks at, unless
        // a long, thin photo left its short side under the network's resize side (or the
        // check made none).
        let thumbnail_short_side = u64::from(image.width.min(image.height))
            * u64::from(THUMBNAIL_SIDE)
            / u64::from(image.width.max(image.height).max(1));
        let bytes = match &image.thumbnail {
            Some(thumbnail) if thumbnail_short_side >= u64::from(preprocess::RESIZE_SIDE) => {
                thumbnail.clone()
            }
            _ => image.bytes.clone(),
        };
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            let ranked = model.rank(&bytes)?;
            Ok(model.result(&ranked))
        })
        .await
        .map_err(|e| IdentifyError::Unavailable(format!("the offline model stopped: {e}")))?
    }
}

#[cfg(test)]
mod tests;

//! WildID's species identification adapters:
//!
//! - [`images::PhotoChecker`] implements the `ImageChecker` port with the `image` crate: an
//!   upload is decoded by its content under strict limits and re-encoded from its pixels.
//! - [`local_model::LocalModel`] implements the `SpeciesIdentifier` port offline: an
//!   ImageNet-1k classifier (MobileNetV2) run with candle, the default provider.
//! - [`openai::OpenAiCompatible`] implements the `SpeciesIdentifier` port for any
//!   OpenAI-compatible chat-completions API with vision (OpenAI, Together.ai, local model
//!   servers), reading the model's answer as untrusted text.
//! - [`measured::Measured`] times any provider's calls and counts its failures, for the
//!   server's metrics.
//!
//! Both are tested against real inputs: images encoded by the `image` crate itself, and (in
//! the workspace's `tests` crate) a real HTTP server on loopback that speaks the provider API.

mod answer;
pub mod clamav;
pub mod images;
mod jpeg_end;
mod jpeg_scaled;
pub mod local_model;
pub mod measured;
pub mod openai;
mod polyglot;
pub mod resilience;

pub use clamav::{Clamd, ClamdAddress};
pub use images::{PhotoChecker, PhotoLimits};
pub use local_model::{LocalModel, ModelLoadError, ModelSource};
pub use measured::{Measured, ProviderBoard};
pub use openai::{OpenAiCompatible, Probe, ProviderSettings, ProviderSetupError};
pub use resilience::{BreakerPolicy, CircuitState, Resilient, RetryPolicy};

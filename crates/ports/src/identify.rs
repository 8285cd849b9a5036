//! Species identification by an AI provider.

use async_trait::async_trait;
use wildid_domain::identification::SpeciesResult;

/// Image formats accepted for identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// BMP.
    Bmp,
}

impl ImageFormat {
    /// The MIME type.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Bmp => "image/bmp",
        }
    }
}

/// An upload that was decoded and checked by content (not by name) before reaching a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    /// Format found by decoding.
    pub format: ImageFormat,
    /// The (possibly re-encoded) image bytes.
    pub bytes: Vec<u8>,
}

/// Why a provider gave no answer. Details are for the server log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    /// No credentials or endpoint configured for this provider.
    #[error("identification provider not configured")]
    NotConfigured,
    /// The provider could not be reached, answered an error status, or timed out.
    #[error("identification provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something that is not a usable result.
    #[error("identification provider answered badly: {0}")]
    BadResponse(String),
}

/// An OpenAI-compatible (or other) vision model that names the species in a photo.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SpeciesIdentifier: Send + Sync {
    /// Short stable name of the provider (`openai`, `together`...).
    fn name(&self) -> &str;

    /// Identifies the animal in `image`. Implementations MUST bound the call with a timeout
    /// and MUST treat everything the provider returns as untrusted text.
    ///
    /// # Errors
    /// [`IdentifyError`]; never a panic on malformed provider output.
    async fn identify(&self, image: &CheckedImage) -> Result<SpeciesResult, IdentifyError>;
}

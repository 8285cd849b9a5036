//! Species identification by an AI provider, and the check every photo passes before one
//! sees it.

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
    /// Every format, in the order of [`ImageFormat::media_type`]'s table.
    pub const ALL: [ImageFormat; 5] = [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::Webp,
        ImageFormat::Bmp,
    ];

    /// The format whose MIME type is `media_type` (`image/png`...), if it is one of these.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.media_type() == media_type)
    }

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

/// A photo as uploaded, with what the server holds while its bytes are in memory (for the HTTP
/// adapter, one of its upload slots, which bound how many bodies are held at once). The
/// identification use case lets go of the hold as soon as the photo is checked and the bytes
/// are dropped, so that an upload waiting for a slow provider does not keep the next one
/// from being read.
pub struct Upload {
    bytes: Vec<u8>,
    hold: Option<Hold>,
}

/// What an [`Upload`] holds while its bytes are in memory; dropping it lets go.
pub type Hold = Box<dyn std::any::Any + Send + Sync>;

impl Upload {
    /// `bytes`, holding nothing.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, hold: None }
    }

    /// `bytes`, and `hold`, which is dropped when the bytes are no longer needed (never later
    /// than the upload itself).
    pub fn holding(bytes: Vec<u8>, hold: impl std::any::Any + Send + Sync) -> Self {
        Self {
            bytes,
            hold: Some(Box::new(hold)),
        }
    }

    /// The bytes as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes and the hold, apart.
    pub fn into_parts(self) -> (Vec<u8>, Option<Hold>) {
        (self.bytes, self.hold)
    }
}

impl From<Vec<u8>> for Upload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("bytes", &self.bytes.len())
            .field("holding", &self.hold.is_some())
            .finish()
    }
}

/// Longest side, in pixels, of [`CheckedImage::thumbnail`].
pub const THUMBNAIL_SIDE: u32 = 512;

/// An upload that was decoded and checked by content (not by name) before reaching a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    /// Format of the upload, found by decoding it.
    pub source_format: ImageFormat,
    /// Format of [`CheckedImage::bytes`] (what a provider is told it receives).
    pub format: ImageFormat,
    /// The image as re-encoded by the checker: decoded pixels only, so no metadata of the
    /// upload (EXIF location, comments, trailing data) reaches a provider.
    pub bytes: Vec<u8>,
    /// Width in pixels of [`CheckedImage::bytes`].
    pub width: u32,
    /// Height in pixels of [`CheckedImage::bytes`].
    pub height: u32,
    /// The same picture as a JPEG at most [`THUMBNAIL_SIDE`] pixels on its longer side (never
    /// larger than [`CheckedImage::bytes`]): what a page shows next to the answer, what a
    /// journal keeps, and enough for a classifier that looks at 224 pixels. Made only when
    /// the check was asked for it ([`Renditions::WithThumbnail`]): encoding it is a
    /// noticeable share of a photo's cost, wasted on an answer that nothing shows or keeps.
    pub thumbnail: Option<Vec<u8>>,
    /// SHA-256 of the upload exactly as received.
    pub upload_sha256: [u8; 32],
}

impl CheckedImage {
    /// [`CheckedImage::thumbnail`], or the copy itself when no thumbnail was made (a valid
    /// JPEG of the same picture, only larger): what a page or a journal shows.
    #[must_use]
    pub fn thumbnail_or_copy(&self) -> &[u8] {
        self.thumbnail.as_deref().unwrap_or(&self.bytes)
    }
}

/// What [`ImageChecker::check`] makes of an upload besides the copy sent to providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renditions {
    /// The copy alone: nothing will show or keep the photo (an anonymous identification
    /// through the API, answered by a provider that reads the copy).
    CopyOnly,
    /// The copy and [`CheckedImage::thumbnail`].
    WithThumbnail,
}

/// Why an upload is not accepted as a photo. The texts are safe to show to the person who
/// uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Nothing was uploaded.
    #[error("the upload is empty")]
    Empty,
    /// The bytes are not one of the accepted formats (whatever the file name said).
    #[error("the upload is not a PNG, JPEG, GIF, WebP or BMP image")]
    UnsupportedFormat,
    /// The format was recognised but the image does not decode.
    #[error("the image is damaged or incomplete")]
    Corrupt,
    /// The file is a picture and something else at once (a polyglot): it carries markup that
    /// runs script, or it is also a ZIP archive. `what` names the other thing.
    #[error("the file is also {what}, not only a picture")]
    Disguised {
        /// What else the file is (`a ZIP archive`, `a web page script`...).
        what: &'static str,
    },
    /// More pixels than may be decoded at once (a decompression bomb: a small file that
    /// would take hundreds of megabytes as pixels).
    #[error("the image has too many pixels to decode: at most {max_megapixels} megapixels")]
    TooManyPixels {
        /// Most megapixels of a colour picture that may be decoded.
        max_megapixels: u64,
    },
    /// Width or height beyond what is accepted.
    #[error("the image is too large: at most {max_side} pixels on each side")]
    TooLarge {
        /// Longest accepted side in pixels.
        max_side: u32,
    },
    /// The checker could not run (for example, every decoding slot stayed busy).
    #[error("image checking unavailable: {0}")]
    Unavailable(String),
}

/// Decodes and checks uploads before identification.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ImageChecker: Send + Sync {
    /// Checks `upload` by its content and returns it re-encoded from its pixels alone, with
    /// a thumbnail when `renditions` asks for one (and only then).
    /// Implementations MUST bound the memory and time one upload can take (decompression
    /// bombs) and MUST NOT run the decoding on async worker threads.
    ///
    /// # Errors
    /// [`ImageError`] naming the problem; nothing is kept of a refused upload.
    async fn check(
        &self,
        upload: Vec<u8>,
        renditions: Renditions,
    ) -> Result<CheckedImage, ImageError>;
}

/// Why a provider gave no answer. Details are for the server log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    /// No credentials or endpoint configured for this provider.
    #[error("identification provider not configured")]
    NotConfigured,
    /// The provider refused or failed in a way that another call will not change (a 4xx such
    /// as a bad key or an exhausted quota, a timeout past the call's budget, a circuit that is
    /// open).
    #[error("identification provider unavailable: {0}")]
    Unavailable(String),
    /// The provider is overloaded, failing or unreachable for now (429, 5xx, a refused
    /// connection): the same call may succeed later, after `retry_after` when it said so.
    #[error("identification provider temporarily unavailable: {cause}")]
    Transient {
        /// What happened, for the log.
        cause: String,
        /// How long the provider asked the caller to wait (`Retry-After`).
        retry_after: Option<std::time::Duration>,
    },
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

    /// Whether the provider reads [`CheckedImage::thumbnail`] when there is one (it costs it
    /// less than the copy), so a check for this provider should make one. By default, no.
    fn reads_thumbnail(&self) -> bool {
        false
    }

    /// Identifies the animal in `image`. Implementations MUST bound the call with a timeout
    /// and MUST treat everything the provider returns as untrusted text.
    ///
    /// # Errors
    /// [`IdentifyError`]; never a panic on malformed provider output.
    async fn identify(&self, image: &CheckedImage) -> Result<SpeciesResult, IdentifyError>;
}

/// Whether a provider is being called, as its circuit breaker decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    /// The provider has no breaker (the offline model: nothing to wait for).
    NoBreaker,
    /// Calls go through.
    Closed,
    /// The provider is skipped until a cool-down ends.
    Open,
    /// One trial call is with the provider.
    HalfOpen,
}

/// What an operator sees of one identification provider, counted by this server process
/// since it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    /// The provider's name ([`SpeciesIdentifier::name`]).
    pub name: String,
    /// Calls made (each after its retries).
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// The latest failure: when, and its kind (`unavailable`, `transient`, `bad_response`,
    /// `not_configured`; never the provider's message).
    pub last_failure: Option<(wildid_domain::Timestamp, &'static str)>,
    /// The median time of the latest calls (at most 100), in milliseconds.
    pub median_ms: Option<u64>,
    /// The circuit breaker's state now.
    pub circuit: Circuit,
}

/// The identification providers' recent health, for the admin console.
pub trait ProviderMonitor: Send + Sync {
    /// Every provider of the chain, in the order they are tried.
    fn statuses(&self) -> Vec<ProviderStatus>;
}

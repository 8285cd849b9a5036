//! The photo check (seed §10, done by content rather than by file name): the upload is
//! decoded with the `image` crate under strict limits (a JPEG photo larger than the copy sent
//! on straight to about that size, `jpeg_scaled`), turned upright, scaled down to what a
//! vision model uses (`fast_image_resize`), and re-encoded as JPEG from its pixels alone
//! (`jpeg-encoder`). Whatever else the file
//! carried (EXIF with the GPS position of a nest, comments, a script appended after the image
//! data, a second file hidden in it) never leaves this module, and nothing is written to disk.
//!
//! Decoding is CPU work: it runs on tokio's blocking pool, at most one upload per core at a
//! time, so a burst of uploads queues instead of taking every blocking thread.

use std::io::Cursor;
use std::sync::Arc;

use async_trait::async_trait;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wildid_ports::identify::{
    CheckedImage, ImageChecker, ImageError, ImageFormat, Renditions, THUMBNAIL_SIDE,
};

/// What one upload may cost, and what the provider receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Longest side (pixels) an upload may have; larger ones are refused before decoding.
    pub max_side: u32,
    /// Most memory the decoder may allocate for one upload.
    pub max_decode_bytes: u64,
    /// Longest side of the image sent on; larger photos are scaled down.
    pub output_side: u32,
    /// Shortest side of the image sent on, at most. OpenAI's vision models fit a photo in
    /// 2048 x 2048 and then scale its short side to 768 pixels in high detail, so more pixels
    /// only cost encoding time and bandwidth.
    pub output_short_side: u32,
    /// JPEG quality of the re-encoded image (1 to 100).
    pub jpeg_quality: u8,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_side: 12_000,
            max_decode_bytes: 256 * 1024 * 1024,
            output_side: 2048,
            output_short_side: 768,
            jpeg_quality: 85,
        }
    }
}

/// [`ImageChecker`] with the `image` crate.
pub struct PhotoChecker {
    limits: PhotoLimits,
    slots: Arc<Semaphore>,
}

impl PhotoChecker {
    /// A checker with `limits` that decodes at most `parallel` uploads at once (at least one).
    pub fn new(limits: PhotoLimits, parallel: usize) -> Self {
        Self {
            limits,
            slots: Arc::new(Semaphore::new(parallel.max(1))),
        }
    }

    /// A checker with `limits`, one decoding slot per available core.
    pub fn per_core(limits: PhotoLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(limits, cores)
    }
}

#[async_trait]
impl ImageChecker for PhotoChecker {
    async fn check(
        &self,
        upload: Vec<u8>,
        renditions: Renditions,
    ) -> Result<CheckedImage, ImageError> {
        if upload.is_empty() {
            return Err(ImageError::Empty);
        }
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| ImageError::Unavailable("the decoding slots are closed".into()))?;
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            check_photo(&upload, &limits, renditions)
        })
        .await
        .map_err(|e| ImageError::Unavailable(format!("the image decoder stopped: {e}")))?
    }
}

/// The check itself, synchronously (for callers that have their own thread).
///
/// # Errors
/// [`ImageError`] naming what is wrong with the upload.
pub fn check_photo(
    upload: &[u8],
    limits: &PhotoLimits,
    renditions: Renditions,
) -> Result<CheckedImage, ImageError> {
    if upload.is_empty() {
        return Err(ImageError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| ImageError::UnsupportedFormat)?;
    let source_format = match reader.format() {
        Some(image::ImageFormat::Png) => ImageFormat::Png,
        Some(image::ImageFormat::Jpeg) => ImageFormat::Jpeg,
        Some(image::ImageFormat::Gif) => ImageFormat::Gif,
        Some(image::ImageFormat::WebP) => ImageFormat::Webp,
        Some(image::ImageFormat::Bmp) => ImageFormat::Bmp,
        _ => return Err(ImageError::UnsupportedFormat),
    };
    // The JPEG decoder accepts a stream cut short (filling the rest with grey); refuse it as
    // the other decoders refuse theirs.
    if source_format == ImageFormat::Jpeg && !crate::jpeg_end::is_complete(upload) {
        return Err(ImageError::Corrupt);
    }
    if let Some(what) = crate::polyglot::disguised_as(upload) {
        return Err(ImageError::Disguised { what });
    }
    let wanted = |stored| fitted(stored, limits.output_side, limits.output_short_side);
    let within = |(w, h): (u32, u32), decoded: u64, rgb_copy: bool| {
        if w > limits.max_side || h > limits.max_side {
            return Err(ImageError::TooLarge {
                max_side: limits.max_side,
            });
        }
        within_memory((w, h), decoded, rgb_copy, limits.max_decode_bytes)
    };
    let reduced = if source_format == ImageFormat::Jpeg {
        crate::jpeg_scaled::decode(upload, wanted, within, limits.max_decode_bytes)?
    } else {
        None
    };
    let rgb = match reduced {
        Some((rgb, orientation)) => {
            let mut pixels = DynamicImage::ImageRgb8(rgb);
            pixels.apply_orientation(orientation);
            pixels.into_rgb8()
        }
        None => decode_whole(reader, limits, within)?,
    };
    if rgb.width() == 0 || rgb.height() == 0 {
        return Err(ImageError::Corrupt);
    }
    let source = rgb.dimensions();
    let (width, height) = fitted(source, limits.output_side, limits.output_short_side);
    let sent = scaled(rgb.into_raw(), source, (width, height))?;
    let bytes = jpeg(&sent, width, height, limits.jpeg_quality)?;
    let (thumb_w, thumb_h) = fitted((width, height), THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let thumbnail = match renditions {
        Renditions::CopyOnly => None,
        Renditions::WithThumbnail if (thumb_w, thumb_h) == (width, height) => Some(bytes.clone()),
        Renditions::WithThumbnail => {
            let small = scaled(sent, (width, height), (thumb_w, thumb_h))?;
            Some(jpeg(&small, thumb_w, thumb_h, THUMBNAIL_QUALITY)?)
        }
    };
    Ok(CheckedImage {
        source_format,
        format: ImageFormat::Jpeg,
        bytes,
        width,
        height,
        thumbnail,
        upload_sha256: Sha256::digest(upload).into(),
    })
}

/// The whole picture in `reader` as RGB, turned upright, with the `image` crate's decoders
/// under `limits`; `within` is asked about its size and memory before any pixel is decoded.
fn decode_whole(
    mut reader: ImageReader<Cursor<&[u8]>>,
    limits: &PhotoLimits,
    within: impl FnOnce((u32, u32), u64, bool) -> Result<(), ImageError>,
) -> Result<image::RgbImage, ImageError> {
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    decode_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(decode_limits);
    let too_large = ImageError::TooLarge {
        max_side: limits.max_side,
    };
    let refused = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => too_large.clone(),
        image::ImageError::Unsupported(_) => ImageError::UnsupportedFormat,
        _ => ImageError::Corrupt,
    };
    let mut decoder = reader.into_decoder().map_err(refused)?;
    within(
        decoder.dimensions(),
        decoder.total_bytes(),
        decoder.color_type() != image::ColorType::Rgb8,
    )?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(refused)?;
    pixels.apply_orientation(orientation);
    Ok(pixels.into_rgb8())
}

/// Refuses a picture whose decoding would hold more than `max_bytes`: its `decoded` pixels
/// plus, when they are not RGB already (`rgb_copy`), their RGB copy. The decoders treat the
/// memory limit as a hint; the pixels' size is known from the header, so this runs before they
/// are allocated (a grey 9000 x 9000 PNG of zeros is 80 KB on the wire, 81 MB decoded and
/// 243 MB more as RGB).
fn within_memory(
    (w, h): (u32, u32),
    decoded: u64,
    rgb_copy: bool,
    max_bytes: u64,
) -> Result<(), ImageError> {
    let copy = if rgb_copy {
        u64::from(w) * u64::from(h) * 3
    } else {
        0
    };
    if decoded.saturating_add(copy) > max_bytes {
        return Err(ImageError::TooManyPixels {
            // A colour picture decodes to 3 bytes a pixel.
            max_megapixels: max_bytes / 3 / 1_000_000,
        });
    }
    Ok(())
}

/// The size `(width, height)` takes to fit `long` pixels on its longer side and `short` on
/// its shorter one, keeping its proportions; never larger than it was, never zero.
fn fitted((width, height): (u32, u32), long: u32, short: u32) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(long) / w.max(h))
        .min(f64::from(short) / w.min(h))
        .min(1.0);
    if scale >= 1.0 {
        return (width, height);
    }
    // Rounded to the nearest pixel, at least one: within u32 since scale < 1.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let side = |x: f64| ((x * scale).round() as u32).max(1);
    (side(w), side(h))
}

/// `rgb` (3 bytes a pixel, `src_w` x `src_h`) scaled to `width` x `height` with SIMD
/// (bilinear, antialiased when it shrinks), or as it is when the size is its own.
fn scaled(
    rgb: Vec<u8>,
    (src_w, src_h): (u32, u32),
    (width, height): (u32, u32),
) -> Result<Vec<u8>, ImageError> {
    if (src_w, src_h) == (width, height) {
        return Ok(rgb);
    }
    let failed =
        |e: &dyn std::fmt::Display| ImageError::Unavailable(format!("scaling failed: {e}"));
    let src = fast_image_resize::images::Image::from_vec_u8(
        src_w,
        src_h,
        rgb,
        fast_image_resize::PixelType::U8x3,
    )
    .map_err(|e| failed(&e))?;
    let mut dst =
        fast_image_resize::images::Image::new(width, height, fast_image_resize::PixelType::U8x3);
    let options = fast_image_resize::ResizeOptions::new().resize_alg(
        fast_image_resize::ResizeAlg::Convolution(fast_image_resize::FilterType::Bilinear),
    );
    fast_image_resize::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(&e))?;
    Ok(dst.into_vec())
}

/// JPEG quality of [`CheckedImage::thumbnail`].
const THUMBNAIL_QUALITY: u8 = 80;

/// `rgb` (`width` x `height`, 3 bytes a pixel) as a baseline JPEG of `quality`.
fn jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ImageError> {
    let failed =
        |e: &dyn std::fmt::Display| ImageError::Unavailable(format!("re-encoding failed: {e}"));
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(failed(&"the image is wider than a JPEG can be"));
    };
    let mut bytes = Vec::with_capacity(rgb.len() / 8);
    jpeg_encoder::Encoder::new(&mut bytes, quality.clamp(1, 100))
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| failed(&e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use image::{ImageFormat as Fmt, Rgb, Rgba, RgbaImage};

    use super::*;

    fn picture(width: u32, height: u32) -> RgbaImage {
        RgbaImage::from_fn(width, height, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
        })
    }

    fn encoded(width: u32, height: u32, format: Fmt) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let image = DynamicImage::ImageRgba8(picture(width, height));
        let image = if format == Fmt::Jpeg {
            DynamicImage::ImageRgb8(image.into_rgb8())
        } else {
            image
        };
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn limits() -> PhotoLimits {
        PhotoLimits::default()
    }

    /// The check with every rendition.
    fn checked_whole(upload: &[u8], limits: &PhotoLimits) -> Result<CheckedImage, ImageError> {
        check_photo(upload, limits, Renditions::WithThumbnail)
    }

    #[test]
    fn every_accepted_format_comes_out_as_a_jpeg_of_its_pixels() {
        for (format, expected) in [
            (Fmt::Png, ImageFormat::Png),
            (Fmt::Jpeg, ImageFormat::Jpeg),
            (Fmt::Gif, ImageFormat::Gif),
            (Fmt::WebP, ImageFormat::Webp),
            (Fmt::Bmp, ImageFormat::Bmp),
        ] {
            let upload = encoded(40, 30, format);
            let checked = checked_whole(&upload, &limits()).unwrap();
            assert_eq!(checked.source_format, expected, "{format:?}");
            assert_eq!(checked.format, ImageFormat::Jpeg);
            assert_eq!((checked.width, checked.height), (40, 30));
            assert_eq!(
                image::guess_format(&checked.bytes).unwrap(),
                Fmt::Jpeg,
                "{format:?}"
            );
            let expected_digest: [u8; 32] = Sha256::digest(&upload).into();
            assert_eq!(checked.upload_sha256, expected_digest);
            assert_eq!(
                checked.thumbnail.as_ref(),
                Some(&checked.bytes),
                "a small photo is its own thumbnail"
            );
        }
    }

    #[test]
    fn a_large_photo_gets_a_thumbnail_of_at_most_512_pixels() {
        let checked = checked_whole(&encoded(1600, 900, Fmt::Png), &limits()).unwrap();
        let thumbnail = checked.thumbnail.unwrap();
        let thumb = image::load_from_memory(&thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (512, 288));
        assert_eq!(image::guess_format(&thumbnail).unwrap(), Fmt::Jpeg);
    }

    #[test]
    fn a_thumbnail_is_made_only_when_asked_for_and_the_copy_is_the_same_either_way() {
        let upload = encoded(1600, 900, Fmt::Jpeg);
        let whole = checked_whole(&upload, &limits()).unwrap();
        let copy_only = check_photo(&upload, &limits(), Renditions::CopyOnly).unwrap();
        assert_eq!(copy_only.thumbnail, None);
        assert!(whole.thumbnail.is_some());
        assert_eq!(copy_only.bytes, whole.bytes);
        assert_eq!(copy_only.thumbnail_or_copy(), &whole.bytes[..]);
        assert_eq!(
            (copy_only.width, copy_only.height, copy_only.upload_sha256),
            (whole.width, whole.height, whole.upload_sha256)
        );
    }

    #[test]
    fn what_is_not_a_picture_is_refused_whatever_it_is_called() {
        for bytes in [
            b"GIF89a but not really".as_slice(),
            b"<?php system($_GET['c']); ?>",
            b"%PDF-1.7\n",
            b"\x00\x00\x00",
        ] {
            // Refused as what it is: no format, a damaged one, or (for the fake GIF, whose
            // header bytes read as 25 120 pixels wide) too large.
            let e = checked_whole(bytes, &limits()).unwrap_err();
            assert_ne!(e, ImageError::Empty, "{e:?}");
        }
        assert_eq!(
            checked_whole(b"", &limits()).unwrap_err(),
            ImageError::Empty
        );
        // TIFF decodes elsewhere, but is not one of the accepted formats (nor compiled in).
        let e = checked_whole(b"II*\x00\x08\x00\x00\x00", &limits()).unwrap_err();
        assert_eq!(e, ImageError::UnsupportedFormat);
    }

    #[test]
    fn a_damaged_picture_is_refused_as_such() {
        for format in [Fmt::Png, Fmt::Jpeg, Fmt::Gif, Fmt::WebP] {
            let upload = encoded(64, 64, format);
            let e = checked_whole(&upload[..upload.len() / 2], &limits()).unwrap_err();
            assert_eq!(e, ImageError::Corrupt, "{format:?} cut in half");
        }
    }

    #[test]
    fn a_picture_beyond_the_limits_is_refused_before_its_pixels_are_allocated() {
        // A one-pixel-high strip is tiny to send but wider than allowed.
        let upload = encoded(13_000, 1, Fmt::Png);
        assert!(upload.len() < 100_000);
        let e = checked_whole(&upload, &limits()).unwrap_err();
        assert_eq!(e, ImageError::TooLarge { max_side: 12_000 });
        // Within the sides but beyond the decoder's memory.
        let small_memory = PhotoLimits {
            max_decode_bytes: 1024,
            ..limits()
        };
        let e = checked_whole(&encoded(100, 100, Fmt::Png), &small_memory).unwrap_err();
        assert_eq!(e, ImageError::TooManyPixels { max_megapixels: 0 });
    }

    #[test]
    fn the_memory_limit_counts_the_rgb_copy_of_a_grey_picture() {
        let grey = DynamicImage::ImageLuma8(image::GrayImage::new(100, 100));
        let mut out = Cursor::new(Vec::new());
        grey.write_to(&mut out, Fmt::Png).unwrap();
        let upload = out.into_inner();
        // 10,000 bytes decoded, 30,000 more as RGB.
        let tight = PhotoLimits {
            max_decode_bytes: 39_999,
            ..limits()
        };
        assert_eq!(
            checked_whole(&upload, &tight),
            Err(ImageError::TooManyPixels { max_megapixels: 0 })
        );
        let enough = PhotoLimits {
            max_decode_bytes: 40_000,
            ..limits()
        };
        assert!(checked_whole(&upload, &enough).is_ok());
    }

    #[test]
    fn a_large_photo_is_scaled_down_to_what_a_vision_model_uses() {
        // A panorama meets the long side's limit, a 4:3 photo the short side's.
        let checked = checked_whole(&encoded(3000, 1000, Fmt::Png), &limits()).unwrap();
        assert_eq!((checked.width, checked.height), (2048, 683));
        let checked = checked_whole(&encoded(1600, 1200, Fmt::Png), &limits()).unwrap();
        assert_eq!((checked.width, checked.height), (1024, 768));
        let back = image::load_from_memory(&checked.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (1024, 768));
        // A JPEG is decoded straight to about that size when a DCT scale fits (`jpeg_scaled`):
        // a 3 MP photo at half, a phone's 12 MP at a quarter; 8 MP at half, then scaled.
        for ((w, h), sent) in [
            ((2000, 1500), (1000, 750)),
            ((4032, 3024), (1008, 756)),
            ((3264, 2448), (1024, 768)),
            ((1920, 1080), (1365, 768)),
        ] {
            let checked = checked_whole(&encoded(w, h, Fmt::Jpeg), &limits()).unwrap();
            assert_eq!((checked.width, checked.height), sent, "{w} x {h}");
            let back = image::load_from_memory(&checked.bytes).unwrap();
            assert_eq!((back.width(), back.height()), sent);
        }
    }

    /// `jpeg` with an EXIF segment that asks for `orientation` (1 to 8).
    fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&orientation.to_le_bytes());
        exif.extend_from_slice(&[0; 6]);
        let length = u16::try_from(exif.len() + 2).unwrap();
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&exif);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn a_photo_is_turned_upright_as_its_exif_says_at_every_size() {
        // Red in the top left quarter, blue elsewhere; EXIF 6 says "turn 90 degrees clockwise",
        // so the red corner must come out top right. Small photos take the general road, large
        // ones the reduced decode.
        for (w, h) in [(400, 300), (2000, 1500), (4000, 3000)] {
            let picture = image::RgbImage::from_fn(w, h, |x, y| {
                if x < w / 4 && y < h / 4 {
                    Rgb([230, 20, 20])
                } else {
                    Rgb([20, 20, 230])
                }
            });
            let mut out = Cursor::new(Vec::new());
            DynamicImage::ImageRgb8(picture)
                .write_to(&mut out, Fmt::Jpeg)
                .unwrap();
            let upload = with_exif_orientation(&out.into_inner(), 6);
            let checked = checked_whole(&upload, &limits()).unwrap();
            assert!(checked.height > checked.width, "{w} x {h} stands upright");
            let back = image::load_from_memory(&checked.bytes).unwrap().into_rgb8();
            let (bw, bh) = back.dimensions();
            let top_right = back.get_pixel(bw - 4, 4);
            let top_left = back.get_pixel(4, 4);
            let bottom_left = back.get_pixel(4, bh - 4);
            assert!(
                top_right[0] > 180 && top_right[2] < 80,
                "{w} x {h}: {top_right:?}"
            );
            assert!(
                top_left[2] > 180 && top_left[0] < 80,
                "{w} x {h}: {top_left:?}"
            );
            assert!(bottom_left[2] > 180, "{w} x {h}: {bottom_left:?}");
        }
    }

    #[test]
    fn the_reduced_decode_sees_what_the_whole_decode_sees() {
        // The same 3 MP photo through both roads: the reduced decode, and the whole decode
        // scaled to the same size, agree pixel for pixel within a few levels.
        let upload = encoded(2000, 1500, Fmt::Jpeg);
        let reduced = checked_whole(&upload, &limits()).unwrap();
        let whole = image::load_from_memory(&upload).unwrap().into_rgb8();
        let whole = scaled(whole.into_raw(), (2000, 1500), (1000, 750)).unwrap();
        let reduced = image::load_from_memory(&reduced.bytes).unwrap().into_rgb8();
        let difference: u64 = reduced
            .as_raw()
            .iter()
            .zip(&whole)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = difference as f64 / whole.len() as f64;
        assert!(mean < 4.0, "mean difference {mean:.2} levels");
    }

    #[test]
    fn fitting_keeps_proportions_and_never_enlarges() {
        assert_eq!(fitted((4000, 3000), 2048, 768), (1024, 768));
        assert_eq!(fitted((3000, 4000), 2048, 768), (768, 1024));
        assert_eq!(fitted((800, 600), 2048, 768), (800, 600));
        assert_eq!(fitted((10_000, 10), 2048, 768), (2048, 2));
        assert_eq!(fitted((10_000, 1), 512, 512), (512, 1));
        assert_eq!(fitted((0, 0), 512, 512), (0, 0));
    }

    #[test]
    fn nothing_but_the_pixels_is_passed_on() {
        // Text chunks before the image data and a payload after its end.
        let mut upload = encoded(32, 32, Fmt::Png);
        let comment = png_chunk(b"tEXt", b"Comment\0nest at 51.5072N 0.1276W");
        upload.splice(33..33, comment);
        upload.extend_from_slice(b"ftypmp42 a phone's motion-photo trailer");
        let checked = checked_whole(&upload, &limits()).unwrap();
        for secret in [b"51.5072N".as_slice(), b"motion-photo"] {
            assert!(
                !checked.bytes.windows(secret.len()).any(|w| w == secret),
                "{:?} was passed on",
                String::from_utf8_lossy(secret)
            );
        }
    }

    #[test]
    fn a_picture_that_is_also_a_script_or_an_archive_is_refused_by_name() {
        let mut script = encoded(32, 32, Fmt::Png);
        script.extend_from_slice(b"<script>alert(1)</script>");
        assert_eq!(
            checked_whole(&script, &limits()),
            Err(ImageError::Disguised {
                what: "a web page script"
            })
        );
        let mut zip = encoded(32, 32, Fmt::Jpeg);
        zip.extend_from_slice(b"PK\x05\x06");
        zip.extend_from_slice(&[0; 18]);
        assert_eq!(
            checked_whole(&zip, &limits()),
            Err(ImageError::Disguised {
                what: "a ZIP archive"
            })
        );
    }

    #[test]
    fn transparency_and_grey_become_plain_colour_pixels() {
        let grey = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(8, 8, image::Luma([7])));
        let mut out = Cursor::new(Vec::new());
        grey.write_to(&mut out, Fmt::Png).unwrap();
        let checked = checked_whole(&out.into_inner(), &limits()).unwrap();
        let back = image::load_from_memory(&checked.bytes).unwrap().into_rgb8();
        let Rgb([r, g, b]) = *back.get_pixel(4, 4);
        assert!(r.abs_diff(7) < 4 && g.abs_diff(7) < 4 && b.abs_diff(7) < 4);
    }

    #[tokio::test]
    async fn the_async_check_runs_off_the_worker_and_refuses_empty_uploads_at_once() {
        let checker = PhotoChecker::new(limits(), 1);
        assert_eq!(
            checker
                .check(Vec::new(), Renditions::CopyOnly)
                .await
                .unwrap_err(),
            ImageError::Empty
        );
        let checked = checker
            .check(encoded(10, 10, Fmt::Bmp), Renditions::WithThumbnail)
            .await
            .unwrap();
        assert_eq!(checked.source_format, ImageFormat::Bmp);
    }

    proptest::proptest! {
        /// Fuzzing by property (`scripts/fuzz` runs it with many more cases): any upload made
        /// by flipping, overwriting and cutting the bytes of a real photo of each format is
        /// answered with a checked JPEG within the limits or a typed refusal, never a panic.
        #[test]
        fn fuzz_damaged_uploads_are_refused_or_checked_never_a_panic(
            format in 0usize..5,
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 0..24),
            cut in proptest::option::of(proptest::prelude::any::<usize>()),
        ) {
            let formats = [Fmt::Jpeg, Fmt::Png, Fmt::Gif, Fmt::WebP, Fmt::Bmp];
            let mut upload = encoded(48, 32, formats[format]);
            for (at, byte) in edits {
                let len = upload.len();
                upload[at % len] = byte;
            }
            if let Some(cut) = cut {
                upload.truncate(cut % (upload.len() + 1));
            }
            let small = PhotoLimits { max_side: 4096, max_decode_bytes: 64 * 1024 * 1024, ..limits() };
            if let Ok(checked) = checked_whole(&upload, &small) {
                let back = image::load_from_memory(&checked.bytes).unwrap();
                proptest::prop_assert_eq!((back.width(), back.height()), (checked.width, checked.height));
                proptest::prop_assert!(checked.width <= 4096 && checked.height <= 4096);
            }
        }
    }

    /// A PNG chunk with its CRC (CRC-32 of type and data, as the PNG specification defines).
    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in kind.iter().chain(data) {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(&(!crc).to_be_bytes());
        chunk
    }
}

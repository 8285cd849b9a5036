//! JPEG photos decoded straight to about the size sent on. A phone's 12 MP photo needs a copy
//! of about 1024 x 768 pixels: decoding it whole (36 MB of RGB) and scaling it down costs more
//! than reading it. `jpeg-decoder` can stop the inverse DCT at 1/2, 1/4 or 1/8 of each block's
//! pixels; every coefficient of the file is still read and checked, so a damaged or cut photo
//! is refused exactly as by a full decode.
//!
//! This is only a faster road for the common photo (8-bit colour or grey, large enough to be
//! scaled by at least half): anything else ([`decode`] answers `Ok(None)`) takes the general
//! road through the `image` crate.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use wildid_ports::identify::ImageError;

/// How far below the wanted size a reduced decode may land (in per cent of each side): 2000 x
/// 1500 decodes at 1/2 to 1000 x 750 for a wanted 1024 x 768. A provider that scales the copy
/// to 768 pixels on its short side sees the same detail; the decode costs a quarter of the
/// pixels and no scaling pass.
const SHORTFALL_PERCENT: u32 = 5;

/// The photo in `upload` decoded at the smallest DCT scale that still gives about `wanted`
/// (`(width, height)` in the photo's stored orientation), as RGB with the orientation its EXIF
/// asks for; `Ok(None)` when no reduced scale fits or the photo is not 8-bit colour or grey
/// (the caller decodes it in full). `within` is asked, before any pixel is decoded, about the
/// stored size and what a full decode would hold (its bytes, and whether an RGB copy would be
/// made), exactly as the general road asks it, so both roads refuse the same photos.
///
/// # Errors
/// [`ImageError::Corrupt`] for a damaged photo, or what `within` refuses.
pub(crate) fn decode(
    upload: &[u8],
    wanted: impl FnOnce((u32, u32)) -> (u32, u32),
    within: impl FnOnce((u32, u32), u64, bool) -> Result<(), ImageError>,
    max_decode_bytes: u64,
) -> Result<Option<(RgbImage, Orientation)>, ImageError> {
    let mut decoder = jpeg_decoder::Decoder::new(upload);
    decoder.set_max_decoding_buffer_size(usize::try_from(max_decode_bytes).unwrap_or(usize::MAX));
    match decoder.read_info() {
        Ok(()) => {}
        // Arithmetic coding, 12-bit samples...: the general road decides.
        Err(jpeg_decoder::Error::Unsupported(_)) => return Ok(None),
        Err(_) => return Err(ImageError::Corrupt),
    }
    let Some(info) = decoder.info() else {
        return Err(ImageError::Corrupt);
    };
    let stored = (u32::from(info.width), u32::from(info.height));
    let grey = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => false,
        jpeg_decoder::PixelFormat::L8 => true,
        jpeg_decoder::PixelFormat::L16 | jpeg_decoder::PixelFormat::CMYK32 => return Ok(None),
    };
    let pixels = u64::from(stored.0) * u64::from(stored.1);
    within(stored, if grey { pixels } else { pixels * 3 }, grey)?;
    let Some(denominator) = denominator(stored, wanted(stored)) else {
        return Ok(None);
    };
    let request = |side: u32| u16::try_from(side.div_ceil(denominator)).unwrap_or(u16::MAX);
    let (width, height) = decoder
        .scale(request(stored.0), request(stored.1))
        .map_err(|_| ImageError::Corrupt)?;
    let pixels = decoder.decode().map_err(|e| match e {
        jpeg_decoder::Error::Unsupported(_) => ImageError::UnsupportedFormat,
        _ => ImageError::Corrupt,
    })?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let (width, height) = (u32::from(width), u32::from(height));
    let rgb = if grey {
        GrayImage::from_raw(width, height, pixels).map(|g| DynamicImage::ImageLuma8(g).into_rgb8())
    } else {
        RgbImage::from_raw(width, height, pixels)
    };
    rgb.map(|rgb| Some((rgb, orientation)))
        .ok_or(ImageError::Corrupt)
}

/// The largest of 8, 4 and 2 that divides `stored` to no less than `wanted` minus
/// [`SHORTFALL_PERCENT`] on each side, if any.
fn denominator(stored: (u32, u32), wanted: (u32, u32)) -> Option<u32> {
    let enough = |side: u32, want: u32| {
        u64::from(side) * 100 >= u64::from(want) * u64::from(100 - SHORTFALL_PERCENT)
    };
    [8, 4, 2].into_iter().find(|d| {
        enough(stored.0.div_ceil(*d), wanted.0) && enough(stored.1.div_ceil(*d), wanted.1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_the_smallest_that_keeps_about_the_wanted_size() {
        // A 3 MP photo for a 1024 x 768 copy: half, 1000 x 750.
        assert_eq!(denominator((2000, 1500), (1024, 768)), Some(2));
        // A phone's 12 MP: a quarter, 1008 x 756.
        assert_eq!(denominator((4032, 3024), (1024, 768)), Some(4));
        // 8 MP: a quarter would be 816 x 612 (too small); half, then scaled.
        assert_eq!(denominator((3264, 2448), (1024, 768)), Some(2));
        // Full HD wants 1365 x 768; half is 960 x 540: decode it whole.
        assert_eq!(denominator((1920, 1080), (1365, 768)), None);
        // A photo already small enough is never reduced.
        assert_eq!(denominator((640, 480), (640, 480)), None);
        // The offline model's 224 pixels from a 12 MP photo (if it ever asks): an eighth.
        assert_eq!(denominator((4000, 3000), (299, 224)), Some(8));
    }
}

//! Photos the tests upload.

use std::io::Cursor;

/// A small PNG (64 x 48, a colour gradient): a valid photo to identify.
#[must_use]
pub fn small_png() -> Vec<u8> {
    let pixels =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 120]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

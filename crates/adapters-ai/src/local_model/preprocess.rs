//! From a checked photo to the network's input, as torchvision evaluates ImageNet models:
//! the short side scaled to 256 pixels, the centre 224 x 224 cut out, each channel
//! normalised with ImageNet's mean and standard deviation.

use candle_core::Tensor;
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

use super::network::{INPUT_SIDE, device};

/// Short side after scaling, before the centre crop (torchvision's `Resize(256)`).
pub(super) const RESIZE_SIDE: u32 = 256;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The network input for `photo`: a `(3, 224, 224)` tensor.
pub(super) fn input_tensor(photo: &DynamicImage) -> candle_core::Result<Tensor> {
    let rgb = photo.to_rgb8();
    let crop = scaled_centre(&rgb);
    let side = INPUT_SIDE;
    let mut planes = vec![0f32; 3 * side * side];
    for (i, pixel) in crop.pixels().enumerate() {
        for c in 0..3 {
            planes[c * side * side + i] = (f32::from(pixel[c]) / 255.0 - MEAN[c]) / STD[c];
        }
    }
    Tensor::from_vec(planes, (3, side, side), &device())
}

/// The centre square of `rgb` after scaling its short side to [`RESIZE_SIDE`], 224 pixels wide.
fn scaled_centre(rgb: &RgbImage) -> RgbImage {
    let (w, h) = rgb.dimensions();
    let short = w.min(h).max(1);
    let scale = f64::from(RESIZE_SIDE) / f64::from(short);
    // Rounded as torchvision does (int of the product); never below the crop size.
    let side = |x: u32| ((f64::from(x) * scale) as u32).max(INPUT_SIDE as u32);
    let (sw, sh) = if w <= h {
        (RESIZE_SIDE, side(h))
    } else {
        (side(w), RESIZE_SIDE)
    };
    let scaled = image::imageops::resize(rgb, sw, sh, FilterType::Triangle);
    let crop = INPUT_SIDE as u32;
    let left = (sw - crop) / 2;
    let top = (sh - crop) / 2;
    image::imageops::crop_imm(&scaled, left, top, crop, crop).to_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_shape_becomes_a_normalised_224_square() {
        for (w, h) in [(1, 1), (640, 480), (300, 1200), (224, 224)] {
            let photo =
                DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([255, 0, 124])));
            let t = input_tensor(&photo).unwrap();
            assert_eq!(t.dims(), &[3, 224, 224], "{w}x{h}");
            let first: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            let at = |c: usize| first[c * 224 * 224 + 1000];
            assert!((at(0) - (1.0 - 0.485) / 0.229).abs() < 1e-4);
            assert!((at(1) - (0.0 - 0.456) / 0.224).abs() < 1e-4);
        }
    }

    #[test]
    fn the_crop_is_the_centre() {
        // Left third red, centre green, right third blue: the crop of a wide photo is green.
        let photo = RgbImage::from_fn(900, 300, |x, _| match x {
            0..300 => image::Rgb([255, 0, 0]),
            300..600 => image::Rgb([0, 255, 0]),
            _ => image::Rgb([0, 0, 255]),
        });
        let crop = scaled_centre(&photo);
        assert_eq!(crop.dimensions(), (224, 224));
        assert!(crop.pixels().all(|p| p[1] > 200 && p[0] < 40 && p[2] < 40));
    }
}

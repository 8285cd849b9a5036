//! Whether a JPEG upload is complete. The decoder fills a stream cut short with grey and
//! reports success, so a photo cut in half would be identified (and counted) as if whole; PNG,
//! GIF and WebP decoders refuse the same cut. This walks the stream's segments as the JPEG
//! standard (ITU T.81, annex B) lays them out and accepts it only if it reaches the end of
//! image marker (`FF D9`) of the main image; what follows that marker is ignored (it is never
//! passed on: the check re-encodes the pixels).

/// `true` when `bytes` is a JPEG stream that runs to its end-of-image marker.
pub(crate) fn is_complete(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(&[0xFF, 0xD8]) else {
        return false;
    };
    let mut at = bytes.len() - rest.len();
    loop {
        // A marker: FF (any number of fill bytes FF), then its code.
        if bytes.get(at) != Some(&0xFF) {
            return false;
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&code) = bytes.get(at) else {
            return false;
        };
        at += 1;
        match code {
            0xD9 => return true,
            // Standalone markers: restart intervals and TEM carry no length.
            0xD0..=0xD7 | 0x01 => {}
            0x00 => return false,
            _ => {
                let Some(len) = bytes.get(at..at + 2) else {
                    return false;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return false;
                }
                at += len;
                if at > bytes.len() {
                    return false;
                }
                if code == 0xDA {
                    // Entropy-coded data follows a scan header: it ends at the first FF that
                    // is not a stuffed zero or a restart marker.
                    match entropy_end(bytes, at) {
                        Some(end) => at = end,
                        None => return false,
                    }
                }
            }
        }
    }
}

/// The offset of the marker that ends the entropy-coded data starting at `from`.
fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 3 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        });
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(pixels)
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_trailing_bytes_do_not_matter() {
        let whole = jpeg(64, 48);
        assert!(is_complete(&whole));
        let mut appended = whole.clone();
        appended.extend_from_slice(b"PK\x03\x04 a zip after the image");
        assert!(is_complete(&appended));
        for photo in ["bird.jpg", "dog.jpg", "object-coffee.jpg"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/photos")
                .join(photo);
            assert!(is_complete(&std::fs::read(path).unwrap()), "{photo}");
        }
    }

    #[test]
    fn nothing_else_is_complete() {
        for bytes in [
            b"".as_slice(),
            b"\xFF\xD8",
            b"\xFF\xD8\xFF",
            b"\xFF\xD8\xFF\xE0\x00",
            b"\xFF\xD8\xFF\xE0\x00\x01",
            b"\xFF\xD8\xFF\xE0\x00\x10short",
            b"\xFF\xD8garbage",
            b"\x89PNG\r\n\x1a\n",
        ] {
            assert!(!is_complete(bytes), "{bytes:?}");
        }
    }

    proptest::proptest! {
        /// Every cut of a JPEG before its end-of-image marker is incomplete.
        #[test]
        fn every_cut_is_incomplete(fraction in 0.0f64..1.0) {
            let whole = jpeg(40, 30);
            let cut = ((whole.len() - 2) as f64 * fraction) as usize;
            proptest::prop_assert!(!is_complete(&whole[..cut]));
        }

        /// Whatever the bytes, the walk ends without a panic.
        #[test]
        fn any_bytes_are_walked_safely(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)
        ) {
            let mut bytes = vec![0xFF, 0xD8];
            bytes.extend(tail);
            let _ = is_complete(&bytes);
        }
    }
}

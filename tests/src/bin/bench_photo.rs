//! Writes a benchmark photo: a committed real photo scaled to WIDTH x HEIGHT (Lanczos) and
//! saved as a phone camera saves it (JPEG of quality 90, chroma subsampled 4:2:0), so the photo
//! path decodes real image content at the size and in the form a phone sends. Used by
//! `bench/identify.sh`.
//!
//! With MAX_KB, the quality is instead the highest (of 90 and below) whose file is at most
//! MAX_KB kibibytes: a photo of a given size in bytes, as a benchmark may name one.
//!
//! Usage: `bench-photo SOURCE WIDTH HEIGHT OUT [MAX_KB]`
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (source, width, height, out, max_kb) = match &args[..] {
        [source, width, height, out] => (source, width, height, out, None),
        [source, width, height, out, max_kb] => (source, width, height, out, Some(max_kb)),
        _ => {
            eprintln!("usage: bench-photo SOURCE WIDTH HEIGHT OUT [MAX_KB]");
            return ExitCode::from(2);
        }
    };
    let max_bytes = match max_kb.map(|kb| kb.parse::<usize>()) {
        None => None,
        Some(Ok(kb)) => Some(kb * 1024),
        Some(Err(_)) => {
            eprintln!("MAX_KB is a number of kibibytes");
            return ExitCode::from(2);
        }
    };
    let (Ok(width), Ok(height)) = (width.parse::<u32>(), height.parse::<u32>()) else {
        eprintln!("WIDTH and HEIGHT are pixel counts");
        return ExitCode::from(2);
    };
    let photo = match image::open(source) {
        Ok(photo) => photo,
        Err(e) => {
            eprintln!("{source}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scaled = photo
        .resize_exact(width, height, image::imageops::FilterType::Lanczos3)
        .into_rgb8();
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        eprintln!("a JPEG is at most 65535 pixels a side");
        return ExitCode::from(2);
    };
    let mut bytes = Vec::new();
    for quality in (10..=90).rev() {
        bytes.clear();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
        if let Err(e) = encoder.encode(scaled.as_raw(), w, h, jpeg_encoder::ColorType::Rgb) {
            eprintln!("{out}: {e}");
            return ExitCode::FAILURE;
        }
        if max_bytes.is_none_or(|max| bytes.len() <= max) {
            break;
        }
    }
    if max_bytes.is_some_and(|max| bytes.len() > max) {
        eprintln!(
            "{out}: no quality of 10 or more fits in {} bytes",
            bytes.len()
        );
        return ExitCode::FAILURE;
    }
    match std::fs::write(out, &bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}

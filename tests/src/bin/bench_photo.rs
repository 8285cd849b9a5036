//! Writes a benchmark photo: a committed real photo scaled to WIDTH x HEIGHT (Lanczos) and
//! saved as a JPEG of quality 90, so the photo path decodes real image content at the size a
//! phone sends. Used by `bench/identify.sh`.
//!
//! Usage: `bench-photo SOURCE WIDTH HEIGHT OUT`
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, width, height, out] = &args[..] else {
        eprintln!("usage: bench-photo SOURCE WIDTH HEIGHT OUT");
        return ExitCode::from(2);
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
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{out}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut writer = std::io::BufWriter::new(file);
    match image::codecs::jpeg::JpegEncoder::new_with_quality(&mut writer, 90).encode_image(&scaled)
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}

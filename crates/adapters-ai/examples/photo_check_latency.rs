//! Latency of the photo check on one photo: the whole check (decode, scale, encode the copy
//! for providers and the thumbnail) and the decoding alone. For `docs/benchmarks.md`.
//!
//! Usage: `photo_check_latency PHOTO [RUNS]` prints one JSON object of medians in ms.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Instant;

use wildid_adapters_ai::{PhotoLimits, images::check_photo};
use wildid_ports::identify::Renditions;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: photo_check_latency PHOTO [RUNS]");
        return ExitCode::from(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let Ok(upload) = std::fs::read(&path) else {
        eprintln!("{path}: cannot read");
        return ExitCode::FAILURE;
    };
    let limits = PhotoLimits::default();
    let mut whole = Vec::new();
    let mut decode = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        if check_photo(&upload, &limits, Renditions::WithThumbnail).is_err() {
            eprintln!("{path}: refused");
            return ExitCode::FAILURE;
        }
        whole.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        if image::load_from_memory(&upload).is_err() {
            return ExitCode::FAILURE;
        }
        decode.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (whole, decode) = (median(whole), median(decode));
    println!(
        "{{\"photo\":\"{path}\",\"bytes\":{},\"runs\":{runs},\"check_ms\":{whole:.1},\"decode_ms\":{decode:.1},\"scale_and_encode_ms\":{:.1}}}",
        upload.len(),
        whole - decode
    );
    ExitCode::SUCCESS
}

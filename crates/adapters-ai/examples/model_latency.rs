//! Latency of the offline model on one photo: `bench/model.sh` runs it in release, pinned to
//! one core with one compute thread, and records the result in `docs/benchmarks.md`.
//!
//! Usage: `model_latency PHOTO [RUNS]` prints one JSON object: the median, 10th and 90th
//! percentile and minimum of `RUNS` (default 100) classifications of PHOTO after 5 warm-ups,
//! in milliseconds, split into decode + preprocess + forward (`rank`, what a request pays)
//! and the network's forward pass alone.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Instant;

use wildid_adapters_ai::{LocalModel, ModelSource};

// The allocator of the `wildid` binary, so that the numbers are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: model_latency PHOTO [RUNS]");
        return ExitCode::from(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let photo = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let model = match LocalModel::load(&ModelSource::Embedded, 1) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let time = |f: &dyn Fn() -> bool| -> Option<Vec<f64>> {
        for _ in 0..5 {
            f().then_some(())?;
        }
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            f().then_some(())?;
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        Some(samples)
    };
    let Some(rank) = time(&|| model.rank(&photo).is_ok()) else {
        eprintln!("{path}: the model did not classify it");
        return ExitCode::FAILURE;
    };
    let forward_pass = match model.forward_only(&photo) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(forward) = time(&forward_pass) else {
        eprintln!("{path}: the forward pass failed");
        return ExitCode::FAILURE;
    };
    let at = |s: &[f64], q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    let stats = |s: &[f64]| {
        format!(
            "{{\"median_ms\":{:.2},\"p10_ms\":{:.2},\"p90_ms\":{:.2},\"min_ms\":{:.2}}}",
            at(s, 0.5),
            at(s, 0.1),
            at(s, 0.9),
            s[0]
        )
    };
    println!(
        "{{\"photo\":\"{path}\",\"runs\":{runs},\"load_ms\":{load_ms:.1},\"rank\":{},\"forward\":{}}}",
        stats(&rank),
        stats(&forward)
    );
    ExitCode::SUCCESS
}

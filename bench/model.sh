#!/usr/bin/env bash
# Offline model latency: one photo classified on ONE core with ONE compute thread (taskset,
# RAYON_NUM_THREADS=1), release build, 5 warm-ups then RUNS timed runs; prints JSON with the
# median and percentiles of a whole classification (decode + preprocess + forward) and of the
# forward pass alone, and writes it to bench/results/model-<time>.json.
#
# Usage: bench/model.sh [PHOTO] [RUNS]   (defaults: the committed dog photo, 200 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
photo="${1:-crates/adapters-ai/tests/photos/dog.jpg}"
runs="${2:-200}"
cargo build --release --locked -p wildid-adapters-ai --example model_latency
target_dir=${CARGO_TARGET_DIR:-target}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/model-$stamp.json"
RAYON_NUM_THREADS=1 taskset -c 0 "$target_dir/release/examples/model_latency" "$photo" "$runs" | tee "$out"

#!/usr/bin/env bash
# The field-visit benchmark (issue 16), on SQLite and on Postgres: with MAPPINGS visit mappings
# (default 1,000,000), exposure reports for one site and one day (goal: under 50 ms each), and
# the purge of every mapping once past retention while the release server's /healthz (and
# /readyz) is probed (goal: /healthz's p99 within 2x of idle). Everything is done by
# tests/src/bin/visits_bench.rs (it starts the server and, for Postgres, the test suite's
# private cluster). Results: bench/results/visits-latest.json.
#
# Usage: bench/visits.sh [MAPPINGS] [BACKENDS...]   (defaults: 1000000 sqlite postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
mappings="${1:-1000000}"
shift || true
if [ $# -gt 0 ]; then backends=("$@"); else backends=(sqlite postgres); fi

cargo build --release --locked -p wildid-app -p wildid-tests --bin wildid --bin visits-bench
target_dir=${CARGO_TARGET_DIR:-target}
results=()
for backend in "${backends[@]}"; do
  echo "== $backend, $mappings mappings" >&2
  results+=("$("$target_dir/release/visits-bench" "$backend" "$mappings" "$target_dir/release/wildid")")
done
json=$(printf '{"timestamp":"%s","commit":"%s","cpus":%s,"runs":[%s]}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$(nproc)" "$(IFS=,; echo "${results[*]}")")
mkdir -p bench/results
echo "$json" > bench/results/visits-latest.json
echo "$json"

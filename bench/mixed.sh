#!/usr/bin/env bash
# The mixed load scenario (issue 18 "Load"): USERS people signed in with a password, each in
# turn looking at the security status, reading their journal (page and JSON), identifying a
# photo (a provider on loopback that answers at once), booking a visit and cancelling it, and
# signing in again, for SECONDS; once on SQLite (one server), once on Postgres with two server
# processes on one database (the test suite's private cluster), every person's requests
# alternating between them. Release builds; loopback only; it stops by itself.
#
# Reports per kind of request the count, statuses and p50/p99, the whole throughput, every
# 5xx and every ERROR line the servers logged, and each server's resident memory after the
# warm-up (the first quarter) and at the end, in bench/results/mixed-<time>.json.
#
# Usage: bench/mixed.sh [SECONDS] [USERS]   (defaults: 180 and 16)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-180}"
users="${2:-16}"
cargo build --release --locked -p wildid-app -p wildid-tests --bin wildid --bin mixed-load
target_dir=${CARGO_TARGET_DIR:-target}
export WILDID_BIN="$PWD/$target_dir/release/wildid"
stamp=$(date -u +%Y%m%dT%H%MZ)
out="bench/results/mixed-$stamp.json"
{
  echo "{\"commit\": \"$(git rev-parse --short HEAD)\", \"runs\": ["
  "$target_dir/release/mixed-load" sqlite "$seconds" "$users"
  echo ","
  "$target_dir/release/mixed-load" postgres "$seconds" "$users"
  echo "]}"
} > "$out"
python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for run in doc["runs"]:
    print(f'{run["backend"]}: {run["servers"]} server(s), {run["users"]} people, '
          f'{run["requests_per_second"]:.0f} requests/s over {run["seconds"]:.0f} s')
    for kind, k in run["kinds"].items():
        print(f'  {kind:32} {k["per_second"]:7.1f}/s  p50 {k["p50_ms"]:7.1f} ms  p99 {k["p99_ms"]:7.1f} ms  {k["statuses"]}')
    for i, m in enumerate(run["resident_memory"]):
        print(f'  server {i}: RSS {m["after_warm_up_kib"]/1024:.0f} MiB after warm-up, {m["end_kib"]/1024:.0f} MiB at the end, {m["max_kib"]/1024:.0f} MiB at most')
        if "quarters_kib" in m:
            print('    by quarter: RSS ' + ' / '.join(f'{v/1024:.0f}' for v in m["quarters_kib"]) + ' MiB, of which heap (RssAnon) ' + ' / '.join(f'{v/1024:.0f}' for v in m["heap_quarters_kib"]) + ' MiB')
    print(f'  5xx: {sum(sum(v for s, v in k["statuses"].items() if int(s) >= 500) for k in run["kinds"].values())}, '
          f'ERROR lines logged: {len(run["logged_errors"])}')
print(f"written: {sys.argv[1]}")
PY

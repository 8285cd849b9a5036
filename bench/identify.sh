#!/usr/bin/env bash
# The photo path under load: wrk POSTs one JPEG to /api/identify over and over (8
# connections, one session that the adaptive limit never holds) and reports identifications
# per second, p50/p99 and the server's peak RSS.
#
# Scenarios:
#   offline-3mp   the offline model (the default provider) on a 2000 x 1500 photo
#   remote-0.3mp  a provider on loopback that answers at once (bench/fake_provider.py), for
#   remote-3mp    the cost of the photo check alone at 640 x 480, 2000 x 1500 and
#   remote-12mp   4000 x 3000
#   remote-3mp-275k  2000 x 1500 at the size the issue measured (275 KB: the highest quality
#                 that fits); the 3 MP photo above is quality 90 (about 455 KB), more to decode
#   uploads-8     8 and 32 connections each sending a 10 MiB JPEG, each on a fresh server:
#   uploads-32    peak RSS must stay bounded (not grow with the uploads in flight)
# The offline scenario runs at least OFFLINE_SECONDS (default 60: at about 27 a second, more
# than 1,000 identifications), and the peak RSS is read after it; its request count is in the
# results.
#
# ONLY (default "offline remote uploads") runs only the named groups of scenarios.
#
# Usage: [WILDID_BIN=path/to/wildid] [ONLY=...] bench/identify.sh [DURATION_SECONDS]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
offline_duration="${OFFLINE_SECONDS:-60}"
((offline_duration >= duration)) || offline_duration=$duration
connections=8
# shellcheck source=bench/lib.sh
. bench/lib.sh
need_wrk
cargo build --release --locked -p wildid-app -p wildid-tests --bin wildid --bin bench-photo
target_dir=${CARGO_TARGET_DIR:-target}
# WILDID_BIN: another build of the server to measure (an earlier commit's, for a before/after
# taken in one run on the same photos); the photos are always made by this tree's bench-photo.
server_bin=${WILDID_BIN:-$target_dir/release/wildid}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source_photo=crates/adapters-ai/tests/photos/dog.jpg
"$target_dir/release/bench-photo" "$source_photo" 640 480 "$work/p0.3.jpg"
"$target_dir/release/bench-photo" "$source_photo" 2000 1500 "$work/p3.jpg"
"$target_dir/release/bench-photo" "$source_photo" 4000 3000 "$work/p12.jpg"
"$target_dir/release/bench-photo" "$source_photo" 2000 1500 "$work/p3-275k.jpg" 268
# About 10 MiB: a 12 MP photo at the highest quality, noise added so it does not compress.
python3 - "$work/p10mib.jpg" <<'PY'
import os, sys
# 10 MiB of JPEG: the 12 MP photo's bytes repeated after its end-of-image marker would be
# ignored by the check, so instead pad a valid JPEG's comment segments up to the size.
data = open(sys.argv[1].replace("p10mib", "p12"), "rb").read()
target = 10 * 1024 * 1024
comment = os.urandom(65533)
out = bytearray(data[:2])
while len(out) + len(data) - 2 + 65537 < target:
    out += b"\xff\xfe\xff\xff" + comment
out += data[2:]
open(sys.argv[1], "wb").write(out)
PY

python3 bench/fake_provider.py >"$work/provider.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening' "$work/provider.log" 2>/dev/null && break; sleep 0.05; done
provider_port=$(awk '/^listening/ {print $2}' "$work/provider.log")

# start_server NAME ENV...: the release server with generous limits (they are measured, not
# removed) and the given environment; sets $base and $server_pid.
start_server() {
  local name="$1"
  shift
  local log="$work/$name.log"
  env WILDID_LOG=warn WILDID_RATE_LIMIT_THRESHOLD=1000000 WILDID_LIMIT_IDENTIFY=1000000000/minute \
    WILDID_LIMIT_DEFAULT=1000000000/minute WILDID_MAX_UPLOAD_BYTES=12582912 "$@" \
    "$server_bin" serve --bind 127.0.0.1:0 --data-dir "$work/data-$name" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 200); do grep -q 'listening on http://' "$log" 2>/dev/null && break; sleep 0.05; done
  base=$(grep -o "http://[0-9.:]*" "$log" | head -1)
}

# scenario NAME PHOTO CONNECTIONS [SECONDS]: wrk POSTs PHOTO as a multipart upload in one
# session, for SECONDS (default: the run's duration).
scenario() {
  local name="$1" photo="$2" conns="$3" seconds="${4:-$duration}"
  local headers cookie token
  headers=$(curl -s -D - -o "$work/status.json" -H 'User-Agent:' "$base/api/security/status")
  cookie=$(awk -F'[ ;]' 'tolower($1) == "set-cookie:" && $2 ~ /wildid-session=/ {print $2; exit}' <<<"$headers")
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$work/status.json")
  local boundary=wildidbench
  { printf -- '--%s\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' "$boundary"
    cat "$photo"
    printf -- '\r\n--%s--\r\n' "$boundary"; } >"$work/body"
  cat >"$work/post.lua" <<LUA
local f = io.open("$work/body", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "multipart/form-data; boundary=$boundary"
wrk.headers["X-CSRF-Token"] = "$token"
wrk.headers["Cookie"] = "$cookie"
LUA
  wrk -t2 -c"$conns" -d2s -s "$work/post.lua" "$base/api/identify" >/dev/null
  local out rps p50 p99 non2xx requests
  out=$(wrk -t2 -c"$conns" -d"${seconds}s" --timeout 30s --latency -s "$work/post.lua" "$base/api/identify")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
  printf '%-16s %8s id/s  p50 %9s  p99 %9s  requests %6s  non-2xx %s  peak RSS %s KiB\n' \
    "$name" "$rps" "$p50" "$p99" "$requests" "${non2xx:-0}" "$rss" >&2
  printf '{"scenario":"%s","identifications_per_second":%s,"p50":"%s","p99":"%s","requests":%s,"non_2xx":%s,"peak_rss_kib":%s}' \
    "$name" "$rps" "$p50" "$p99" "$requests" "${non2xx:-0}" "$rss"
}

groups=" ${ONLY:-offline remote uploads} "
results=()
if [[ $groups == *" offline "* ]]; then
  start_server offline
  results+=("$(scenario offline-3mp "$work/p3.jpg" "$connections" "$offline_duration")")
  kill "$server_pid"
fi
if [[ $groups == *" remote "* ]]; then
  start_server remote WILDID_AI_PROVIDER=bench WILDID_AI_BASE_URL="http://127.0.0.1:$provider_port/v1" WILDID_AI_MODEL=bench
  results+=("$(scenario remote-0.3mp "$work/p0.3.jpg" "$connections")")
  results+=("$(scenario remote-3mp "$work/p3.jpg" "$connections")")
  results+=("$(scenario remote-3mp-275k "$work/p3-275k.jpg" "$connections")")
  results+=("$(scenario remote-12mp "$work/p12.jpg" "$connections")")
  kill "$server_pid"
fi
if [[ $groups == *" uploads "* ]]; then
  for conns in 8 32; do
    start_server "uploads-$conns" WILDID_AI_PROVIDER=bench WILDID_AI_BASE_URL="http://127.0.0.1:$provider_port/v1" WILDID_AI_MODEL=bench
    results+=("$(scenario "uploads-$conns" "$work/p10mib.jpg" "$conns")")
    kill "$server_pid"
  done
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
json=$(printf '{"timestamp":"%s","commit":"%s","server":"%s","duration_seconds":%s,"cpus":%s,"scenarios":[%s]}\n' \
  "$stamp" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "${WILDID_BIN:-this commit}" "$duration" "$(nproc)" "$(IFS=,; echo "${results[*]}")")
echo "$json" >"bench/results/identify-$stamp.json"
echo "results in bench/results/identify-$stamp.json" >&2

#!/usr/bin/env bash
# WildID benchmark harness: builds the release binary, starts it on SQLite in a temporary data
# directory, drives each scenario with wrk over loopback (the probe, the landing page, and the
# security status through the whole defense stack), then floods it with password sign-ins
# (tests/src/bin/signin_load.rs) while probing /healthz and an authenticated request. Writes
# requests/s, p50/p99 latency, the sign-in throughput against its ideal (cores / one argon2id
# verification), and the server's peak RSS to bench/results/latest.json (and a dated copy).
#
# Usage: bench/run.sh [DURATION_SECONDS] [CONNECTIONS]      (defaults: 10 s, 64 connections)
#
# wrk and the server share this machine's cores, so absolute numbers depend on the host;
# compare scenarios of one run with each other (ratios), not runs across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-64}"
# Seconds of probing per condition (idle, flood) in the sign-in benchmark: twice the wrk
# duration, since a p99 needs many samples.
signin_seconds=$((duration * 2))
threads=2

# shellcheck source=bench/lib.sh
. bench/lib.sh
need_wrk

cargo build --release --locked -p wildid-app -p wildid-tests --bin wildid --bin signin-load
target_dir=${CARGO_TARGET_DIR:-target}
binary=$target_dir/release/wildid
work=$(mktemp -d)
log="$work/server.log"
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Access logs at info level would measure the terminal, not the server: keep warnings only.
# The limits are raised (not turned off: their cost is part of what is measured) so the load
# measures the server, not the limiter: one client address sends it all.
WILDID_LOG=warn WILDID_LOGIN_ATTEMPTS_PER_MINUTE=1000000 WILDID_MAIL_PER_IP_PER_HOUR=100000 \
  WILDID_MAIL_PER_ADDRESS_PER_HOUR=100000 WILDID_LOCKOUT_ATTEMPTS=100 \
  WILDID_LIMIT_DEFAULT=1000000000/minute WILDID_LIMIT_SIGN_IN=1000000000/minute \
  "$binary" serve --bind 127.0.0.1:0 --data-dir "$work/data" >"$log" 2>&1 &
server_pid=$!
base=$(listening_base "$log")

# scenario NAME PATH [HEADER]: wrk against one path (optionally with one extra header).
scenario() {
  local name="$1" path="$2"
  local extra=()
  [ -n "${3:-}" ] && extra=(-H "$3")
  wrk -t"$threads" -c"$connections" -d2s "${extra[@]}" "$base$path" >/dev/null   # warm-up
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "${extra[@]}" "$base$path")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  # wrk leaves requests that never completed (timeouts) out of its latencies: report them.
  timeouts=$(awk '/Socket errors:/ {print $NF}' <<<"$out")
  printf '%-12s %10s req/s   p50 %8s ms   p99 %8s ms   timeouts %s\n' "$name" "$rps" "$p50" "$p99" "${timeouts:-0}" >&2
  printf '{"scenario":"%s","path":"%s","requests_per_second":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s,"timeouts":%s}' \
    "$name" "$path" "$rps" "$p50" "$p99" "${errors:-0}" "${timeouts:-0}"
}

# A session for the status scenario, started with the headers wrk sends (none that enter the
# browser fingerprint), so every wrk request resumes it instead of starting a new one.
cookie=$(curl -s -o /dev/null -D - -H 'User-Agent:' "$base/api/security/status" |
  awk -F'[ ;]' 'tolower($1) == "set-cookie:" && $2 ~ /wildid-session=/ {print $2; exit}')
[ -n "$cookie" ] || { echo "no session cookie from /api/security/status" >&2; exit 1; }

results=()
results+=("$(scenario healthz /healthz)")
results+=("$(scenario landing /)")
# The whole defense stack: host check, CORS, session resume (database read), request limit,
# anti-forgery token in the answer, security headers.
results+=("$(scenario status /api/security/status "Cookie: $cookie")")

peak_rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")

echo "sign-in flood (16 clients) with probes of /healthz and /api/auth/me" >&2
signin=$("$target_dir/release/signin-load" "$base" "$work/data" "$signin_seconds" 16)
peak_rss_signin_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")

stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
json=$(printf '{"timestamp":"%s","commit":"%s","duration_seconds":%s,"connections":%s,"wrk_threads":%s,"cpus":%s,"peak_rss_kib":%s,"peak_rss_after_sign_ins_kib":%s,"scenarios":[%s],"sign_in":%s}\n' \
  "$stamp" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$duration" "$connections" "$threads" \
  "$(nproc)" "$peak_rss_kib" "$peak_rss_signin_kib" "$(IFS=,; echo "${results[*]}")" "$signin")
echo "$json" >bench/results/latest.json
echo "$json" >"bench/results/$(date -u +%Y%m%dT%H%M%SZ).json"
echo "peak RSS ${peak_rss_kib} KiB (${peak_rss_signin_kib} KiB after the sign-ins); results in bench/results/latest.json" >&2

#!/usr/bin/env bash
# The field journal's benchmark (issue 15), on SQLite and on Postgres: a person with ENTRIES
# journal entries reads the first page of /history and a page about 9,900 entries deep, in the
# same run as /healthz (the goal: the first page at least 40 % of /healthz's throughput) and
# /readyz (one database round trip, the ceiling of any request that reads the database); and
# the public map's data for the whole world with SHARED sightings shared (p99). The database is
# filled by tests/src/bin/journal_seed.rs (for Postgres it also starts the test suite's private
# cluster and keeps it running while the server is measured); the reader's session is one the
# seed writes, for a client that sends no fingerprint headers (as wrk does).
# Results: bench/results/journal-latest.json (one object per backend, one per line).
#
# Usage: bench/journal.sh [DURATION_SECONDS] [CONNECTIONS] [ENTRIES] [SHARED] [BACKENDS...]
#        (defaults: 10 s, 8 connections, 10000 entries, 100000 shared sightings, sqlite postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-8}"
entries="${3:-10000}"
shared="${4:-100000}"
shift $(($# < 4 ? $# : 4))
if [ $# -gt 0 ]; then backends=("$@"); else backends=(sqlite postgres); fi
threads=2

# shellcheck source=bench/lib.sh
. bench/lib.sh
need_wrk

cargo build --release --locked -p wildid-app -p wildid-tests --bin wildid --bin journal-seed
target_dir=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "${SEED_PID:-}" ] && kill "$SEED_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

scenario() {
  local name="$1" path="$2"
  local extra=()
  [ -n "${3:-}" ] && extra=(-H "$3")
  wrk -t"$threads" -c"$connections" -d2s "${extra[@]}" "$base$path" >/dev/null
  local out rps p50 p99 errors
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "${extra[@]}" "$base$path")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  printf '%-16s %10s req/s   p50 %8s ms   p99 %8s ms   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}" >&2
  printf '{"scenario":"%s","requests_per_second":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s}' \
    "$name" "$rps" "$p50" "$p99" "${errors:-0}"
}

# Starts the release server on DATABASE_URL $1 (empty: SQLite in $work/data) and sets `base`.
start_server() {
  local log="$work/server.log"
  rm -rf "$work/data"
  local database=()
  [ -n "$1" ] && database=("DATABASE_URL=$1")
  env "${database[@]}" WILDID_LOG=warn WILDID_LIMIT_DEFAULT=1000000000/minute \
    "$target_dir/release/wildid" serve --bind 127.0.0.1:0 --data-dir "$work/data" >"$log" 2>&1 &
  server_pid=$!
  base=$(listening_base "$log")
}

lines=()
for backend in "${backends[@]}"; do
  echo "== $backend: seeding $entries journal entries and $shared shared sightings" >&2
  seed_started=$(date +%s)
  case "$backend" in
    sqlite)
      start_server ""
      cookie=$("$target_dir/release/journal-seed" "sqlite://$work/data/wildid.db" "$entries" "$shared")
      ;;
    postgres)
      coproc SEED { "$target_dir/release/journal-seed" postgres "$entries" "$shared"; }
      read -r url <&"${SEED[0]}"
      start_server "$url"
      echo migrated >&"${SEED[1]}"
      read -r cookie <&"${SEED[0]}"
      ;;
    *) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
  esac
  echo "seeded in $(($(date +%s) - seed_started)) s" >&2

  # A cursor about 9,900 entries deep, by following the JSON pages (100 at a time).
  cursor=""
  for _ in $(seq 1 99); do
    page=$(curl -s -H 'User-Agent:' -H "Cookie: $cookie" "$base/api/identifications?limit=100${cursor:+&cursor=$cursor}")
    cursor=$(sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p' <<<"$page")
    [ -n "$cursor" ] || { echo "no next cursor: $page" | head -c 300 >&2; exit 1; }
  done

  results=()
  results+=("$(scenario healthz /healthz)")
  # One database round trip (`SELECT 1`) and nothing else: a request that reads the database
  # once cannot be faster than this.
  results+=("$(scenario readyz /readyz)")
  results+=("$(scenario history_first /history "Cookie: $cookie")")
  results+=("$(scenario history_deep "/history?cursor=$cursor" "Cookie: $cookie")")
  results+=("$(scenario map_world "/api/sightings?south=-90&west=-180&north=90&east=180")")
  peak_rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if [ "$backend" = postgres ]; then
    echo done >&"${SEED[1]}"
    wait "$SEED_PID" 2>/dev/null || true
  fi

  lines+=("$(printf '{"timestamp":"%s","commit":"%s","backend":"%s","entries":%s,"shared":%s,"duration_seconds":%s,"connections":%s,"cpus":%s,"peak_rss_kib":%s,"scenarios":[%s]}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$backend" "$entries" "$shared" \
    "$duration" "$connections" "$(nproc)" "$peak_rss_kib" "$(IFS=,; echo "${results[*]}")")")
done
printf '%s\n' "${lines[@]}" >bench/results/journal-latest.json
echo "results in bench/results/journal-latest.json" >&2

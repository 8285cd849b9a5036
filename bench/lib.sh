# Shared by the benchmark scripts (sourced, not run).

# Installs Debian's wrk when it is missing (root or sudo needed for that step only).
need_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk
}

# Converts wrk latency values (us, ms, s) to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n = n / 1000; else if (u == "s") n = n * 1000; else if (u == "m") n = n * 60000;
    printf "%.3f", n }'
}

# Waits for the server writing to log file $1 to say where it listens and prints its base URL;
# fails (showing the log) when it does not within 10 s.
listening_base() {
  local log="$1" base
  for _ in $(seq 1 200); do
    grep -q 'listening on http://' "$log" 2>/dev/null && break
    sleep 0.05
  done
  base=$(grep -o "http://[0-9.:]*" "$log" | head -1 || true)
  [ -n "$base" ] || { cat "$log" >&2; echo "server did not start" >&2; return 1; }
  echo "$base"
}

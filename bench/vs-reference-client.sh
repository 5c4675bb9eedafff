#!/usr/bin/env bash
# The same exports fetched in one run by the relay (folder target) and by the reference open-source client, SMART's
# bulk-data-client (https://github.com/smart-on-fhir/bulk-data-client, Node.js; not part of this project: give the
# folder of its built checkout, with its npm dependencies installed, as REFERENCE_CLIENT). Both at their defaults
# (the relay's relay.download.parallel 8, the client's parallelDownloads 5), from the same sandbox (own JVM):
#   1. an export of N small files (default 2,000), the many-files case;
#   2. an export with one large NDJSON file (default 1 GiB); the relay under -Xmx128m.
# For each: seconds from the sandbox's first file request to the last file in place (the relay: receipt.json
# written; the client: its process ended), files/s and MB/s over that time, seconds from the request (the relay's
# POST .../run, the client's start) to the end, the relay's peak heap and the client's peak RSS, and whether the
# two hold the same NDJSON lines (each side's lines sorted and hashed: the client writes its own file names).
# Usage: REFERENCE_CLIENT=/path/to/bulk-data-client bench/vs-reference-client.sh [files] [bytes]
#        (BENCH_SKIP_BUILD=1 reuses the built jar)
source "$(dirname "$0")/lib.sh"
FILES=${1:-2000}
SIZE=${2:-1073741824}
CLIENT=${REFERENCE_CLIENT:?give the folder of a built bulk-data-client checkout as REFERENCE_CLIENT}
[ -f "$CLIENT/built/app.js" ] || { echo "no built/app.js under $CLIENT (npm install && npm run build there)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed for the reference client" >&2; exit 1; }
RUN=$OUT/vs-reference-client
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg); node $(node --version)"

# lines_hash <dir>: the SHA-256 of every NDJSON line under <dir>, sorted (the client's own log.ndjson left out; awk
# ends each file's last line, which the client writes without its newline)
lines_hash() { find "$1" -name '*.ndjson' ! -name log.ndjson -print0 | xargs -0 awk 1 | LC_ALL=C sort | sha256sum | cut -c1-16; }
ndjson_files() { find "$1" -name '*.ndjson' ! -name log.ndjson | wc -l; }
ndjson_bytes() { find "$1" -name '*.ndjson' ! -name log.ndjson -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# row <who> <dir> <request ms> <end ms> <memory MiB> <CPU seconds> <the sandbox's CPU seconds>
row() {
  local first; first=$(first_file_ms)
  awk -v w="$1" -v n="$(ndjson_files "$2")" -v b="$(ndjson_bytes "$2")" -v r="$3" -v f="$first" -v e="$4" \
      -v m="$5" -v c="$6" -v sc="$7" -v h="$(lines_hash "$2")" -v l="$(loadavg)" \
    'BEGIN { s = (e - f) / 1000; printf "%-10s %6d %12d %8.2f %8.1f %8.1f %8.2f %7s %6.2f %6.2f %s  %s\n",
             w, n, b, s, n / s, b / s / 1e6, (e - r) / 1000, m, c, sc, h, l }'
}
sandbox_cpu() { cpu_seconds "$SANDBOX_PID"; }

relay_run() { # relay_run <dir> <xmx>
  local dir=$1 request end receipt
  start_export_relay "$dir" "$(free_port)" "$2"
  curl -sf "$SANDBOX_BASE/bench/reset" -o /dev/null
  local cpu0 sim0; cpu0=$(cpu_seconds "$RELAY_PID"); sim0=$(sandbox_cpu)
  request=$(date +%s%3N)
  curl -sf -X POST "$RELAY_URL/api/sources/bench/run" -o /dev/null
  receipt=$(delivered "$dir" receipt.json)
  end=$(in_place_ms "$receipt")
  local cpu sim; cpu=$(awk -v a="$cpu0" -v b="$(cpu_seconds "$RELAY_PID")" 'BEGIN { print b - a }')
  sim=$(awk -v a="$sim0" -v b="$(sandbox_cpu)" 'BEGIN { print b - a }')
  local heap; heap=$(peak_heap_mib "$dir/gc.log")
  stop_pid "$RELAY_PID"
  row relay "$dir/outbox" "$request" "$end" "${heap}h" "$cpu" "$sim"
}

client_run() { # client_run <dir>
  local dir=$1 request end
  mkdir -p "$dir/out"
  curl -sf "$SANDBOX_BASE/bench/reset" -o /dev/null
  local sim0; sim0=$(sandbox_cpu)
  request=$(date +%s%3N)
  # --reporter text asks nothing; SHOW_ERRORS answers the question it asks after a failure
  (cd "$CLIENT" && SHOW_ERRORS=y NODE_NO_WARNINGS=1 /usr/bin/time -f '%M %U %S' -o "$dir/maxrss" \
      node built/app.js -f "$SANDBOX_FHIR" -t Observation -d "$dir/out" --reporter text </dev/null >"$dir/client.log" 2>&1)
  end=$(date +%s%3N)
  local sim; sim=$(awk -v a="$sim0" -v b="$(sandbox_cpu)" 'BEGIN { print b - a }')
  grep -q "Download completed" "$dir/client.log" || { echo "the client did not finish:" >&2; tail -20 "$dir/client.log" >&2; exit 1; }
  row client "$dir/out" "$request" "$end" "$(awk '{ printf "%.0fr", $1 / 1024 }' "$dir/maxrss")" \
    "$(awk '{ print $2 + $3 }' "$dir/maxrss")" "$sim"
}

header() { printf '%-10s %6s %12s %8s %8s %8s %8s %7s %6s %6s %-16s  %s\n' "$1" files bytes seconds files/s MB/s total memMiB cpuSec simSec lines "load average"; }

start_sandbox "$RUN/sandbox-many.log" small-files="$FILES" polls-before-ready=0
header "$FILES small files"
relay_run "$RUN/many/relay" 256m
client_run "$RUN/many/client"
stop_pid "$SANDBOX_PID"

start_sandbox "$RUN/sandbox-big.log" big-file-bytes="$SIZE" polls-before-ready=0
header "$SIZE bytes"
relay_run "$RUN/big/relay" "${RELAY_XMX:-128m}"
rm -rf "$RUN/big/relay/outbox" # the next copy writes into pages this one frees (see deliver-1gib-file.sh)
client_run "$RUN/big/client"
echo "(seconds: the sandbox's first file request to the last file in place; total: from the request; memMiB: the relay's"
echo " peak heap (h) or the client's peak RSS (r); cpuSec: its CPU seconds (user + system) from the request to the end;"
echo " simSec: the sandbox's over the same time; lines: the first 16 hex digits of the SHA-256 of all lines, sorted)"

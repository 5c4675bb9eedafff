#!/usr/bin/env bash
# An export of N small files (default 2,000) from the sandbox (own JVM) delivered to the folder target, at
# relay.download.parallel 1, 4 and 8 (or the values given in PARALLEL="1 4 8"): files per second and total time.
# Usage: bench/many-files.sh [files]                (BENCH_SKIP_BUILD=1 reuses the built jar)
source "$(dirname "$0")/lib.sh"
FILES=${1:-2000}
RUN=$OUT/many-files
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
start_sandbox "$RUN/sandbox.log" small-files="$FILES" polls-before-ready=0
printf '%-9s %7s %9s %9s %8s %s\n' parallel files seconds files/s heapMiB "load average"
for P in ${PARALLEL:-1 4 8}; do
  PORT=$(free_port)
  DIR=$RUN/p$P
  start_export_relay "$DIR" "$PORT" "${RELAY_XMX:-256m}" -Drelay.download.parallel="$P"
  curl -sf "${SANDBOX_BASE}/bench/reset" -o /dev/null
  curl -sf -X POST "$RELAY_URL/api/sources/bench/run" -o /dev/null
  RECEIPT=$(delivered "$DIR" receipt.json)
  END_MS=$(in_place_ms "$RECEIPT")
  FIRST=$(first_file_ms)
  DELIVERED=$(find "$DIR/outbox" -name '*.ndjson' | wc -l)
  HEAP=$(peak_heap_mib "$DIR/gc.log")
  stop_pid "$RELAY_PID"
  awk -v p="$P" -v n="$DELIVERED" -v a="$FIRST" -v b="$END_MS" -v h="$HEAP" -v l="$(loadavg)" \
    'BEGIN { s = (b - a) / 1000; printf "%-9s %7d %9.2f %9.1f %8d %s\n", p, n, s, n / s, h, l }'
done
echo "(seconds: first file request at the sandbox to receipt.json in place; files: NDJSON files delivered, the small ones plus the export's 3 others)"

#!/usr/bin/env bash
# An export of N small files (default 2,000) from the sandbox (own JVM) delivered to the folder target, at
# relay.download.parallel 1, 4 and 8 (or the values given in PARALLEL="1 4 8"): files per second and total time.
# ROUNDS=N runs the export N times on each relay (default 1): the first round is a relay's first export after its
# start, the later ones show the same relay once its code is compiled.
# Usage: bench/many-files.sh [files]                (BENCH_SKIP_BUILD=1 reuses the built jar)
source "$(dirname "$0")/lib.sh"
FILES=${1:-2000}
RUN=$OUT/many-files
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
start_sandbox "$RUN/sandbox.log" small-files="$FILES" polls-before-ready=0
printf '%-9s %7s %9s %9s %8s %8s %s\n' parallel files seconds files/s heapMiB relayCPU "load average"
for P in ${PARALLEL:-1 4 8}; do
  PORT=$(free_port)
  DIR=$RUN/p$P
  start_export_relay "$DIR" "$PORT" "${RELAY_XMX:-256m}" -Drelay.download.parallel="$P"
  for ROUND in $(seq "${ROUNDS:-1}"); do
    curl -sf "${SANDBOX_BASE}/bench/reset" -o /dev/null
    CPU_BEFORE=$(cpu_seconds "$RELAY_PID")
    curl -sf -X POST "$RELAY_URL/api/sources/bench/run" -o /dev/null
    # each round's export is a new job with its own folder: wait for this round's receipt, the newest one
    until [ "$(find "$DIR/outbox" -name receipt.json 2>/dev/null | wc -l)" -ge "$ROUND" ]; do sleep 0.1; done
    RECEIPT=$(ls -t $(find "$DIR/outbox" -name receipt.json) | head -1)
    END_MS=$(in_place_ms "$RECEIPT")
    FIRST=$(first_file_ms)
    DELIVERED=$(find "$(dirname "$RECEIPT")" -name '*.ndjson' | wc -l)
    HEAP=$(peak_heap_mib "$DIR/gc.log")
    CPU=$(awk -v a="$CPU_BEFORE" -v b="$(cpu_seconds "$RELAY_PID")" 'BEGIN { printf "%.2f", b - a }')
    LABEL=$P; [ "$ROUND" -gt 1 ] && LABEL="$P ($ROUND.)"
    awk -v p="$LABEL" -v n="$DELIVERED" -v a="$FIRST" -v b="$END_MS" -v h="$HEAP" -v c="$CPU" -v l="$(loadavg)" \
      'BEGIN { s = (b - a) / 1000; printf "%-9s %7d %9.2f %9.1f %8d %8.2f %s\n", p, n, s, n / s, h, c, l }'
  done
  stop_pid "$RELAY_PID"
done
echo "(seconds: first file request at the sandbox to receipt.json in place; files: NDJSON files delivered, the small ones plus the export's 3 others; relayCPU: the relay's user + system seconds from the request to the receipt)"

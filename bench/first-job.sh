#!/usr/bin/env bash
# The first jobs of a relay just started: one relay (-Xmx128m, folder target), then JOBS exports of the sandbox
# (own JVM, its file of BYTES ready at the first poll) one after the other. For each job: the time from the API
# request to the file in place, and from the sandbox sending the file's first byte to the file in place. The
# first job pays the start's leftovers (cold code, and whatever waits on the scheduler), the next ones do not.
# Usage: bench/first-job.sh [bytes] [jobs]      (defaults 10 MiB, 3; BENCH_SKIP_BUILD=1 reuses the built jar)
source "$(dirname "$0")/lib.sh"
SIZE=${1:-10485760}
JOBS=${2:-3}
RUN=$OUT/first-job
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
start_sandbox "$RUN/sandbox.log" big-file-bytes="$SIZE" polls-before-ready=0
PORT=$(free_port)
start_export_relay "$RUN/relay" "$PORT" "${RELAY_XMX:-128m}"
echo "relay ready after $RELAY_READY_MS ms; each job asked right after the last one's file was in place"
printf '%-4s %12s %12s\n' job request-ms transfer-ms
for i in $(seq 1 "$JOBS"); do
  REQUEST_MS=$(date +%s%3N)
  curl -sf -X POST "$RELAY_URL/api/sources/bench/run" -o /dev/null
  FILE=$(delivered_file "$RUN" "${BENCH_TIMEOUT:-120}")
  END_MS=$(in_place_ms "$FILE")
  START_MS=$(big_file_sent_ms "$RUN/sandbox.log")
  printf '%-4s %12d %12d\n' "$i" $((END_MS - REQUEST_MS)) $((END_MS - START_MS))
  rm -f "$FILE"
  sleep 1
done
stop_pid "$RELAY_PID"
echo "load average after: $(loadavg)"

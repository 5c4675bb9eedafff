#!/usr/bin/env bash
# One large NDJSON file (default 1 GiB) from the sandbox (own JVM) to the folder target with the relay jar under
# -Xmx128m, beside a raw `curl` of the same bytes to a file, in the same run. Also prints the JDK's SHA-256 rate
# over those bytes (bench/Sha256Rate.java): the relay records each file's SHA-256, so that rate is its ceiling.
# Usage: bench/deliver-1gib-file.sh [bytes]        (BENCH_SKIP_BUILD=1 reuses the built jar)
#        BENCH_IDLE=<seconds>: the relay is left idle that long after it is ready, before the request.
#        SIMULATOR=nginx: the export is served by nginx instead (see start_nginx_bulk in lib.sh): a server that is
#          not ours and sends the file with sendfile, so the relay has both cores but for the kernel's copy.
source "$(dirname "$0")/lib.sh"
SIZE=${1:-1073741824}
XMX=${RELAY_XMX:-128m}
RUN=$OUT/deliver-file
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
if [ "${SIMULATOR:-sandbox}" = nginx ]; then
  start_nginx_bulk "$RUN/nginx" "$SIZE"
else
  start_sandbox "$RUN/sandbox.log" big-file-bytes="$SIZE" polls-before-ready=0
fi

# raw copy: curl of the same file (of another export) to a file
raw_copy() {
  local url; url=$(big_file_url "$SANDBOX_FHIR" 'Patient/$export?_type=Observation')
  local bytes seconds t0 t1
  read -r bytes seconds < <(curl -s -o "$RUN/raw.ndjson" -w '%{size_download} %{time_total}\n' "$url")
  # the relay syncs each file before its rename (a receipt must not outlive its files in a power cut), curl does
  # not: the same copy with that sync after it is the second baseline
  t0=$(date +%s%N); sync "$RUN/raw.ndjson"; t1=$(date +%s%N)
  echo "$bytes $seconds $(awk -v s="$seconds" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", s + (b - a) / 1e9 }')"
}
read -r RAW1_BYTES RAW1_SECONDS RAW1_SYNCED < <(raw_copy)
RAW_SHA=$(sha256sum "$RUN/raw.ndjson" | cut -d' ' -f1)
# Each copy writes into the page cache that the copy before it freed. On these VMs a file written into memory the
# guest has not touched lately is much slower to write (1 GiB through the page cache: 415-1190 MiB/s into fresh
# pages, 2-3.2 GiB/s into just freed ones), so a copy kept beside the next one would slow that next one down and
# favour whichever copy came first: the raw copy, the relay's file and the second raw copy each go once checked.
rm -f "$RUN/raw.ndjson"

PORT=$(free_port)
start_export_relay "$RUN/relay" "$PORT" "$XMX"
# the simulator's CPU ticks: the sandbox's JVM, or nginx's master and worker
sim_ticks() { local t=0 p; for p in "$SANDBOX_PID" $(pgrep -P "$SANDBOX_PID" || true); do t=$(( t + $(cpu_of "$p") )); done; echo "$t"; }
sleep "${BENCH_IDLE:-0}" # a relay left idle first: what its start still had to compile is done by then
[ -n "${BENCH_THREADS:-}" ] && { threads_cpu "$RELAY_PID" > "$RUN/threads.before"; SANDBOX_TICKS=$(sim_ticks); }
REQUEST_MS=$(date +%s%3N)
curl -sf -X POST "$RELAY_URL/api/sources/bench/run" -o /dev/null
DELIVERED=$(delivered_file "$RUN")
END_MS=$(in_place_ms "$DELIVERED")
if [ -n "${NGINX_FILES_LOG:-}" ]; then START_MS=$(nginx_file_sent_ms "$NGINX_FILES_LOG"); else START_MS=$(big_file_sent_ms "$RUN/sandbox.log"); fi
RELAY_SECONDS=$(awk -v a="$START_MS" -v b="$END_MS" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
# the whole job too: kick-off, status poll, manifest and every file, from the API request on
JOB_SECONDS=$(awk -v a="$REQUEST_MS" -v b="$END_MS" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
RELAY_BYTES=$(stat -c %s "$DELIVERED")
sleep 1
PEAK=$(peak_heap_mib "$RUN/relay/gc.log")
RSS=$(rss_mib "$RELAY_PID")
if [ -n "${BENCH_THREADS:-}" ]; then # CPU seconds of the relay's busiest threads from the request to the end
  threads_cpu "$RELAY_PID" > "$RUN/threads.after"
  awk -v hz="$(getconf CLK_TCK)" 'NR==FNR {u[$1]=$2; s[$1]=$3; next}
      {du=$2-u[$1]; ds=$3-s[$1]; if (du+ds>0) printf "%.2f %.2f %.2f %s\n", (du+ds)/hz, du/hz, ds/hz, $4}' \
      "$RUN/threads.before" "$RUN/threads.after" | sort -rn | head -10 \
    | awk '{printf "  relay thread %-28s %5.2f s CPU (user %.2f, kernel %.2f)\n", $4, $1, $2, $3}'
  awk -v a="$SANDBOX_TICKS" -v b="$(sim_ticks)" -v hz="$(getconf CLK_TCK)" -v sim="${SIMULATOR:-sandbox}" \
      'BEGIN {printf "  %-28s %5.2f s CPU\n", sim == "nginx" ? "nginx" : "sandbox JVM", (b - a) / hz}'
fi
stop_pid "$RELAY_PID"

[ "$(sha256sum "$DELIVERED" | cut -d' ' -f1)" = "$RAW_SHA" ] && SAME=identical || SAME=DIFFERENT
rm -f "$DELIVERED"
read -r RAW2_BYTES RAW2_SECONDS RAW2_SYNCED < <(raw_copy)
# the relay records each file's SHA-256, which one core computes: the JDK's rate on the same bytes (page cache)
read -r HASH_COLD HASH_WARM < <(java "$(dirname "$0")/Sha256Rate.java" "$RUN/raw.ndjson")
rm -f "$RUN/raw.ndjson"

awk -v rb="$RELAY_BYTES" -v rs="$RELAY_SECONDS" -v b1="$RAW1_BYTES" -v s1="$RAW1_SECONDS" -v b2="$RAW2_BYTES" \
    -v s2="$RAW2_SECONDS" -v y1="$RAW1_SYNCED" -v y2="$RAW2_SYNCED" -v peak="$PEAK" -v rss="$RSS" -v xmx="$XMX" \
    -v same="$SAME" -v js="$JOB_SECONDS" -v hc="$HASH_COLD" -v hw="$HASH_WARM" 'BEGIN {
  mib = 1048576; r = rb / rs / mib; c1 = b1 / s1 / mib; c2 = b2 / s2 / mib; c = (c1 + c2) / 2
  d1 = b1 / y1 / mib; d2 = b2 / y2 / mib; d = (d1 + d2) / 2
  printf "file size            %d bytes (relay delivered %d, %s to the raw copy)\n", b1, rb, same
  printf "raw curl to a file   %.1f MiB/s before, %.1f MiB/s after (%.2f s, %.2f s)\n", c1, c2, s1, s2
  printf "relay to folder      %.1f MiB/s (%.2f s, from the server sending its first byte to the file in place, -Xmx%s)\n", r, rs, xmx
  printf "whole job            %.2f s from the API request to the file in place (kick-off, poll, manifest, every file)\n", js
  printf "raw curl, then sync  %.1f MiB/s before, %.1f MiB/s after (%.2f s, %.2f s)\n", d1, d2, y1, y2
  printf "ratio relay/raw      %.2f (raw = mean of both curl runs)\n", r / c
  printf "ratio relay/synced   %.2f (the same copy made durable, as the relay makes each file)\n", r / d
  h = b1 / hw / mib
  printf "SHA-256 alone (JDK)  %.1f MiB/s warm, %.1f cold (%.2f s, %.2f s, reading the raw copy from the page cache)\n", h, b1 / hc / mib, hw, hc
  printf "ceiling              %.2f of the raw copy: a delivery that records the SHA-256 ends no sooner than its hash\n", (h < c ? h : c) / c
  printf "relay peak heap      %d MiB (largest heap before a GC, -Xlog:gc); RSS after %s MiB\n", peak, rss
}'
echo "load average after: $(loadavg)"

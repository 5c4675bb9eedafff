#!/usr/bin/env bash
# N in-flight jobs (default 10,000) on one relay against the sandbox (own JVM), every status poll answered 202
# with Retry-After 1: sustained polls per second, lag between a job's due time and its poll (p50/p90/p99, as the
# sandbox sees it: previous answer + 1 s to this poll), CPU and heap of the relay.
# Usage: bench/poll-scale.sh [jobs]   env: STORE=h2|pg (pg: PG_URL, default 127.0.0.1:5432/test as postgres,
#        fresh schema), WARMUP=20 MEASURE=30 seconds, RELAY_XMX=256m, RELAY_OPTS="-Dkey=value ..."
source "$(dirname "$0")/lib.sh"
JOBS=${1:-10000}
STORE=${STORE:-h2}
RUN=$OUT/poll-scale-$STORE
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
start_sandbox "$RUN/sandbox.log" jobs="$JOBS" jobs-file="$RUN/jobs.txt" polls-before-ready=1000000000 retry-after=1
STORE_OPTS=()
if [ "$STORE" = pg ]; then
  SCHEMA=bench_$(date +%s)_$$
  PG=${PG_URL:-jdbc:postgresql://127.0.0.1:5432/test?user=postgres}
  java -cp "$TEST_CP" org.healthexport.relay.bench.CreateSchema "$PG" "$SCHEMA"
  STORE_OPTS=(-Drelay.store.url="$PG&currentSchema=$SCHEMA")
fi
PORT=$(free_port)
start_relay "$RUN/relay" "$PORT" "${RELAY_XMX:-256m}" \
  -Drelay.sources.bench.kind=fhir-bulk -Drelay.sources.bench.base-url="$SANDBOX_FHIR" \
  '-Drelay.sources.bench.export=Patient/$export' -Drelay.sources.bench.allowed-hosts=127.0.0.1 \
  "${STORE_OPTS[@]}" ${RELAY_OPTS:-}
java -cp "$TEST_CP" org.healthexport.relay.bench.AdoptJobs "$RELAY_URL" bench "$RUN/jobs.txt"
sleep "${WARMUP:-20}"
curl -sf "${SANDBOX_BASE}/bench/reset" -o /dev/null
CPU0=$(cpu_seconds "$RELAY_PID"); SCPU0=$(cpu_seconds "$SANDBOX_PID"); T0=$(date +%s%3N)
sleep "${MEASURE:-30}"
CPU1=$(cpu_seconds "$RELAY_PID"); SCPU1=$(cpu_seconds "$SANDBOX_PID"); T1=$(date +%s%3N)
STATS=$(curl -sf "${SANDBOX_BASE}/bench/stats")
RSS=$(rss_mib "$RELAY_PID")
HEAP=$(peak_heap_mib "$RUN/relay/gc.log")
stat() { echo "$STATS" | grep -oE "\"$1\":[0-9.]+" | cut -d: -f2; }
echo "jobs $JOBS, store $STORE, measured $(stat seconds) s after ${WARMUP:-20} s warm-up"
echo "polls/s             $(stat pollsPerSecond) (demand at zero lag: $JOBS/s)"
echo "jobs polled         $(stat jobsPolled)"
echo "lag p50/p90/p99/max $(stat lagP50Ms) / $(stat lagP90Ms) / $(stat lagP99Ms) / $(stat lagMaxMs) ms"
awk -v a="$CPU0" -v b="$CPU1" -v t0="$T0" -v t1="$T1" 'BEGIN { printf "relay CPU           %.2f cores (of 2)\n", (b - a) / ((t1 - t0) / 1000) }'
# the sandbox shares the 2 cores: when it takes most of what the relay leaves, it is the limit, not the relay
awk -v a="$SCPU0" -v b="$SCPU1" -v t0="$T0" -v t1="$T1" 'BEGIN { printf "sandbox CPU         %.2f cores (of 2)\n", (b - a) / ((t1 - t0) / 1000) }'
echo "relay heap          peak $HEAP MiB before a GC (-Xmx${RELAY_XMX:-256m}); RSS $RSS MiB"
echo "load average after: $(loadavg)"

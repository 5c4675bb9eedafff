#!/usr/bin/env bash
# N in-flight jobs (default 10,000) on one relay against the sandbox (own JVM), every status poll answered 202
# with Retry-After 1: sustained polls per second, lag between a job's due time and its poll (p50/p90/p99, as the
# sandbox sees it: previous answer + 1 s to this poll), CPU and heap of the relay.
# Usage: bench/poll-scale.sh [jobs]   env: STORE=h2|pg (pg: PG_URL, default 127.0.0.1:5432/test as postgres,
#        fresh schema, dropped at the end once its index statistics are printed), WARMUP=20 MEASURE=30 seconds,
#        RELAY_XMX=256m, RELAY_OPTS="-Dkey=value ..."
#        BENCH_THREADS=1: the relay's busiest threads in the measured window (CPU ticks, on stderr)
#        SIMULATOR=nginx: the status URLs are answered by nginx (Debian's nginx or nginx-light, one worker) instead
#          of the sandbox: a simulator that is not ours and costs far less CPU per answer, so what is measured is
#          the relay; polls and lag are read from its access log by bench/poll-lag.py, the same measure, which also
#          prints the whole run in INTERVAL-second rows (default 10): polls/s and lag from the first poll on, so a
#          relay still warming up (its JIT compiling the polling path) shows apart from its steady state.
source "$(dirname "$0")/lib.sh"
JOBS=${1:-10000}
STORE=${STORE:-h2}
RUN=$OUT/poll-scale-$STORE
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
if [ "${SIMULATOR:-sandbox}" = nginx ]; then
  NGINX_PORT=$(free_port)
  mkdir -p "$RUN/nginx/logs"
  cat > "$RUN/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  log_format polls '\$msec \$request_time \$uri';
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    # a Bulk Data status URL of an export still running: 202, come back in a second
    location /fhir/jobs/ { access_log $RUN/nginx/polls.log polls buffer=256k flush=1s; add_header Retry-After 1 always; return 202; }
  }
}
CONF
  run_nginx "$RUN/nginx" "$NGINX_PORT"
  SANDBOX_FHIR=http://127.0.0.1:$NGINX_PORT/fhir/
  seq 1 "$JOBS" | sed "s|^|${SANDBOX_FHIR}jobs/job-|" > "$RUN/jobs.txt"
else
  start_sandbox "$RUN/sandbox.log" jobs="$JOBS" jobs-file="$RUN/jobs.txt" polls-before-ready=1000000000 retry-after=1
fi
STORE_OPTS=()
if [ "$STORE" = pg ]; then
  SCHEMA=bench_$(date +%s)_$$
  PG=${PG_URL:-jdbc:postgresql://127.0.0.1:5432/test?user=postgres}
  java -cp "$TEST_CP" org.healthexport.relay.bench.BenchSchema create "$PG" "$SCHEMA"
  STORE_OPTS=(-Drelay.store.url="$PG&currentSchema=$SCHEMA")
fi
# the simulator's CPU seconds: the sandbox's JVM, or nginx's master and worker
sim_cpu_seconds() {
  local total=0 p
  for p in "$SANDBOX_PID" $(pgrep -P "$SANDBOX_PID" || true); do
    total=$(awk -v a="$total" -v b="$(cpu_seconds "$p")" 'BEGIN { print a + b }')
  done
  echo "$total"
}
PORT=$(free_port)
start_relay "$RUN/relay" "$PORT" "${RELAY_XMX:-256m}" \
  -Drelay.sources.bench.kind=fhir-bulk -Drelay.sources.bench.base-url="$SANDBOX_FHIR" \
  '-Drelay.sources.bench.export=Patient/$export' -Drelay.sources.bench.allowed-hosts=127.0.0.1 \
  "${STORE_OPTS[@]}" ${RELAY_OPTS:-}
java -cp "$TEST_CP" org.healthexport.relay.bench.AdoptJobs "$RELAY_URL" bench "$RUN/jobs.txt"
sleep "${WARMUP:-20}"
[ -n "${SANDBOX_BASE:-}" ] && curl -sf "${SANDBOX_BASE}/bench/reset" -o /dev/null
[ -n "${BENCH_THREADS:-}" ] && threads_cpu "$RELAY_PID" > "$RUN/threads.before"
CPU0=$(cpu_seconds "$RELAY_PID"); SCPU0=$(sim_cpu_seconds); T0=$(date +%s%3N)
sleep "${MEASURE:-30}"
CPU1=$(cpu_seconds "$RELAY_PID"); SCPU1=$(sim_cpu_seconds); T1=$(date +%s%3N)
if [ -n "${BENCH_THREADS:-}" ]; then # the relay's busiest threads (by name) in the measured window, on stderr
  threads_cpu "$RELAY_PID" > "$RUN/threads.after"
  threads_cpu_between "$RUN/threads.before" "$RUN/threads.after"
fi
RSS=$(rss_mib "$RELAY_PID")
HEAP=$(peak_heap_mib "$RUN/relay/gc.log")
if [ "${SIMULATOR:-sandbox}" = nginx ]; then
  sleep 2 # the access log's buffer is flushed every second
  echo "jobs $JOBS, store $STORE, simulator nginx, measured $(( (T1 - T0) / 1000 )) s after ${WARMUP:-20} s warm-up"
  python3 "$(dirname "$0")/poll-lag.py" "$RUN/nginx/polls.log" "$T0" "$T1" 1 "${INTERVAL:-10}" \
    | sed "s|^polls/s .*|& (demand at zero lag: $JOBS/s)|"
else
  STATS=$(curl -sf "${SANDBOX_BASE}/bench/stats")
  stat() { echo "$STATS" | grep -oE "\"$1\":[0-9.]+" | cut -d: -f2; }
  echo "jobs $JOBS, store $STORE, measured $(stat seconds) s after ${WARMUP:-20} s warm-up"
  echo "polls/s             $(stat pollsPerSecond) (demand at zero lag: $JOBS/s)"
  echo "jobs polled         $(stat jobsPolled)"
  echo "lag p50/p90/p99/max $(stat lagP50Ms) / $(stat lagP90Ms) / $(stat lagP99Ms) / $(stat lagMaxMs) ms"
fi
awk -v a="$CPU0" -v b="$CPU1" -v t0="$T0" -v t1="$T1" 'BEGIN { printf "relay CPU           %.2f cores (of 2)\n", (b - a) / ((t1 - t0) / 1000) }'
# the sandbox shares the 2 cores: when it takes most of what the relay leaves, it is the limit, not the relay
awk -v a="$SCPU0" -v b="$SCPU1" -v t0="$T0" -v t1="$T1" -v n="${SIMULATOR:-sandbox}" 'BEGIN { printf "%-19s %.2f cores (of 2)\n", n " CPU", (b - a) / ((t1 - t0) / 1000) }'
echo "relay heap          peak $HEAP MiB before a GC (-Xmx${RELAY_XMX:-256m}); RSS $RSS MiB"
echo "load average after: $(loadavg)"
if [ "$STORE" = pg ]; then # how the claim and the updates used the indexes (whole run), then the schema goes
  stop_pid "$RELAY_PID" # its connections hold the schema
  java -cp "$TEST_CP" org.healthexport.relay.bench.BenchSchema drop "$PG" "$SCHEMA"
fi

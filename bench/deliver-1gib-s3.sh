#!/usr/bin/env bash
# Delivers one large file from the built-in FHIR Bulk sandbox to S3Proxy with the relay jar under -Xmx128m,
# and in the same run copies the same bytes raw (curl from the sandbox piped into curl -T to S3Proxy).
# Prints both throughputs, their ratio, and the relay's peak heap (from its GC log).
#
# Usage: bench/deliver-1gib-s3.sh [BYTES] [RUNS]     BYTES defaults to 1073741824 (1 GiB), RUNS to 2
# Env:   BENCH_TIMEOUT (seconds, default 1200): every process and wait is bounded by it.
#        RELAY_OPTS: extra -D options for the relay (e.g. -Drelay.target.s3.part-size=32MiB,
#          -Drelay.target.s3.sign-payload=never).
#        BENCH_SKIP_BUILD=1: reuse the jar and test classes of an earlier run (A/B runs one after another).
#        BENCH_STORE_WARMUP=0: no uncounted raw copy before the runs (by default one warms the store's JIT, so the first
#          raw copy and the relay's cold delivery both meet a warm store, as a store that has run for a while is).
#        BENCH_JAR: the relay jar to measure (default target/health-export-relay.jar), for A/B runs.
#        SIMULATOR=nginx: the export comes from nginx (start_nginx_bulk in lib.sh) instead of the sandbox inside the
#          relay's JVM: a source that is not ours and costs almost no CPU.
#        S3_SERVER=s3rver: s3rver 3.7.1 (Node.js, installed from the npm registry into target/bench) instead of
#          S3Proxy: a store the tests do not use, which keeps an aws-chunked body's framing (the relay's first
#          streamed upload is then checked, removed and sent again without a checksum, see docs/targets.md).
# Needs: java 17, maven (with the project's dependencies), curl, sha256sum, jcmd (optional).
set -euo pipefail
source "$(dirname "$0")/lib.sh" # wait_for, free_port, cpu_of, threads_cpu...; this script has its own cleanup

BYTES=${1:-1073741824}
RUNS=${2:-2}
TIMEOUT=${BENCH_TIMEOUT:-1200}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/relay-bench.XXXXXX)
chmod 755 "$WORK" # nginx's worker (SIMULATOR=nginx) reads the export from it as another user
S3PROXY_PID=""
RELAY_PID=""
cleanup() {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null || true
  [ -n "${SANDBOX_PID:-}" ] && kill "$SANDBOX_PID" 2>/dev/null || true
  [ -n "$S3PROXY_PID" ] && kill "$S3PROXY_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${BENCH_SKIP_BUILD:-}" ] && [ -f target/health-export-relay.jar ] && [ -f target/bench-cp.txt ]; then
  echo "== reusing the last build (BENCH_SKIP_BUILD)"
else
  echo "== building"
  mvn -B -q -DskipTests package
  mvn -B -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt
fi
cp target/bench-cp.txt "$WORK/cp.txt"
deadline=$(( $(date +%s) + TIMEOUT ))

if [ "${S3_SERVER:-s3proxy}" = s3rver ]; then
  # an S3 server that is not the one the tests use: s3rver (Node.js, from the npm registry), filesystem store
  command -v npm >/dev/null || { echo "S3_SERVER=s3rver needs Node.js and npm" >&2; exit 1; }
  S3RVER=$ROOT/target/bench/s3rver
  [ -x "$S3RVER/node_modules/.bin/s3rver" ] || npm install --silent --prefix "$S3RVER" s3rver@3.7.1 >/dev/null
  S3_PORT=$(free_port)
  echo "== starting s3rver 3.7.1 (filesystem store in $WORK/s3, its fixed key pair S3RVER)"
  mkdir -p "$WORK/s3"
  timeout "$TIMEOUT" "$S3RVER/node_modules/.bin/s3rver" -d "$WORK/s3" -a 127.0.0.1 -p "$S3_PORT" --silent \
    --configure-bucket bench >"$WORK/s3proxy.log" 2>&1 &
  S3PROXY_PID=$!
  S3=http://127.0.0.1:$S3_PORT
  wait_for "s3rver" curl -s -o /dev/null "$S3/bench"
  S3_KEYS="-Drelay.target.s3.access-key=S3RVER -Drelay.target.s3.secret-key=S3RVER"
  # curl -T - sends Transfer-Encoding: chunked beside the Content-Length given; Node refuses the pair (400), so
  # the raw copy goes out as a plain body of that length
  RAW_FRAMING="-H Transfer-Encoding:"
else
  echo "== starting S3Proxy (filesystem store in $WORK/s3, no authorisation)"
  mkdir -p "$WORK/s3"
  timeout "$TIMEOUT" java -Xmx1g -cp "$ROOT/target/test-classes:$ROOT/target/classes:$(cat "$WORK/cp.txt")" \
    org.healthexport.relay.bench.S3ProxyMain "$WORK/s3" bench "$TIMEOUT" >"$WORK/s3proxy.log" 2>&1 &
  S3PROXY_PID=$!
  wait_for "S3Proxy" test -f "$WORK/s3/port"
  S3=http://127.0.0.1:$(cat "$WORK/s3/port")
  S3_KEYS="-Drelay.target.s3.access-key=bench -Drelay.target.s3.secret-key=bench-secret"
  RAW_FRAMING="" # as at every earlier stop: curl's chunked body, which Jetty takes
fi

if [ "${SIMULATOR:-sandbox}" = nginx ]; then
  echo "== starting nginx with the export (a file of $BYTES bytes)"
  start_nginx_bulk "$WORK/nginx" "$BYTES"
  SOURCE_OPTS=(-Drelay.sources.bench.base-url="$SANDBOX_FHIR" '-Drelay.sources.bench.export=Patient/$export?_type=Observation')
else
  SOURCE_OPTS=(-Drelay.sandbox.enabled=true -Drelay.sandbox.big-file-bytes="$BYTES" -Drelay.sandbox.polls-before-ready=1
    -Drelay.sandbox.retry-after=1 '-Drelay.sources.bench.base-url={{relay.sandbox.fhir-base}}'
    '-Drelay.sources.bench.export=Group/g1/$export?_type=Observation')
fi

echo "== starting the relay (-Xmx128m, a big file of $BYTES bytes from the ${SIMULATOR:-sandbox})"
API_PORT=$(free_port)
mkdir -p "$WORK/relay"
(cd "$WORK/relay" && exec timeout "$TIMEOUT" java -Xmx128m -Xlog:gc:file="$WORK/gc.log" \
  -Drelay.http.port="$API_PORT" -Drelay.http.host=127.0.0.1 \
  -Drelay.store.url="jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1" \
  "${SOURCE_OPTS[@]}" -Drelay.sources.bench.kind=fhir-bulk -Drelay.sources.bench.allowed-hosts=127.0.0.1 \
  -Drelay.target.kind=s3 -Drelay.target.s3.bucket=bench -Drelay.target.s3.endpoint="$S3" \
  -Drelay.target.s3.path-style=true $S3_KEYS \
  ${RELAY_OPTS:-} -jar "$JAR" >"$WORK/relay.log" 2>&1) &
RELAY_PID=$!
wait_for "the relay's API" curl -sf "http://127.0.0.1:$API_PORT/api/jobs"
FHIR=${SANDBOX_FHIR:-$(grep -o 'FHIR Bulk Data sandbox listening at [^ ]*' "$WORK/relay.log" | head -1 | awk '{print $NF}')}
JAVA_PID=$(pgrep -P "$RELAY_PID" java || true)

# the sandbox's files are whole 256-byte lines
SIZE=$(( (BYTES + 255) / 256 * 256 ))
TICKS=$(getconf CLK_TCK)
S3PROXY_JAVA=$(pgrep -P "$S3PROXY_PID" java || pgrep -P "$S3PROXY_PID" node || echo "$S3PROXY_PID")
cpu_mark() { echo "$(cpu_of "$JAVA_PID") $(cpu_of "$S3PROXY_JAVA")"; }
cpu_since() { # cpu_since "relayTicks s3proxyTicks" -> "relay-jvm-seconds s3proxy-seconds"
  set -- $1 $(cpu_mark)
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v t="$TICKS" 'BEGIN{printf "%.1f %.1f", (c - a) / t, (d - b) / t}'
}
raw_copy() { # raw_copy N: curl from the source piped into curl -T to the store; prints MB/s
  local url start end
  url=$(big_file_url "$FHIR" 'Group/g1/$export?_type=Observation')
  local mark; mark=$(cpu_mark)
  start=$(date +%s%N)
  curl -sf "$url" \
    | curl -sf -H "Content-Length: $SIZE" $RAW_FRAMING -H 'Content-Type: application/fhir+ndjson' -T - "$S3/bench/raw-$1.ndjson" >/dev/null
  end=$(date +%s%N)
  echo "raw $(cpu_since "$mark")" >> "$WORK/cpu.txt"
  awk -v b="$SIZE" -v ns=$((end - start)) 'BEGIN{printf "%.1f", b / (ns / 1e9) / 1e6}'
}
relay_copy() { # relay_copy: kicks off an export through the API, waits for its receipt; prints MB/s
  local before job line ms
  before=$(grep -c "of source bench delivered" "$WORK/relay.log" || true)
  local mark; mark=$(cpu_mark)
  [ -n "${BENCH_THREADS:-}" ] && threads_cpu "$JAVA_PID" > "$WORK/threads.before"
  local requested; requested=$(date +%s%N)
  curl -s -o /dev/null -X POST "http://127.0.0.1:$API_PORT/api/sources/bench/run"
  wait_for "the relay's delivery" deliveries_above "$WORK/relay.log" "$before"
  # the API request to the receipt, failed attempts included (the MB/s is of the file's delivery that succeeded)
  awk -v ns=$(( $(date +%s%N) - requested )) 'BEGIN{printf "%.2f", ns / 1e9}' > "$WORK/whole-job"
  echo "relay $(cpu_since "$mark")" >> "$WORK/cpu.txt"
  if [ -n "${BENCH_THREADS:-}" ]; then
    threads_cpu "$JAVA_PID" > "$WORK/threads.after"
    threads_cpu_between "$WORK/threads.before" "$WORK/threads.after"
  fi
  job=$(grep "of source bench delivered" "$WORK/relay.log" | tail -1 | sed 's/.*Job \([^ ]*\) of source.*/\1/')
  line=$(grep "Job $job: delivered .*Observation-1.ndjson" "$WORK/relay.log")
  ms=$(echo "$line" | sed 's/.* bytes in \([0-9]*\) ms.*/\1/')
  echo "$job" > "$WORK/last-job"
  awk -v b="$SIZE" -v ms="$ms" 'BEGIN{printf "%.1f", b / (ms / 1000) / 1e6}'
}

# the source's bytes, hashed once before the timed copies: each copy's object is checked against them
EXPECTED_SHA=$(curl -sf "$(big_file_url "$FHIR" 'Group/g1/$export?_type=Observation')" | sha256sum | cut -d' ' -f1)
relay_key() { # relay_key JOB: the key of the job's big file, from its receipt
  curl -sf "$S3/bench/bench/$1/receipt.json" | tr -d ' \n' | grep -o '"key":"[^"]*Observation-1.ndjson"' \
    | sed 's/"key":"\(.*\)"/\1/'
}
settle() { # settle KEY: the stored object must hold the source's bytes; then it is removed
  # Removed so that the next copy writes into the memory its pages free. On these VMs a file written into memory the
  # guest has not touched lately is much slower to write (1 GiB through the page cache: 415-1190 MiB/s into fresh
  # pages, 2-3.2 GiB/s into just freed ones): kept, every object would slow the copy after it, which favoured the
  # first raw copy. Then synced: each copy starts with the last one's bytes written out, not paying their writeback.
  local sha; sha=$(curl -sf "$S3/bench/$1" | sha256sum | cut -d' ' -f1)
  [ "$sha" = "$EXPECTED_SHA" ] || { echo "bytes: MISMATCH in $1 ($sha, the source's $EXPECTED_SHA)"; exit 1; }
  curl -sf -o /dev/null -X DELETE "$S3/bench/$1"
  sync
}

JVM_LABEL=$([ "${SIMULATOR:-sandbox}" = nginx ] && echo relay-jvm || echo relay-jvm+sandbox)
echo "== $RUNS runs of: raw copy, then relay delivery ($SIZE bytes each)"
raw_total=0; relay_total=0
sync
if [ "${BENCH_STORE_WARMUP:-1}" != 0 ]; then
  # one raw copy, not counted: without it the first raw copy met a store whose JIT was cold and the relay's first
  # delivery a warm one, which favoured the relay's first figure (stop 25: 0.90-0.94, against 0.83-0.84 next)
  echo "== warming the store with one raw copy, not counted (BENCH_STORE_WARMUP=0 skips it)"
  raw_copy warmup >/dev/null
  settle "raw-warmup.ndjson"
fi
for i in $(seq "$RUNS"); do
  raw=$(raw_copy "$i")
  settle "raw-$i.ndjson"
  rel=$(relay_copy)
  settle "$(relay_key "$(cat "$WORK/last-job")")"
  echo "run $i (load $(cut -d' ' -f1 /proc/loadavg)): raw copy $raw MB/s, relay $rel MB/s, whole job $(cat "$WORK/whole-job") s   (CPU s: $(tail -2 "$WORK/cpu.txt" | tr '\n' ' ' | sed "s/raw /raw: $JVM_LABEL, store = /; s/relay /; relay: $JVM_LABEL, store = /"))"
  raw_total=$(awk -v a="$raw_total" -v b="$raw" 'BEGIN{print a + b}')
  relay_total=$(awk -v a="$relay_total" -v b="$rel" 'BEGIN{print a + b}')
done

# every object was checked against the source's bytes before its removal (settle); the receipt must list them too
JOB=$(cat "$WORK/last-job")
RECEIPT_SHA=$(curl -sf "$S3/bench/bench/$JOB/receipt.json" | tr -d ' \n' | grep -o '"key":"[^"]*Observation-1.ndjson"[^}]*' | grep -o '"sha256":"[0-9a-f]*"' | cut -d'"' -f4)
HEAP_NOW=$(jcmd "$JAVA_PID" GC.heap_info 2>/dev/null | grep -o 'total [0-9]*K, used [0-9]*K' | head -1 || true)
PEAK=$(grep -o '[0-9]*M->[0-9]*M' "$WORK/gc.log" | cut -dM -f1 | sort -n | tail -1)
LIVE=$(grep 'Pause Young' "$WORK/gc.log" | grep -o '[0-9]*M->[0-9]*M' | sed 's/.*->\([0-9]*\)M/\1/' | sort -n | tail -1)
MAX_HEAP=$(grep -o '[0-9]*M->[0-9]*M([0-9]*M)' "$WORK/gc.log" | sed 's/.*(\([0-9]*\)M)/\1/' | sort -n | tail -1)

echo
echo "== results ($(nproc) cores, $SIZE bytes, $RUNS runs, RELAY_OPTS=${RELAY_OPTS:-none}, load $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v r="$raw_total" -v d="$relay_total" -v n="$RUNS" 'BEGIN{
  printf "raw copy (curl | curl -T): %.1f MB/s\nrelay (-Xmx128m):          %.1f MB/s\nratio relay/raw:           %.2f\n", r/n, d/n, d/r }'
echo "peak heap before a GC:     ${PEAK:-?} MiB (heap capacity ${MAX_HEAP:-?} MiB, -Xmx128m)"
echo "heap at the end (jcmd):    ${HEAP_NOW:-?}"
echo "largest heap after a GC:   ${LIVE:-?} MiB (what stayed live: Camel, the sandbox, the SDK; part buffers are off-heap)"
echo "source sha256:             $EXPECTED_SHA (every raw and relay object matched it before its removal)"
echo "receipt sha256:            $RECEIPT_SHA"
if [ "$RECEIPT_SHA" = "$EXPECTED_SHA" ]; then echo "bytes: identical"; else echo "bytes: MISMATCH"; exit 1; fi
grep -E "OutOfMemory" "$WORK/relay.log" && { echo "the relay ran out of memory"; exit 1; } || true

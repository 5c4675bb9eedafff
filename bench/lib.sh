# Shared helpers for the bench/*.sh scripts (sourced, not run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/target/bench}
JAR=${BENCH_JAR:-$ROOT/target/health-export-relay.jar}
PIDS=()
mkdir -p "$OUT"

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

# Builds the jar and the test classes once (BENCH_SKIP_BUILD=1 to reuse them), and the test classpath.
build() {
  cd "$ROOT"
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$JAR" ]; then
    echo "building..." >&2
    mvn -B -q -o -DskipTests package >/dev/null 2>&1 || mvn -B -q -DskipTests package >&2
  fi
  if [ ! -s "$OUT/cp.txt" ] || [ "$ROOT/pom.xml" -nt "$OUT/cp.txt" ]; then
    # Offline first (quick); a fresh machine has not fetched the dependency plugin yet.
    mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/cp.txt" >/dev/null 2>&1 \
      || mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/cp.txt" >&2
  fi
  TEST_CP="$ROOT/target/test-classes:$ROOT/target/classes:$(cat "$OUT/cp.txt")"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' \
    2>/dev/null || echo $(( 20000 + RANDOM % 30000 ))
}

# start_sandbox <log> key=value...: the FHIR sandbox in its own JVM; sets SANDBOX_FHIR and SANDBOX_PID.
start_sandbox() {
  local log=$1; shift
  java -Xmx${SANDBOX_HEAP:-512m} ${SANDBOX_OPTS:-} -cp "$TEST_CP" org.healthexport.relay.bench.SandboxMain "$@" >"$log" 2>&1 &
  SANDBOX_PID=$!
  PIDS+=("$SANDBOX_PID")
  local deadline=$((SECONDS + ${SANDBOX_START_TIMEOUT:-180}))
  until grep -qs '^SANDBOX_FHIR=' "$log"; do
    if ! kill -0 "$SANDBOX_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "sandbox did not start:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.2
  done
  SANDBOX_FHIR=$(grep '^SANDBOX_FHIR=' "$log" | head -1 | cut -d= -f2-)
  SANDBOX_BASE=$(grep '^SANDBOX_BASE=' "$log" | head -1 | cut -d= -f2-)
}

# start_nginx_bulk <dir> <bytes>: a FHIR Bulk Data server that is not ours, for the delivery benchmarks: nginx (one
# worker) answers each kick-off 202 with a Content-Location of its own, that status URL 200 with a manifest of one file, and
# serves the file, <bytes> of 256-byte NDJSON lines written once into <dir>, from the page cache with sendfile (the
# least CPU any server could spend on it). Sets SANDBOX_FHIR, SANDBOX_PID, BIG_FILE_URL and NGINX_FILES_LOG.
start_nginx_bulk() {
  local dir=$1 bytes=$(( ($2 + 255) / 256 * 256 )) port line
  port=$(free_port)
  mkdir -p "$dir/logs" "$dir/files"
  line='{"resourceType":"Observation","id":"big","status":"final","code":{"text":"bench"},"note":[{"text":"'
  line=$line$(printf '%*s' $(( 255 - ${#line} - 4 )) '' | tr ' ' x)'"}]}' # 255 bytes and yes's newline
  head -c "$bytes" < <(yes "$line") > "$dir/files/Observation-1.ndjson" # not a pipe: yes ends on SIGPIPE
  SANDBOX_FHIR=http://127.0.0.1:$port/fhir/
  BIG_FILE_URL=http://127.0.0.1:$port/files/Observation-1.ndjson
  NGINX_FILES_LOG=$dir/logs/files.log
  printf '{"transactionTime":"2026-01-01T00:00:00Z","request":"%sPatient/$export?_type=Observation","requiresAccessToken":false,"output":[{"type":"Observation","url":"%s"}],"error":[]}' \
    "$SANDBOX_FHIR" "$BIG_FILE_URL" > "$dir/manifest.json"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  log_format sent '\$msec \$request_time \$uri \$status \$body_bytes_sent';
  server {
    listen 127.0.0.1:$port;
    # each kick-off its own status URL, as each export is its own job
    location = /fhir/Patient/\$export { add_header Content-Location ${SANDBOX_FHIR}status/\$request_id always; return 202; }
    location /fhir/status/ { default_type application/json; root $dir; try_files /manifest.json =404; }
    location /files/ { access_log $NGINX_FILES_LOG sent; default_type application/fhir+ndjson; alias $dir/files/; }
  }
}
CONF
  run_nginx "$dir" "$port"
}

# run_nginx <dir> <port>: nginx with <dir>/nginx.conf (its prefix <dir>), in the foreground of a background job,
# until it listens on <port>. Sets SANDBOX_PID (the benchmarks' simulator).
run_nginx() {
  [ -x /usr/sbin/nginx ] || { echo "SIMULATOR=nginx needs nginx: apt-get install -y nginx-light" >&2; exit 1; }
  /usr/sbin/nginx -p "$1" -c "$1/nginx.conf" -g 'daemon off;' >"$1/out.log" 2>&1 &
  SANDBOX_PID=$!
  PIDS+=("$SANDBOX_PID")
  local deadline=$(( $(date +%s) + 30 )) # read by wait_for
  wait_for "nginx" bash -c "echo > /dev/tcp/127.0.0.1/$2"
}

# big_file_url <fhir base> <export>: the URL of the big file of a new export, for a raw copy: nginx's one file
# when start_nginx_bulk started it, else the file of an export the sandbox starts for this (kick-off 202, its
# Content-Location .../jobs/<id>, the files under .../files/<id>/).
big_file_url() {
  if [ -n "${BIG_FILE_URL:-}" ]; then echo "$BIG_FILE_URL"; return; fi
  local loc
  loc=$(curl -s -D - -o /dev/null -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' "$1$2" \
    | tr -d '\r' | awk 'tolower($1)=="content-location:" {print $2}')
  echo "${1}files/${loc##*/}/Observation-1.ndjson"
}

# nginx_file_sent_ms <files log>: when nginx last began to send the big file (epoch ms): its log line's end time
# less the request's time.
nginx_file_sent_ms() {
  awk '$3 ~ /Observation-1.ndjson$/ && $4 == 200 { t = $1 - $2 } END { printf "%d", t * 1000 }' "$1"
}

# start_relay <workdir> <port> <xmx> -Dkey=value...: the packaged jar; sets RELAY_PID, RELAY_URL, RELAY_READY_MS.
start_relay() {
  local dir=$1 port=$2 xmx=$3; shift 3
  mkdir -p "$dir"
  local t0; t0=$(date +%s%3N)
  (cd "$dir" && exec java -Xmx"$xmx" -Xlog:gc:file="$dir/gc.log" -Drelay.http.port="$port" \
      -Drelay.store.url="jdbc:h2:file:$dir/store" -Drelay.target.file.dir="$dir/outbox" "$@" \
      -jar "$JAR" >"$dir/relay.log" 2>&1) &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  RELAY_URL=http://127.0.0.1:$port
  local deadline=$((SECONDS + ${RELAY_START_TIMEOUT:-120}))
  until curl -sf -o /dev/null "$RELAY_URL/observe/health/ready"; do
    if ! kill -0 "$RELAY_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "relay did not become ready:" >&2; tail -30 "$dir/relay.log" >&2; exit 1
    fi
    sleep 0.05
  done
  RELAY_READY_MS=$(( $(date +%s%3N) - t0 ))
}

# start_export_relay <workdir> <port> <xmx> -Dkey=value...: start_relay with one source, "bench", that exports the
# simulator's Observation files (SANDBOX_FHIR) and polls at once; then the options given and RELAY_OPTS.
start_export_relay() {
  local dir=$1 port=$2 xmx=$3; shift 3
  start_relay "$dir" "$port" "$xmx" \
    -Drelay.sources.bench.kind=fhir-bulk -Drelay.sources.bench.base-url="$SANDBOX_FHIR" \
    '-Drelay.sources.bench.export=Patient/$export?_type=Observation' -Drelay.sources.bench.allowed-hosts=127.0.0.1 \
    -Drelay.poll.initial-wait=0s "$@" ${RELAY_OPTS:-}
}

# first_file_ms: when the sandbox got its first file request since GET /bench/reset (epoch ms).
first_file_ms() { curl -sf "$SANDBOX_BASE/bench/stats" | grep -oE '"firstFileAtMs":[0-9]+' | cut -d: -f2; }

# delivered <relay dir> <name> [seconds]: the path of the first file called <name> under <relay dir>/outbox once the
# relay has put it there; looked for every 100 ms, so the loop takes no CPU the relay would miss. After [seconds]
# (default BENCH_TIMEOUT, else 600) it prints the relay's log and fails.
delivered() {
  local deadline=$((SECONDS + ${3:-${BENCH_TIMEOUT:-600}})) file=
  until [ -n "$file" ]; do
    file=$(find "$1/outbox" -name "$2" 2>/dev/null | head -1)
    [ $SECONDS -gt $deadline ] && { echo "timed out; relay log:" >&2; tail -20 "$1/relay.log" >&2; return 1; }
    [ -z "$file" ] && sleep 0.1
  done
  echo "$file"
}

# delivered_file <run dir> [seconds]: the big file, Observation-1.ndjson, delivered by the relay of <run dir>/relay.
delivered_file() { delivered "$1/relay" Observation-1.ndjson "${2:-}"; }

# in_place_ms <file>: when the rename put the file in place (its ctime, epoch ms), not when a loop saw it.
in_place_ms() { date -d "$(stat -c %z "$1")" +%s%3N; }

# big_file_sent_ms <sandbox log>: when the sandbox last began to send its big file (epoch ms).
big_file_sent_ms() { grep -oE 'BIG_FILE_SENT start=[0-9]+' "$1" | tail -1 | cut -d= -f2; }

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Peak heap used after GC, in MiB, from a -Xlog:gc file ("... 12M->5M(128M) ...": the larger "before" figure).
peak_heap_mib() {
  grep -oE '[0-9]+M->[0-9]+M\([0-9]+M\)' "$1" | awk -F'[M>(-]+' '{ if ($1 > m) m = $1 } END { print m + 0 }'
}

rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# CPU seconds (user+sys) used so far by a process.
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_for "description" command...: until the command succeeds, or exit 1 once $deadline (epoch seconds) passes.
wait_for() {
  local what=$1; shift
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "timed out waiting for $what" >&2; exit 1; fi
    sleep 0.2
  done
}

# CPU ticks (user + system) of a process so far; 0 once it is gone.
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# deliveries_above <relay log> N: true once the log names more than N delivered jobs of the source "bench".
deliveries_above() { [ "$(grep -c "of source bench delivered" "$1" || true)" -gt "$2" ]; }

# threads_cpu <pid>: per-thread CPU ticks of a JVM, one line each: "tid utime stime name".
threads_cpu() {
  for t in /proc/"$1"/task/*; do
    # fields after the ")" that closes the thread name (names have spaces): utime, stime are the 12th and 13th
    # a thread may end while this runs: it is left out, and the function still succeeds (callers run set -e)
    if [ -r "$t/stat" ]; then
      echo "$(basename "$t") $(sed 's/.*) //' "$t/stat" | awk '{print $12, $13}') $(tr ' ' '_' < "$t/comm")"
    fi
  done 2>/dev/null
}

# threads_cpu_between <before> <after>: the 15 busiest threads between two threads_cpu files, on stderr.
threads_cpu_between() {
  awk 'NR==FNR{u[$1]=$2; s[$1]=$3; next} {du=$2-u[$1]; ds=$3-s[$1]; if (du+ds>0) t[$4]+=du+ds; tu[$4]+=du; ts[$4]+=ds}
       END{for (n in t) printf "%6d ticks (user %d, sys %d) %s\n", t[n], tu[n], ts[n], n}' "$1" "$2" \
    | sort -rn | head -15 >&2
}


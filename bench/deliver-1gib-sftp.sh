#!/usr/bin/env bash
# Delivers one large file from the FHIR Bulk sandbox (own JVM) to an SFTP server (Apache MINA SSHD in its own
# JVM, or OpenSSH's sshd with SFTP_SERVER=openssh) with the relay jar under -Xmx128m, strict host key checking on, and in the same run copies the same bytes raw
# (curl from the sandbox piped into curl -T sftp://, libssh2). Prints both throughputs, their ratio, CPU seconds
# of the relay, the sandbox, the SFTP server (and the two curls), the relay's peak heap (from its GC log), and
# checks per run that the relay's file, its receipt and the raw copy have the same SHA-256.
#
# Usage: bench/deliver-1gib-sftp.sh [BYTES] [RUNS]     BYTES defaults to 1073741824 (1 GiB), RUNS to 2
# Env:   BENCH_TIMEOUT (seconds, default 1200): every process and wait is bounded by it.
#        RELAY_OPTS: extra -D options for the relay.  BENCH_SKIP_BUILD=1 reuses the built jar and classes.
#        BENCH_JAR: the relay jar to measure (default target/health-export-relay.jar), for A/B runs.
#        BENCH_THREADS=1: per-thread CPU of the relay JVM during each delivery (on stderr).
#        BENCH_KEEP=1: keep the work folder (files, logs) under /tmp.
#        SFTP_SERVER=openssh: OpenSSH's /usr/sbin/sshd (Debian's openssh-server) on a free port with a config of
#          its own, ed25519 host and login keys (ssh-keygen), for the relay and the raw copy alike.
# Needs: java 17, maven (with the project's dependencies), curl with sftp (libssh2), sha256sum, python3.
set -euo pipefail
source "$(dirname "$0")/lib.sh" # wait_for, free_port, cpu_of, threads_cpu...; this script has its own cleanup

BYTES=${1:-1073741824}
RUNS=${2:-2}
TIMEOUT=${BENCH_TIMEOUT:-1200}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/relay-bench-sftp.XXXXXX)
SANDBOX_PID=""
SFTP_PID=""
RELAY_PID=""
cleanup() {
  for p in "$RELAY_PID" "$SANDBOX_PID" "$SFTP_PID"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] && echo "work files kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
remaining() { echo $(( deadline - $(date +%s) > 1 ? deadline - $(date +%s) : 1 )); }
curl -V | grep -qw sftp || { echo "this curl has no sftp support (libssh2)" >&2; exit 1; }

deadline=$(( $(date +%s) + TIMEOUT ))
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$JAR" ]; then
  echo "== building"
  timeout "$(remaining)" mvn -B -q -o -DskipTests package
fi
timeout "$(remaining)" mvn -B -q -o test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/cp.txt"
TEST_CP="$ROOT/target/test-classes:$ROOT/target/classes:$(cat "$WORK/cp.txt")"
deadline=$(( $(date +%s) + TIMEOUT ))
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$WORK/sftp"
if [ "${SFTP_SERVER:-mina}" = openssh ]; then
  if [ ! -x /usr/sbin/sshd ]; then
    echo "SFTP_SERVER=openssh needs OpenSSH's server: apt-get install -y openssh-server (.ci/run does)" >&2
    exit 1
  fi
  echo "== starting the SFTP server (OpenSSH $(/usr/sbin/sshd -V 2>&1 | head -1 | cut -d, -f1), files under $WORK/sftp/data)"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/sftp/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/sftp/client_ed25519"
  cp "$WORK/sftp/client_ed25519.pub" "$WORK/sftp/authorized_keys"
  SFTP_PORT=$(free_port)
  printf '%s\n' "Port $SFTP_PORT" "ListenAddress 127.0.0.1" "HostKey $WORK/sftp/host_ed25519" \
    "AuthorizedKeysFile $WORK/sftp/authorized_keys" "StrictModes no" "PasswordAuthentication no" \
    "KbdInteractiveAuthentication no" "UsePAM no" "PidFile $WORK/sftp/sshd.pid" "Subsystem sftp internal-sftp" \
    > "$WORK/sftp/sshd_config"
  [ "$(id -u)" = 0 ] && mkdir -p /run/sshd
  timeout "$TIMEOUT" /usr/sbin/sshd -D -e -f "$WORK/sftp/sshd_config" >"$WORK/sftp.log" 2>&1 &
  SFTP_PID=$!
  echo "[127.0.0.1]:$SFTP_PORT $(cut -d' ' -f1,2 "$WORK/sftp/host_ed25519.pub")" > "$WORK/sftp/known_hosts"
  wait_for "the SFTP server" bash -c "echo > /dev/tcp/127.0.0.1/$SFTP_PORT"
  SFTP_USER=$(id -un)
  DATA=$WORK/sftp/data
  mkdir -p "$DATA"
  RELAY_DIR=$DATA/relay # OpenSSH serves the whole file system: absolute paths
  RELAY_LOGIN=(-Drelay.target.sftp.private-key-file="$WORK/sftp/client_ed25519")
  RAW_LOGIN=(-u "$SFTP_USER:" --key "$WORK/sftp/client_ed25519" --pubkey "$WORK/sftp/client_ed25519.pub")
  RAW_PATH=$DATA
else
  echo "== starting the SFTP server (Apache MINA SSHD, root $WORK/sftp/data)"
  timeout "$TIMEOUT" java -Xmx1g -cp "$TEST_CP" org.healthexport.relay.bench.SftpMain "$WORK/sftp" "$TIMEOUT" \
    >"$WORK/sftp.log" 2>&1 &
  SFTP_PID=$!
  wait_for "the SFTP server" test -f "$WORK/sftp/port"
  SFTP_PORT=$(cat "$WORK/sftp/port")
  SFTP_USER=$(cat "$WORK/sftp/user")
  SFTP_PASSWORD=$(cat "$WORK/sftp/password")
  DATA=$WORK/sftp/data
  RELAY_DIR=relay # under the server's root
  RELAY_LOGIN=()
  RAW_LOGIN=(-u "$SFTP_USER:$SFTP_PASSWORD")
  RAW_PATH=""
fi

echo "== starting the sandbox (own JVM, one file of $BYTES bytes per export)"
timeout "$TIMEOUT" java -Xmx512m -cp "$TEST_CP" org.healthexport.relay.bench.SandboxMain \
  big-file-bytes="$BYTES" polls-before-ready=1 retry-after=1 >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
wait_for "the sandbox" grep -q '^SANDBOX_FHIR=' "$WORK/sandbox.log"
FHIR=$(grep '^SANDBOX_FHIR=' "$WORK/sandbox.log" | head -1 | cut -d= -f2-)

echo "== starting the relay (-Xmx128m, target sftp://$SFTP_USER@127.0.0.1:$SFTP_PORT/relay, strict host keys)"
API_PORT=$(free_port)
mkdir -p "$WORK/relay"
# the password through the environment (relay.x.y <-> RELAY_X_Y), not on a command line others can read
(cd "$WORK/relay" && RELAY_TARGET_SFTP_PASSWORD="${SFTP_PASSWORD:-}" exec timeout "$TIMEOUT" java -Xmx128m \
  -Xlog:gc:file="$WORK/gc.log" \
  -Drelay.http.port="$API_PORT" -Drelay.http.host=127.0.0.1 \
  -Drelay.store.url="jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1" \
  -Drelay.sources.bench.kind=fhir-bulk -Drelay.sources.bench.base-url="$FHIR" \
  '-Drelay.sources.bench.export=Group/g1/$export?_type=Observation' \
  -Drelay.sources.bench.allowed-hosts=127.0.0.1 -Drelay.poll.initial-wait=0s \
  -Drelay.target.kind=sftp -Drelay.target.sftp.host=127.0.0.1 -Drelay.target.sftp.port="$SFTP_PORT" \
  -Drelay.target.sftp.username="$SFTP_USER" -Drelay.target.sftp.known-hosts-file="$WORK/sftp/known_hosts" \
  -Drelay.target.sftp.strict-host-key-checking=true -Drelay.target.sftp.dir="$RELAY_DIR" "${RELAY_LOGIN[@]}" \
  ${RELAY_OPTS:-} -jar "$JAR" >"$WORK/relay.log" 2>&1) &
RELAY_PID=$!
wait_for "the relay's API" curl -sf "http://127.0.0.1:$API_PORT/api/jobs"
JAVA_PID=$(pgrep -P "$RELAY_PID" java || echo "$RELAY_PID")
SANDBOX_JAVA=$(pgrep -P "$SANDBOX_PID" java || echo "$SANDBOX_PID")
SFTP_JAVA=$(pgrep -P "$SFTP_PID" java || pgrep -P "$SFTP_PID" sshd || echo "$SFTP_PID")

TICKS=$(getconf CLK_TCK)
# CPU ticks of a process tree: each live process's own and its ended children's (OpenSSH forks per login)
tree_cpu() {
  local total c
  total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for c in $(pgrep -P "$1" || true); do total=$((total + $(tree_cpu "$c"))); done
  echo "$total"
}
cpu_mark() { echo "$(cpu_of "$JAVA_PID") $(cpu_of "$SANDBOX_JAVA") $(tree_cpu "$SFTP_JAVA")"; }
cpu_since() { # cpu_since "relay sandbox sftp" (ticks) -> "relay sandbox sftp" (seconds since)
  set -- $1 $(cpu_mark)
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v e="$5" -v f="$6" -v t="$TICKS" \
    'BEGIN{printf "%.1f %.1f %.1f", (d - a) / t, (e - b) / t, (f - c) / t}'
}
raw_copy() { # raw_copy N: curl from the sandbox piped into curl -T to the SFTP server; sets RAW_BYTES, RAW_S
  local url mark start end
  url=$(big_file_url "$FHIR" 'Group/g1/$export?_type=Observation')
  mark=$(cpu_mark)
  start=$(date +%s%N)
  # bash's time keyword gives user+sys of both curls; -k skips the host key check (for the raw copy only)
  if ! { TIMEFORMAT='%U %S'; time {
      curl -sSf --max-time "$(remaining)" "$url" \
        | curl -sSf -k --max-time "$(remaining)" "${RAW_LOGIN[@]}" -T - \
            "sftp://127.0.0.1:$SFTP_PORT$RAW_PATH/raw-$1.ndjson"; } ; } 2>"$WORK/curls.txt"; then
    echo "raw copy $1 failed:" >&2; cat "$WORK/curls.txt" >&2; exit 1
  fi
  end=$(date +%s%N)
  echo "raw $(cpu_since "$mark") $(tail -1 "$WORK/curls.txt" | awk '{printf "%.1f", $1 + $2}')" >> "$WORK/cpu.txt"
  RAW_BYTES=$(stat -c %s "$DATA/raw-$1.ndjson")
  RAW_S=$(awk -v ns=$((end - start)) 'BEGIN{printf "%.3f", ns / 1e9}')
}
relay_copy() { # relay_copy: kicks off an export through the API, waits for its receipt; sets JOB, REL_BYTES, REL_S
  local before mark line
  before=$(grep -c "of source bench delivered" "$WORK/relay.log" || true)
  mark=$(cpu_mark)
  [ -n "${BENCH_THREADS:-}" ] && threads_cpu "$JAVA_PID" > "$WORK/threads.before"
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$API_PORT/api/sources/bench/run"
  wait_for "the relay's delivery" deliveries_above "$WORK/relay.log" "$before"
  echo "relay $(cpu_since "$mark") -" >> "$WORK/cpu.txt"
  if [ -n "${BENCH_THREADS:-}" ]; then
    threads_cpu "$JAVA_PID" > "$WORK/threads.after"
    threads_cpu_between "$WORK/threads.before" "$WORK/threads.after"
  fi
  JOB=$(grep "of source bench delivered" "$WORK/relay.log" | tail -1 | sed 's/.*Job \([^ ]*\) of source.*/\1/')
  # the relay's own time for the file: from opening the download to the rename at the server
  line=$(grep "Job $JOB: delivered .*Observation-1.ndjson" "$WORK/relay.log")
  REL_BYTES=$(echo "$line" | sed 's/.*(\([0-9]*\) bytes in \([0-9]*\) ms).*/\1/')
  REL_S=$(echo "$line" | sed 's/.*(\([0-9]*\) bytes in \([0-9]*\) ms).*/\2/' | awk '{printf "%.3f", $1 / 1000}')
}
check_bytes() { # check_bytes N job: the relay's file, its receipt's SHA-256 and the raw copy agree; then deletes both
  local relay_file receipt relay_sha receipt_sha raw_sha
  relay_file=$(find "$DATA/relay" -path "*/$2/*" -name Observation-1.ndjson | head -1)
  receipt=$(find "$DATA/relay" -path "*/$2/*" -name receipt.json | head -1)
  [ -n "$relay_file" ] && [ -n "$receipt" ] || { echo "run $1: the relay's file or receipt is missing" >&2; exit 1; }
  receipt_sha=$(tr -d ' \n' < "$receipt" | grep -o '"key":"[^"]*Observation-1.ndjson"[^}]*' \
    | grep -o '"sha256":"[0-9a-f]*"' | cut -d'"' -f4)
  relay_sha=$(sha256sum "$relay_file" | cut -d' ' -f1)
  raw_sha=$(sha256sum "$DATA/raw-$1.ndjson" | cut -d' ' -f1)
  echo "run $1 sha256: relay file $relay_sha, receipt $receipt_sha, raw copy $raw_sha"
  rm -f "$relay_file" "$DATA/raw-$1.ndjson"
  [ "$relay_sha" = "$receipt_sha" ] && [ "$relay_sha" = "$raw_sha" ]
}

echo "== $RUNS runs of: raw copy, then relay delivery"
MISMATCH=0
: > "$WORK/runs.txt"
for i in $(seq "$RUNS"); do
  # each copy starts with the last one's bytes written out: else the copy after it pays for their writeback
  sync
  raw_copy "$i"
  sync
  relay_copy
  raw=$(awk -v b="$RAW_BYTES" -v s="$RAW_S" 'BEGIN{printf "%.1f", b / s / 1e6}')
  rel=$(awk -v b="$REL_BYTES" -v s="$REL_S" 'BEGIN{printf "%.1f", b / s / 1e6}')
  echo "$raw $rel" >> "$WORK/runs.txt"
  # cpu.txt lines: "<phase> relay sandbox sftp-server curls"
  echo "run $i: raw copy $raw MB/s ($RAW_BYTES bytes, $RAW_S s), relay $rel MB/s ($REL_BYTES bytes, $REL_S s)"
  tail -2 "$WORK/cpu.txt" | awk '{printf "       CPU s during %-5s relay JVM %s, sandbox %s, SFTP server %s%s\n", $1, $2, $3, $4,
    ($5 == "-" ? "" : ", the two curls " $5)}'
  check_bytes "$i" "$JOB" || MISMATCH=1
done

PEAK=$(grep -o '[0-9]*M->[0-9]*M' "$WORK/gc.log" | cut -dM -f1 | sort -n | tail -1)
LIVE=$(grep 'Pause Young' "$WORK/gc.log" | grep -o '[0-9]*M->[0-9]*M' | sed 's/.*->\([0-9]*\)M/\1/' | sort -n | tail -1)
MAX_HEAP=$(grep -o '[0-9]*M->[0-9]*M([0-9]*M)' "$WORK/gc.log" | sed 's/.*(\([0-9]*\)M)/\1/' | sort -n | tail -1)

echo
echo "== results ($(nproc) cores, $BYTES bytes asked, $RUNS runs, load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
awk '{ r += $1; d += $2; n++ } END {
  printf "raw copy (curl | curl -T sftp://): %.1f MB/s\nrelay (-Xmx128m):                  %.1f MB/s\nratio relay/raw:                   %.2f\n", r/n, d/n, d/r }' \
  "$WORK/runs.txt"
echo "peak heap before a GC:             ${PEAK:-?} MiB (heap capacity ${MAX_HEAP:-?} MiB, -Xmx128m)"
echo "largest heap after a GC:           ${LIVE:-?} MiB"
grep -E "OutOfMemory" "$WORK/relay.log" && { echo "the relay ran out of memory"; exit 1; } || true
if [ "$MISMATCH" = 0 ]; then echo "bytes: identical (relay file = receipt = raw copy, every run)"; else echo "bytes: MISMATCH"; exit 1; fi

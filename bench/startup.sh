#!/usr/bin/env bash
# Time from `java -jar` to ready on /observe/health/ready, the CPU used by then (all threads, the main thread),
# and idle RSS (after IDLE seconds, default 10).
# Runs RUNS times (default 3), with an empty H2 file store, no source and the demo off (DEMO=true runs the demo,
# with its in-process sandbox); RELAY_OPTS adds JVM options.   Usage: bench/startup.sh
#        BENCH_THREADS=1: each run's busiest threads at ready (CPU ticks since the start, on stderr): the JIT's
#        compiler threads beside the main thread
source "$(dirname "$0")/lib.sh"
RUN=$OUT/startup
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
# CPU seconds of the Java main thread (the task named "java" that is not the launcher's own, which only waits)
main_thread_cpu() {
  local t
  for t in /proc/"$1"/task/*; do
    if [ "$(basename "$t")" != "$1" ] && [ "$(cat "$t/comm" 2>/dev/null)" = java ]; then
      sed 's/.*) //' "$t/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'
      return
    fi
  done
}
printf '%-4s %10s %13s %13s %s\n' run ready-ms CPU-s,main-s idle-RSS-MiB "load average"
for i in $(seq 1 "${RUNS:-3}"); do
  PORT=$(free_port)
  start_relay "$RUN/r$i" "$PORT" "${RELAY_XMX:-256m}" -Drelay.demo.enabled="${DEMO:-false}" ${RELAY_OPTS:-}
  CPU_AT_READY="$(cpu_seconds "$RELAY_PID"),$(main_thread_cpu "$RELAY_PID")" # all threads, the main thread
  if [ -n "${BENCH_THREADS:-}" ]; then
    threads_cpu "$RELAY_PID" > "$RUN/threads.r$i"
    echo "run $i, busiest threads at ready:" >&2
    # CPU since the start: measured from a "before" of one placeholder thread (the function needs a non-empty one)
    threads_cpu_between <(echo "0 0 0 start") "$RUN/threads.r$i"
  fi
  sleep "${IDLE:-10}"
  printf '%-4s %10d %13s %13s %s\n' "$i" "$RELAY_READY_MS" "$CPU_AT_READY" "$(rss_mib "$RELAY_PID")" "$(loadavg)"
  stop_pid "$RELAY_PID"
done

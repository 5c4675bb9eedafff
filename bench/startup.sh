#!/usr/bin/env bash
# Time from `java -jar` to ready on /observe/health/ready, and idle RSS (after IDLE seconds, default 10).
# Runs RUNS times (default 3), with an empty H2 file store and no source configured (the demo, with its
# in-process sandbox) unless RELAY_OPTS says otherwise.   Usage: bench/startup.sh
source "$(dirname "$0")/lib.sh"
RUN=$OUT/startup
rm -rf "$RUN"; mkdir -p "$RUN"
build
echo "load average before: $(loadavg)"
printf '%-4s %10s %13s %s\n' run ready-ms idle-RSS-MiB "load average"
for i in $(seq 1 "${RUNS:-3}"); do
  PORT=$(free_port)
  start_relay "$RUN/r$i" "$PORT" "${RELAY_XMX:-256m}" -Drelay.demo.enabled="${DEMO:-false}" ${RELAY_OPTS:-}
  sleep "${IDLE:-10}"
  printf '%-4s %10d %13s %s\n' "$i" "$RELAY_READY_MS" "$(rss_mib "$RELAY_PID")" "$(loadavg)"
  stop_pid "$RELAY_PID"
done

#!/usr/bin/env bash
# JMH microbenchmarks: the *Benchmark classes under src/test/java/org/healthexport/relay/bench/, compiled with the
# tests (JMH's annotation processor writes their harness then), each run in a forked JVM of its own. Results also
# go to target/bench/jmh.json.
# Usage: bench/jmh.sh [JMH arguments]   default: every benchmark, with JMH's allocation profiler (-prof gc)
#   bench/jmh.sh PollStoreBenchmark -p store=h2-file -prof gc     one benchmark, one store
#   bench/jmh.sh -h                                                JMH's own options
# Needs: java 17, maven; PollStoreBenchmark's store=postgres needs the PostgreSQL at 127.0.0.1:5432 (database
# test, as the tests use; RELAY_TEST_POSTGRES_URL to change it).
source "$(dirname "$0")/lib.sh"
build
echo "load average before: $(loadavg)"
if [ $# -eq 0 ]; then
  set -- 'org\.healthexport\.relay\.bench\..*Benchmark' -prof gc
fi
java -cp "$TEST_CP" org.openjdk.jmh.Main -rf json -rff "$OUT/jmh.json" "$@"
echo "load average after: $(loadavg)"

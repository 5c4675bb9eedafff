#!/usr/bin/env python3
"""Polls/s and poll lag from the status simulator's access log (nginx, SIMULATOR=nginx in poll-scale.sh).

Each log line is "<answer time, epoch s> <request time, s> <uri>". A poll's lag is its arrival (answer time minus
request time) minus the time the previous answer to the same job asked for (that answer's time plus Retry-After):
the same measure the sandbox takes. Polls are counted when they arrive inside the window [t0, t1] (epoch ms).

Usage: poll-lag.py <access log> <t0 ms> <t1 ms> [retry-after s]
"""
import sys

log, t0, t1 = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000
retry_after = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
last_answer = {}
lags, polls, jobs = [], 0, set()
with open(log) as f:
    rows = sorted((float(a), float(r), uri) for a, r, uri in (line.split() for line in f if line.count(" ") == 2))
for answered, took, uri in rows:
    arrived = answered - took
    if t0 <= arrived <= t1:
        polls += 1
        jobs.add(uri)
        if uri in last_answer:
            lags.append(max(0.0, arrived - (last_answer[uri] + retry_after)))
    last_answer[uri] = answered
lags.sort()


def pct(p):
    return 1000 * lags[min(len(lags) - 1, int(p * len(lags)))] if lags else 0.0


seconds = t1 - t0
print(f"polls/s             {polls / seconds:.1f}")
print(f"jobs polled         {len(jobs)}")
print(f"lag p50/p90/p99/max {pct(0.50):.1f} / {pct(0.90):.1f} / {pct(0.99):.1f} / {1000 * lags[-1] if lags else 0:.1f} ms")

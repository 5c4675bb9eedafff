#!/usr/bin/env python3
"""Polls/s and poll lag from the status simulator's access log (nginx, SIMULATOR=nginx in poll-scale.sh).

Each log line is "<answer time, epoch s> <request time, s> <uri>". A poll's lag is its arrival (answer time minus
request time) minus the time the previous answer to the same job asked for (that answer's time plus Retry-After):
the same measure the sandbox takes. Polls are counted when they arrive inside the window [t0, t1] (epoch ms).
With an interval (seconds), the whole log is also shown as a table, one row per interval from the first poll: the
lag within each interval is narrow, and the table shows whether a wide p99 over the window comes from polls/s still
rising (the JIT compiling the polling path after a start: lag is about jobs / polls/s - Retry-After) or a steady state.

Usage: poll-lag.py <access log> <t0 ms> <t1 ms> [retry-after s] [interval s]
"""
import sys

log, t0, t1 = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000
retry_after = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
last_answer = {}
every_poll = []  # (arrival, uri, lag or None: a job's first poll), in arrival order
with open(log) as f:
    rows = sorted((float(a), float(r), uri) for a, r, uri in (line.split() for line in f if line.count(" ") == 2))
for answered, took, uri in rows:
    arrived = answered - took
    previous = last_answer.get(uri)
    every_poll.append((arrived, uri, None if previous is None else max(0.0, arrived - (previous + retry_after))))
    last_answer[uri] = answered


def pct(lags, p):
    return 1000 * lags[min(len(lags) - 1, int(p * len(lags)))] if lags else 0.0


def summary(start, end):
    inside = [(uri, lag) for arrived, uri, lag in every_poll if start <= arrived <= end]
    lags = sorted(lag for _, lag in inside if lag is not None)
    return len(inside), len({uri for uri, _ in inside}), lags


if interval > 0 and every_poll:
    first = every_poll[0][0]
    by_interval = {}  # interval number -> [polls, lags]
    for arrived, _, lag in every_poll:
        row = by_interval.setdefault(int((arrived - first) // interval), [0, []])
        row[0] += 1
        if lag is not None:
            row[1].append(lag)
    print(f"{'from s':>6} {'polls/s':>8} {'lag p50':>8} {'p99':>8} ms   (0 = first poll; measured {t0 - first:.0f}-{t1 - first:.0f} s)")
    for n in range(max(by_interval) + 1):
        count, lags = by_interval.get(n, (0, []))
        lags.sort()
        # the last row ends at the last poll, not after a whole interval
        seconds = max(1.0, min(interval, every_poll[-1][0] - first - n * interval))
        print(f"{n * interval:6.0f} {count / seconds:8.0f} {pct(lags, 0.5):8.0f} {pct(lags, 0.99):8.0f}")

count, jobs, lags = summary(t0, t1)
print(f"polls/s             {count / (t1 - t0):.1f}")
print(f"jobs polled         {jobs}")
print(f"lag p50/p90/p99/max {pct(lags, 0.50):.1f} / {pct(lags, 0.90):.1f} / {pct(lags, 0.99):.1f} / {1000 * lags[-1] if lags else 0:.1f} ms")

#!/usr/bin/env python3
"""jobctl on a Redis Cluster against the same on a single Redis, in the same run: worker throughput (no-op jobs) on
one queue, and on four queues worked by four `jobctl run-once` processes at once (on the cluster the four queues sit
on different masters); then `jobctl status` over 20 queues (spread over the masters on the cluster).

    .venv/bin/python scripts/bench_cluster.py --single redis://127.0.0.1:56379/2 \
        --cluster redis://127.0.0.1:55301/0 --jobctl PATH [--jobs 20000] [--runs 3]

Jobs are added with `jobctl add --from` (the Python client adds one job per call on a cluster). Each worker run is
timed from the start of the processes until the last exits (start-up included); queue names are fresh per run.
Prints each figure and the medians side by side.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import redis
from redis.cluster import RedisCluster


def jobctl(args, url, *arguments, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    env.update({"JOBCTL_URL": url, "JOBCTL_PREFIX": "benchc"})
    result = subprocess.run([args.jobctl, *arguments], env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        sys.exit(f"jobctl {' '.join(arguments)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def queues_on_different_masters(cluster_url, count):
    """Hash-tagged queue names whose slots lie on as many different masters as there are (one per master first)."""
    client = RedisCluster.from_url(cluster_url)
    suffix = uuid.uuid4().hex[:6]
    chosen, used = [], {}
    for index in range(200):
        name = "{b%d-%s}" % (index, suffix)
        node = client.get_node_from_key(f"benchc:{name}:wait").name
        if used.get(node, 0) < (count + 2) // 3 and len(chosen) < count:
            chosen.append(name)
            used[node] = used.get(node, 0) + 1
    client.close()
    return chosen


def fill(args, url, queues, jobs_each):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for n in range(jobs_each):
            f.write(json.dumps({"name": "noop", "data": {"n": n}}) + "\n")
        path = f.name
    try:
        for queue in queues:
            jobctl(args, url, "add", queue, "--from", path, "--yes")
    finally:
        os.unlink(path)


def work(args, url, queues):
    """Seconds until one run-once per queue, all at once, has worked every job."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    env.update({"JOBCTL_URL": url, "JOBCTL_PREFIX": "benchc"})
    start = time.monotonic()
    processes = [
        subprocess.Popen([args.jobctl, "run-once", queue, "--noop", "--concurrency", str(args.concurrency)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for queue in queues]
    for process in processes:
        _, err = process.communicate(timeout=600)
        if process.returncode != 0:
            sys.exit(f"run-once failed ({process.returncode}): {err[-2000:]}")
    return time.monotonic() - start


def throughput(args, url, cluster, queue_count):
    jobs_each = args.jobs // queue_count
    if cluster:
        queues = queues_on_different_masters(url, queue_count)
    else:
        suffix = uuid.uuid4().hex[:6]
        queues = ["{b%d-%s}" % (index, suffix) for index in range(queue_count)]
    fill(args, url, queues, jobs_each)
    seconds = work(args, url, queues)
    return jobs_each * queue_count / seconds


def status_time(args, url, cluster):
    """Median seconds of `jobctl status` over 20 queues of a few jobs each (a prefix of their own)."""
    suffix = uuid.uuid4().hex[:6]
    if cluster:
        queues = queues_on_different_masters(url, 20)
    else:
        queues = ["{s%d-%s}" % (index, suffix) for index in range(20)]
    fill(args, url, queues, 5)
    times = []
    for _ in range(5):
        start = time.monotonic()
        jobctl(args, url, "status", *queues, "-o", "json")
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", required=True, help="a single Redis (a database of the benchmark's own)")
    ap.add_argument("--cluster", required=True, help="one node of the cluster")
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    redis.Redis.from_url(args.single).flushdb()
    results = {}
    for run in range(1, args.runs + 1):
        for label, url, cluster, count in [
            ("single Redis, 1 queue", args.single, False, 1),
            ("cluster, 1 queue", args.cluster, True, 1),
            ("single Redis, 4 queues x 4 workers", args.single, False, 4),
            ("cluster, 4 queues on 3 masters x 4 workers", args.cluster, True, 4),
        ]:
            rate = throughput(args, url, cluster, count)
            results.setdefault(label, []).append(rate)
            print(f"run {run}: {label}: {rate:,.0f} jobs/s", flush=True)
        for label, url, cluster in [("status, 20 queues, single Redis", args.single, False),
                                    ("status, 20 queues over 3 masters", args.cluster, True)]:
            seconds = status_time(args, url, cluster)
            results.setdefault(label, []).append(seconds * 1000)
            print(f"run {run}: {label}: {seconds * 1000:.1f} ms", flush=True)
    print(f"\nmedians of {args.runs} runs ({args.jobs:,} no-op jobs per throughput run, concurrency "
          f"{args.concurrency} per worker):")
    for label, values in results.items():
        unit = "ms" if label.startswith("status") else "jobs/s"
        print(f"  {label:48} {statistics.median(values):>10,.1f} {unit}")


if __name__ == "__main__":
    main()

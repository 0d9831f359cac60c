#!/usr/bin/env python3
"""Latency from add to handler start on an idle worker: `jobctl run --serve` beside a Python bullmq Worker, one job
at a time with idle gaps, on one backend; prints p50 and p99. With --idle-seconds (Redis only), also counts the
commands an idle `jobctl run` sends in that time (MONITOR; commands run inside scripts are not counted).

    .venv/bin/python scripts/bench_latency.py --backend redis --url redis://127.0.0.1:56379/1 --jobctl PATH
"""
import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time

QUEUE = "bench-latency"
HANDLER = """
import json, sys, time
for line in sys.stdin:
    at = time.time() * 1000
    sys.stdout.write(json.dumps({"id": json.loads(line)["id"], "ok": True, "value": {"at": at}}) + "\\n")
    sys.stdout.flush()
"""


def queue_options(args, name):
    if args.backend == "redis":
        return {"connection": args.url, "prefix": args.prefix}
    return {"backend": "postgres", "connection": args.url, "schema": args.schema}


async def measure(args, name, count, gap):
    """Adds `count` jobs one at a time, `gap` seconds apart; returns the ms from add to handler start."""
    from bullmq import Queue
    q = Queue(name, queue_options(args, name))
    sent = {}
    for _ in range(count):
        await asyncio.sleep(gap)
        start = time.time() * 1000
        job = await q.add("lat", {"sent": start})
        sent[job.id] = start
    await asyncio.sleep(1)
    latencies = []
    for job_id, start in sent.items():
        job = await q.getJob(job_id)
        value = job.returnvalue if job else None
        if isinstance(value, dict) and "at" in value:
            latencies.append(value["at"] - start)
    await q.close()
    return latencies


async def python_worker(args, name, count, gap):
    from bullmq import Worker

    async def process(job, token):
        return {"at": time.time() * 1000}

    worker = Worker(name, process, {**queue_options(args, name), "concurrency": 1})
    await asyncio.sleep(2)  # let it go idle
    try:
        return await measure(args, name, count, gap)
    finally:
        await worker.close()


def summary(latencies):
    if not latencies:
        return "no job completed in time"
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return f"p50 {statistics.median(latencies):6.1f} ms, p99 {p99:6.1f} ms (n={len(latencies)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["redis", "postgres"], required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default="bull")
    ap.add_argument("--schema", default="bench_latency")
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--gap", type=float, default=0.05, help="seconds between adds")
    ap.add_argument("--idle-seconds", type=int, default=0)
    args = ap.parse_args()

    if args.backend == "postgres":  # the client's migrations create the schema
        asyncio.run(measure(args, QUEUE + "-init", 0, 0))
    target = ["--url", args.url] + (["--prefix", args.prefix] if args.backend == "redis" else ["--schema", args.schema])
    name = f"{QUEUE}-{os.getpid()}"
    worker = subprocess.Popen([args.jobctl, "run", name, "--progress", "0"] + target + ["--serve", sys.executable, "-c", HANDLER],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2)
    try:
        ours = asyncio.run(measure(args, name, args.jobs, args.gap))
        idle = None
        if args.idle_seconds and args.backend == "redis":
            import redis
            time.sleep(65)  # past the doubling waits after the last job: the steady idle state
            monitor = subprocess.Popen(["redis-cli", "-u", args.url, "monitor"], stdout=subprocess.PIPE, text=True)
            time.sleep(args.idle_seconds)
            monitor.send_signal(signal.SIGINT)
            lines = monitor.communicate()[0].splitlines()
            idle = sum(1 for line in lines if f"{name}" in line and "lua]" not in line)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    theirs = asyncio.run(python_worker(args, name + "-py", args.jobs, args.gap))
    print(f"{args.backend}: add → handler start on an idle worker, one job every {args.gap * 1000:.0f} ms")
    print(f"  jobctl run --serve      {summary(ours)}")
    print(f"  python bullmq Worker    {summary(theirs)}")
    if idle is not None:
        print(f"  idle jobctl run: {idle} commands in {args.idle_seconds} s (scripts' inner commands not counted)")


if __name__ == "__main__":
    main()

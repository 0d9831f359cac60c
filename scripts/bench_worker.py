#!/usr/bin/env python3
"""No-op jobs through `jobctl run-once` and through a Python bullmq Worker, in the same run, on one backend; prints
jobs/s (median of --runs) and CPU per job of the worker process and of the server. jobctl's handler: --handler
noop (built in), serve (a trivial Python --serve handler: parse the line, answer ok) or exec (`--exec true`, one
process per job).

    .venv/bin/python scripts/bench_worker.py --backend redis --url redis://127.0.0.1:56379/1 --jobctl PATH
    .venv/bin/python scripts/bench_worker.py --backend postgres --url postgresql://... --schema bench_worker --jobctl PATH

Each run adds --jobs jobs with the client's addBulk, then times the worker from start until every job is completed
(jobctl: the whole process, start-up included; Python: from Worker start to the last completion, start-up
excluded). Server CPU: Redis from INFO cpu; PostgreSQL from /proc for every postgres process (the postmaster's
reaped children included), so other load on the machine counts too: run it on a quiet machine.
"""
import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time

QUEUE = "bench-worker"
SERVE_HANDLER = """
import json, sys
for line in sys.stdin:
    sys.stdout.write(json.dumps({"id": json.loads(line)["id"], "ok": True, "value": None}) + "\\n")
    sys.stdout.flush()
"""


def queue_options(args):
    if args.backend == "redis":
        return {"connection": args.url, "prefix": args.prefix}
    return {"backend": "postgres", "connection": args.url, "schema": args.schema}


def server_cpu(args):
    """Seconds of CPU the server has used so far."""
    if args.backend == "redis":
        import redis
        info = redis.Redis.from_url(args.url).info("cpu")
        return info["used_cpu_user"] + info["used_cpu_sys"]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("postgres"):
            # utime, stime, cutime, cstime (fields 14-17 of stat; here offset by the 2 before the ")")
            total += sum(int(x) for x in fields[11:15])
    return total / ticks


async def fill(args):
    from bullmq import Queue
    q = Queue(QUEUE, queue_options(args))
    await q.obliterate({"force": True}) if args.backend == "redis" else None
    if args.backend == "postgres":
        await q.drain(True)
        await q.clean(0, 0, "completed")
    for start in range(0, args.jobs, 5000):
        await q.addBulk([{"name": "noop", "data": {"i": i}} for i in range(start, min(args.jobs, start + 5000))])
    counts = await q.getJobCounts("waiting", "completed")
    await q.close()
    assert counts["waiting"] == args.jobs, counts


async def completed(args):
    from bullmq import Queue
    q = Queue(QUEUE, queue_options(args))
    counts = await q.getJobCounts("completed", "waiting", "active", "failed")
    await q.close()
    return counts


def bytes_into_redis(args):
    """What Redis has read from its clients so far (INFO stats), or 0 on PostgreSQL."""
    if args.backend != "redis":
        return 0
    import redis
    return redis.Redis.from_url(args.url).info("stats")["total_net_input_bytes"]


def run_jobctl(args, binary):
    target = ["--url", args.url] + (["--prefix", args.prefix] if args.backend == "redis" else ["--schema", args.schema])
    cpu0 = server_cpu(args)
    bytes0 = bytes_into_redis(args)
    start = time.perf_counter()
    handler = {"noop": ["--noop"], "exec": ["--exec", "true"],
               "serve": ["--serve", sys.executable, "-c", SERVE_HANDLER]}[args.handler]
    proc = subprocess.Popen([binary, "run-once", QUEUE, "--concurrency", str(args.concurrency)] + target + handler,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"jobctl failed: {err.decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, server_cpu(args) - cpu0, bytes_into_redis(args) - bytes0


async def run_python(args):
    from bullmq import Worker
    done = asyncio.Event()
    count = 0

    async def process(job, token):
        return None

    def on_completed(job, result):
        nonlocal count
        count += 1
        if count >= args.jobs:
            done.set()

    cpu0, self0 = server_cpu(args), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    worker = Worker(QUEUE, process, {**queue_options(args), "concurrency": args.concurrency})
    worker.on("completed", on_completed)
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - start
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    server = server_cpu(args) - cpu0
    await worker.close()
    return elapsed, (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime), server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["redis", "postgres"], required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default="bull")
    ap.add_argument("--schema", default="bench_worker")
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--baseline", help="an older jobctl, run beside it in the same rounds")
    ap.add_argument("--no-python", action="store_true", help="only jobctl (and the baseline): an A/B of two builds")
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--handler", choices=["noop", "serve", "exec"], default="noop")
    args = ap.parse_args()

    results = {"jobctl": []} if args.no_python else {"jobctl": [], "python": []}
    if args.baseline:
        results["baseline"] = []
    for _ in range(args.runs):
        asyncio.run(fill(args))
        results["jobctl"].append(run_jobctl(args, args.jobctl))
        assert asyncio.run(completed(args))["completed"] >= args.jobs
        if args.baseline:
            asyncio.run(fill(args))
            results["baseline"].append(run_jobctl(args, args.baseline))
        if not args.no_python:
            asyncio.run(fill(args))
            results["python"].append(asyncio.run(run_python(args)))
    print(f"{args.backend}: {args.jobs:,} no-op jobs, concurrency {args.concurrency}, jobctl handler {args.handler},"
          f" median of {args.runs}")
    for name, runs in results.items():
        rates = [args.jobs / r[0] for r in runs]
        worker_us = statistics.median(r[1] / args.jobs * 1e6 for r in runs)
        server_us = statistics.median(r[2] / args.jobs * 1e6 for r in runs)
        sent = ""
        if name != "python" and args.backend == "redis":
            sent = f"; sent to Redis {statistics.median(r[3] / args.jobs for r in runs):,.0f} B/job"
        print(f"  {name:8} {statistics.median(rates):9,.0f} jobs/s (min {min(rates):,.0f}, max {max(rates):,.0f}); "
              f"CPU per job: worker {worker_us:,.0f} µs, server {server_us:,.0f} µs{sent}")


if __name__ == "__main__":
    main()

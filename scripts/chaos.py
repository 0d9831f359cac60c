#!/usr/bin/env python3
"""Chaos run: N jobs on one queue worked by three `jobctl run` workers (two --serve, one --exec) and one Python
bullmq worker, while every 2-5 s one random worker is killed with SIGKILL and restarted, and the server itself is
restarted `--restarts` times (scripts/services.sh restart-redis / restart-postgres). Every handler run is recorded.

At the end: every job completed, none lost, none left active, none completed twice (from the queue's events, kept
in full for the run); handler runs repeat only for jobs whose worker died (at-least-once), counted. Prints one summary
table (and --json for machines); exits 1 if anything was lost, left active, failed or completed twice.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

SERVE_HANDLER = """
import json, os, sys, time
runs = open(sys.argv[1], "a", buffering=1)
for line in sys.stdin:
    job = json.loads(line)
    time.sleep(float(sys.argv[2]) / 1000)
    runs.write(f"{job['id']} jobctl-serve {os.getpid()}\\n")
    print(json.dumps({"id": job["id"], "ok": True, "value": job["data"]["n"]}), flush=True)
"""
EXEC_HANDLER = """
import json, os, sys, time
job = json.load(sys.stdin)
time.sleep(float(sys.argv[2]) / 1000)
with open(sys.argv[1], "a") as runs:
    runs.write(f"{job['id']} jobctl-exec {os.getpid()}\\n")
print(job["data"]["n"])
"""
PYTHON_WORKER = """
import asyncio, json, os, sys
from bullmq import Worker
opts = json.loads(sys.argv[1])
runs = open(sys.argv[2], "a", buffering=1)
async def process(job, token):
    await asyncio.sleep(float(sys.argv[3]) / 1000)
    runs.write(f"{job.id} python {os.getpid()}\\n")
    return job.data["n"]
async def main():
    worker = Worker("chaos", process, {**opts, "concurrency": 20, "maxStalledCount": 1000, "stalledInterval": 5000,
                                       "drainDelay": 1})
    while True:
        await asyncio.sleep(3600)
asyncio.run(main())
"""


def queue_options(args):
    if args.backend == "redis":
        return {"connection": args.url, "prefix": args.namespace}
    return {"backend": "postgres", "connection": args.url, "schema": args.namespace}


async def fill(args):
    from bullmq import Queue
    queue = Queue("chaos", queue_options(args))
    await queue.obliterate(force=True)
    for first in range(0, args.jobs, 1000):
        await queue.addBulk([{"name": "chaos", "data": {"n": i}, "opts": {"jobId": f"c{i}"}}
                             for i in range(first, min(args.jobs, first + 1000))])
    await queue.close()
    # Keep every event of the run: duplicated completions are counted from them.
    if args.backend == "redis":
        import redis.asyncio as aioredis
        r = aioredis.from_url(args.url)
        await r.hset(f"{args.namespace}:chaos:meta", "opts.maxLenEvents", str(args.jobs * 20))
        await r.aclose()
    else:
        import psycopg
        async with await psycopg.AsyncConnection.connect(args.url, autocommit=True) as conn:
            await conn.execute(f'INSERT INTO "{args.namespace}".meta VALUES (%s, %s, %s) ON CONFLICT (queue, field) '
                               "DO UPDATE SET value = EXCLUDED.value", ("chaos", "opts.maxLenEvents", str(args.jobs * 20)))


async def counts(args):
    from bullmq import Queue
    queue = Queue("chaos", queue_options(args))
    try:
        return await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed", "paused")
    finally:
        await queue.close()


async def completions(args):
    """Completed events per job id."""
    seen = {}
    if args.backend == "redis":
        import redis.asyncio as aioredis
        r = aioredis.from_url(args.url, decode_responses=True)
        last = "-"
        while True:
            entries = await r.xrange(f"{args.namespace}:chaos:events", last, "+", count=10000)
            if last != "-":
                entries = entries[1:]
            if not entries:
                break
            for entry_id, fields in entries:
                if fields.get("event") == "completed":
                    seen[fields["jobId"]] = seen.get(fields["jobId"], 0) + 1
            last = entries[-1][0]
        await r.aclose()
    else:
        import psycopg
        async with await psycopg.AsyncConnection.connect(args.url) as conn:
            rows = await (await conn.execute(
                f"""SELECT data->>'jobId', count(*) FROM "{args.namespace}".event
                     WHERE queue = 'chaos' AND event = 'completed' GROUP BY 1""")).fetchall()
            seen = {job_id: n for job_id, n in rows}
    return seen


class Fleet:
    def __init__(self, args, runs_path, log):
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
        env["JOBCTL_URL"] = args.worker_url or args.url
        env["JOBCTL_PREFIX" if args.backend == "redis" else "JOBCTL_SCHEMA"] = args.namespace
        ms = str(args.job_ms)
        common = ["run", "chaos", "--concurrency", "16", "--max-stalled-count", "1000", "--stalled-interval", "5s",
                  "--lock-duration", "10s"]
        self.commands = {
            "jobctl-serve-1": [args.jobctl] + common + ["--serve", sys.executable, "-c", SERVE_HANDLER, runs_path, ms],
            "jobctl-serve-2": [args.jobctl] + common + ["--serve", sys.executable, "-c", SERVE_HANDLER, runs_path, ms],
            "jobctl-exec": [args.jobctl] + common + ["--exec", sys.executable, "-c", EXEC_HANDLER, runs_path, ms],
            "python": [sys.executable, "-c", PYTHON_WORKER, json.dumps(queue_options(args)), runs_path, ms],
        }
        self.env = env
        self.log = log
        self.processes = {}
        self.kills = 0

    def start(self, name):
        self.processes[name] = subprocess.Popen(self.commands[name], env=self.env, stdin=subprocess.DEVNULL,
                                                stdout=self.log, stderr=self.log, start_new_session=True)

    def start_all(self):
        for name in self.commands:
            self.start(name)

    def kill_one(self):
        name = random.choice(list(self.commands))
        process = self.processes[name]
        # The worker alone, as a crash would: handlers it started are left to notice (serve: stdin closes).
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1
        self.start(name)
        return name

    def revive(self):
        """Workers that exited on their own (a Python worker that gave up on the server) come back."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                self.start(name)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["redis", "postgres"], required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--worker-url", help="where the jobctl workers connect (default --url): a pooler, say")
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--restarts", type=int, default=2)
    ap.add_argument("--job-ms", type=int, default=100, help="how long each handler run takes")
    ap.add_argument("--namespace", default="chaos")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="jobctl-chaos-")
    runs_path = os.path.join(workdir, "runs.txt")
    log = open(os.path.join(workdir, "workers.log"), "w")
    asyncio.run(fill(args))
    fleet = Fleet(args, runs_path, log)
    started = time.monotonic()
    fleet.start_all()
    restarts = 0
    next_kill = time.monotonic() + random.uniform(2, 5)
    # Server restarts at fixed shares of the expected progress.
    restart_at = [args.jobs * (k + 1) // (args.restarts + 1) for k in range(args.restarts)]
    done = 0
    while time.monotonic() - started < args.timeout:
        time.sleep(0.5)
        try:
            current = asyncio.run(counts(args))
        except Exception:  # the server is restarting
            continue
        done = current.get("completed", 0)
        if done >= args.jobs:
            break
        if restart_at and done >= restart_at[0]:
            restart_at.pop(0)
            subprocess.run(["scripts/services.sh", "restart-" + args.backend], check=True, stdout=subprocess.DEVNULL)
            restarts += 1
        if time.monotonic() >= next_kill:
            fleet.kill_one()
            next_kill = time.monotonic() + random.uniform(2, 5)
        fleet.revive()
    elapsed = time.monotonic() - started
    fleet.stop()
    log.close()

    final = asyncio.run(counts(args))
    completed_events = asyncio.run(completions(args))
    runs = {}
    for line in open(runs_path):
        job_id = line.split(" ", 1)[0]
        runs[job_id] = runs.get(job_id, 0) + 1
    ids = {f"c{i}" for i in range(args.jobs)}
    lost = len(ids - set(completed_events))
    twice = sum(1 for n in completed_events.values() if n > 1)
    never_ran = len(ids - set(runs))
    repeated = sum(1 for job_id in ids if runs.get(job_id, 0) > 1)
    summary = {
        "backend": args.backend, "jobs": args.jobs, "seconds": round(elapsed, 1), "kills": fleet.kills,
        "server_restarts": restarts, "completed": final.get("completed", 0), "lost": lost,
        "left_active": final.get("active", 0), "left_waiting": final.get("waiting", 0) + final.get("prioritized", 0),
        "failed": final.get("failed", 0), "completed_twice": twice, "repeated_handler_runs": repeated,
        "jobs_never_run_by_a_handler": never_ran, "workdir": workdir,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        width = max(len(k) for k in summary)
        print("\n".join(f"{k.ljust(width)}  {v}" for k, v in summary.items()))
    bad = lost or twice or final.get("active", 0) or final.get("failed", 0) or summary["left_waiting"] or never_ran
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An idle `jobctl run --noop` behind PgBouncer in transaction mode: how soon it takes a job added after an idle
gap (from `Queue.add` to the job's processedOn), polling and with --listen-url, beside a direct connection; and what
an idle worker costs the server a minute: statements through PgBouncer (its SHOW STATS, exact), and for the direct
connections (jobctl with LISTEN, a Python bullmq Worker) transactions on a database of their own from
pg_stat_database (an upper bound: autovacuum's visits count too).

    .venv/bin/python scripts/bench_pooler.py --direct postgresql://jobctl@127.0.0.1:55432/postgres \\
        --pooler postgresql://jobctl@127.0.0.1:56432/postgres --jobctl PATH [--samples 20] [--idle-seconds 60]
"""
import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid

import psycopg


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))]


def with_database(url, database):
    return url.rsplit("/", 1)[0] + "/" + database


def start_jobctl(args, queue, url, schema, extra=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBCTL_", "PG"))}
    env.update({"JOBCTL_URL": url, "JOBCTL_SCHEMA": schema})
    process = subprocess.Popen([args.jobctl, "run", queue, "--noop", *extra], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    while line and "wake-ups:" not in line:
        line = process.stderr.readline()
    return process, line.strip()


def stop(process):
    process.terminate()
    process.wait(timeout=60)


async def pickups(direct, schema, queue, samples):
    """Adds one job at a time after an idle gap of 0.2 to 5 s; the ms from add to the job's processedOn."""
    from bullmq import Queue
    q = Queue(queue, {"backend": "postgres", "connection": direct, "schema": schema})
    latencies = []
    rng = random.Random(7)
    for _ in range(samples):
        await asyncio.sleep(rng.uniform(0.2, 5.0))
        added = time.time() * 1000
        job = await q.add("pick", {})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            fresh = await q.getJob(job.id)
            if fresh is not None and fresh.processedOn:
                latencies.append(fresh.processedOn - added)
                break
            await asyncio.sleep(0.01)
    await q.close()
    return latencies


def pooled_queries(pooler, database):
    """PgBouncer's total_query_count for `database` (its admin console speaks the simple protocol only: psql)."""
    out = subprocess.run(["psql", with_database(pooler, "pgbouncer"), "-AF", "|", "-c", "SHOW STATS"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    header = out[0].split("|")
    for line in out[1:]:
        fields = dict(zip(header, line.split("|")))
        if fields.get("database") == database:
            return int(fields["total_query_count"])
    return 0


async def transactions(url, database):
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (await conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (database,))).fetchone()
        return row[0]


async def idle_cost(label, args, database, pooled):
    """Statements (pooled) or transactions (direct) a minute on `database` while only one worker uses it, settled."""
    await asyncio.sleep(10)  # settle: the back-off reaches its longest pause
    read = (lambda: pooled_queries(args.pooler, database)) if pooled else None
    before = read() if read else await transactions(args.direct, database)
    await asyncio.sleep(args.idle_seconds)
    after = read() if read else await transactions(args.direct, database)
    per_minute = (after - before) * 60 / args.idle_seconds
    unit = "statements/min (PgBouncer)" if pooled else "transactions/min (pg_stat_database)"
    print(f"  {label:48} {per_minute:6.1f} {unit}")
    return per_minute


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--direct", required=True)
    ap.add_argument("--pooler", required=True)
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--idle-seconds", type=float, default=60)
    args = ap.parse_args()
    from bullmq import Queue, Worker
    from bullmq.backends.postgres_connection import run_migrations

    schema = "bench_pooler_" + uuid.uuid4().hex[:8]
    print(f"pick-up after an idle gap of 0.2-5 s, {args.samples} jobs each (ms from add to processedOn)")
    for label, url, extra in [
        ("direct (LISTEN)", args.direct, ()),
        ("through PgBouncer, polling", args.pooler, ()),
        ("through PgBouncer, --listen-url direct", args.pooler, ("--listen-url", args.direct)),
    ]:
        queue = "pick-" + uuid.uuid4().hex[:6]
        q = Queue(queue, {"backend": "postgres", "connection": args.direct, "schema": schema})
        await q.add("warm", {})
        await q.close()
        process, mode = start_jobctl(args, queue, url, schema, extra)
        try:
            latencies = await pickups(args.direct, schema, queue, args.samples)
        finally:
            stop(process)
        print(f"  {label:40} p50 {statistics.median(latencies):7.1f}  p99 {percentile(latencies, 0.99):7.1f}  "
              f"max {max(latencies):7.1f}  ({mode})")

    # Idle cost on a database of its own, so that nothing else counts.
    database = "jobctl_bench_idle"
    async with await psycopg.AsyncConnection.connect(args.direct, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {database}")
    direct_db, pooled_db = with_database(args.direct, database), with_database(args.pooler, database)
    async with await psycopg.AsyncConnection.connect(direct_db) as conn:
        await run_migrations(conn, "bullmq")
    print(f"idle cost, settled, over {args.idle_seconds:.0f} s")
    for label, url, extra, pooled in [
        ("jobctl run through PgBouncer, polling", pooled_db, (), True),
        ("jobctl run through PgBouncer, --listen-url", pooled_db, ("--listen-url", direct_db), True),
        ("jobctl run direct (LISTEN)", direct_db, (), False),
    ]:
        process, _ = start_jobctl(args, "idle", url, "bullmq", extra)
        try:
            await idle_cost(label, args, database, pooled)
        finally:
            stop(process)
    async def noop(job, token):
        return None

    worker = Worker("idle", noop, {"backend": "postgres", "connection": direct_db, "schema": "bullmq"})
    try:
        await idle_cost("Python bullmq Worker direct", args, database, False)
    finally:
        await worker.close()
    async with await psycopg.AsyncConnection.connect(args.direct, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

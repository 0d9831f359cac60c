#!/usr/bin/env python3
"""Retry N failed jobs with jobctl (with and without --reason, which adds a line to each job's log and a trail
record) and, in the same run, with the Python bullmq client's own Queue.retryJobs; on
Redis also report the longest single command Redis ran meanwhile (SLOWLOG with a 1 ms threshold: a lower one
would log every command a script runs and slow the scripts down by the logging itself).

    .venv/bin/python scripts/bench_retry.py --backend redis --url redis://127.0.0.1:56379/1 --jobctl PATH
    .venv/bin/python scripts/bench_retry.py --backend postgres --url postgresql://... --schema bench_retry --jobctl PATH

Each run starts from N freshly failed jobs, written the way a BullMQ worker leaves them (Redis: the job hash with
failedReason, stacktrace, finishedOn, attempts, plus the failed sorted set; PostgreSQL: rows in state `failed`).
Making 100,000 jobs fail through a real worker would take minutes per run; the retry does not care who failed
them. Both retries then move every job back to waiting; the fill is checked to hold N failed jobs first and the
result to hold N waiting jobs.
"""
import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

from benchlib import summary

QUEUE = "bench-retry"


def fill_redis(r, prefix, total, queue=QUEUE):
    base = f"{prefix}:{queue}:"
    for key in r.scan_iter(match=f"{prefix}:{queue}:*", count=10_000):
        r.unlink(key)
    now = int(time.time() * 1000)
    opts = json.dumps({"attempts": 3, "delay": 0})
    stack = json.dumps(["Error: upstream timeout\n    at render (worker.js:12:7)"])
    pipe = r.pipeline(transaction=False)
    for i in range(1, total + 1):
        finished = now - 60_000 + i % 50_000
        pipe.hset(base + str(i), mapping={
            "name": "render", "data": json.dumps({"noteId": i}), "opts": opts, "timestamp": now - 120_000,
            "delay": 0, "priority": 0, "processedOn": finished - 20, "finishedOn": finished, "atm": 3, "ats": 3,
            "failedReason": f"upstream timeout after {i % 900 + 100} ms", "stacktrace": stack})
        pipe.zadd(base + "failed", {str(i): finished})
        if i % 5000 == 0:
            pipe.execute()
    pipe.set(base + "id", total)
    pipe.execute()


def fill_postgres(conn, schema, total, queue=QUEUE):
    s = f'"{schema}"'
    now = int(time.time() * 1000)
    with conn.cursor() as cur:
        # Fresh statistics first: deleting jobs cascades to their log lines (100,000 after a retry with --reason),
        # and a cascade planned while job_log looks empty scans the whole table per job.
        cur.execute(f"ANALYZE {s}.job_log")
        cur.execute(f"DELETE FROM {s}.job WHERE queue = %s", [queue])
        cur.execute(f"""
            INSERT INTO {s}.job (queue, id, seq, name, state, data, opts, priority, delay_ms, max_attempts,
                                 attempts_made, attempts_started, added_at_ms, processed_at_ms, finished_at_ms,
                                 failed_reason, stacktrace)
            SELECT %(queue)s, i::text, nextval('{s}.job_seq'), 'render', 'failed', jsonb_build_object('noteId', i),
                   '{{"attempts":3,"delay":0,"backoff":null}}'::jsonb, 0, 0, 3, 3, 3, %(now)s - 120000,
                   %(now)s - 60020 + i %% 50000, %(now)s - 60000 + i %% 50000,
                   'upstream timeout after ' || (i %% 900 + 100) || ' ms',
                   '["Error: upstream timeout"]'::jsonb
              FROM generate_series(1, %(total)s) AS i""", {"queue": queue, "now": now, "total": total})
    conn.commit()
    conn.autocommit = True
    conn.execute(f"VACUUM ANALYZE {s}.job")
    conn.autocommit = False


def counts(args):
    from bullmq import Queue

    async def read():
        q = Queue(QUEUE, queue_options(args))
        result = await q.getJobCounts("failed", "waiting")
        await q.close()
        return result
    return asyncio.run(read())


def queue_options(args):
    if args.backend == "redis":
        return {"connection": args.url, "prefix": args.prefix}
    return {"backend": "postgres", "connection": args.url, "schema": args.schema}


def python_retry(args):
    from bullmq import Queue

    async def retry():
        q = Queue(QUEUE, queue_options(args))
        await q.getJobCounts("failed")  # connect (load scripts / check migrations) before the clock starts
        start = time.perf_counter()
        await q.retryJobs({"state": "failed"})
        elapsed = (time.perf_counter() - start) * 1000
        await q.close()
        return elapsed
    return asyncio.run(retry())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["redis", "postgres"], required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default="bull")
    ap.add_argument("--schema", default="bench_retry")
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    if args.backend == "redis":
        import redis
        r = redis.Redis.from_url(args.url)
        refill = lambda: fill_redis(r, args.prefix, args.jobs)
        env_target = ["--url", args.url, "--prefix", args.prefix]
    else:
        import psycopg
        from bullmq.backends.postgres_connection import run_migrations

        async def migrate():
            async with await psycopg.AsyncConnection.connect(args.url) as c:
                await run_migrations(c, args.schema)
                await c.commit()
        asyncio.run(migrate())
        conn = psycopg.connect(args.url)
        refill = lambda: fill_postgres(conn, args.schema, args.jobs)
        env_target = ["--url", args.url, "--schema", args.schema]

    jobctl_ms, python_ms, slowest, python_slowest = [], [], [], []
    reason_ms, reason_slowest = [], []
    for _ in range(args.runs):
        # With --reason: a line into each job's log and one trail record, in the same batches.
        refill()
        if args.backend == "redis":
            r.config_set("slowlog-log-slower-than", 1000)
            r.config_set("slowlog-max-len", 100_000)
            r.slowlog_reset()
        start = time.perf_counter()
        done = subprocess.run([args.jobctl, "retry", QUEUE, "--failed", "--yes", "--json", "--reason",
                               "provider outage over", "--actor", "bench@ops"] + env_target,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reason_ms.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"jobctl retry --reason failed: {done.stderr.decode()}")
        if args.backend == "redis":
            reason_slowest.append(max((e["duration"] for e in r.slowlog_get(100_000)), default=0) / 1000)
            r.config_set("slowlog-log-slower-than", 10_000)
            r.config_set("slowlog-max-len", 128)
        after = counts(args)
        assert after["waiting"] == args.jobs and after["failed"] == 0, after
        refill()
        assert counts(args)["failed"] == args.jobs, counts(args)
        if args.backend == "redis":
            r.config_set("slowlog-log-slower-than", 1000)
            r.config_set("slowlog-max-len", 100_000)
            r.slowlog_reset()
        start = time.perf_counter()
        done = subprocess.run([args.jobctl, "retry", QUEUE, "--failed", "--yes", "--json"] + env_target,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        jobctl_ms.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"jobctl retry failed: {done.stderr.decode()}")
        if args.backend == "redis":
            entries = r.slowlog_get(100_000)
            longest = max(entries, key=lambda e: e["duration"], default={"duration": 0, "command": b"(none over 1 ms)"})
            slowest.append((longest["duration"] / 1000, longest["command"][:60], len(entries)))
            r.config_set("slowlog-log-slower-than", 10_000)
            r.config_set("slowlog-max-len", 128)
        after = counts(args)
        assert after["waiting"] == args.jobs and after["failed"] == 0, after
        refill()
        if args.backend == "redis":
            r.config_set("slowlog-log-slower-than", 1000)
            r.config_set("slowlog-max-len", 100_000)
            r.slowlog_reset()
        python_ms.append(python_retry(args))
        if args.backend == "redis":
            entries = r.slowlog_get(100_000)
            python_slowest.append(max((e["duration"] for e in entries), default=0) / 1000)
            r.config_set("slowlog-log-slower-than", 10_000)
            r.config_set("slowlog-max-len", 128)
        after = counts(args)
        assert after["waiting"] == args.jobs and after["failed"] == 0, after

    print(f"{args.backend}: {args.jobs:,} failed jobs retried")
    print(f"  jobctl retry --failed --yes (whole process)  {summary(jobctl_ms)}")
    print(f"  the same with --reason (job log lines, trail) {summary(reason_ms)}"
          f"  ({statistics.median(reason_ms) / statistics.median(jobctl_ms) - 1:+.0%} on the medians)")
    print(f"  python bullmq Queue.retryJobs (warm client)  {summary(python_ms)}")
    if slowest:
        worst = max(slowest)
        print(f"  longest single Redis command during jobctl's retry: median {statistics.median([s[0] for s in slowest]):.2f} ms,"
              f" max {worst[0]:.2f} ms ({worst[1]!r}), {worst[2]:,} commands over 1 ms in that run")
        print(f"  longest single Redis command during jobctl's retry --reason: max {max(reason_slowest):.2f} ms")
        print(f"  longest single Redis command during bullmq's retryJobs: median {statistics.median(python_slowest):.2f} ms,"
              f" max {max(python_slowest):.2f} ms")


if __name__ == "__main__":
    main()

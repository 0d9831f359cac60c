#!/usr/bin/env python3
"""Fill one queue of a BullMQ Postgres schema with N jobs and time jobctl's `stats` and `status` beside the Python
bullmq client's get_job_counts, in the same run, and a floor (the same counts alone, the ready jobs in six pieces by
seq, on three warm connections: no process start, connect or history); then show how each count query is planned.

    .venv/bin/python scripts/bench_postgres.py --url postgresql://... --jobctl .build/release/jobctl

The schema is made by bullmq's own migrations. The rows are written with one INSERT … SELECT (the schema's
add_job would take minutes for a million rows; a benchmark fill is not something a client does), in the same
shares as scripts/bench_redis.py: 60% waiting, 10% prioritized, 10% delayed, 15% completed, 5% failed, and 100
active jobs with expired locks. VACUUM ANALYZE afterwards, as autovacuum would do on a live table.
"""
import argparse
import asyncio
import json
import re
import sys
import threading
import time

import psycopg

from benchlib import summary, time_command, warm_counts

FILL = """
INSERT INTO {s}.job (queue, id, seq, name, state, data, opts, priority, delay_ms, max_attempts, attempts_made,
                     attempts_started, added_at_ms, process_at_ms, processed_at_ms, finished_at_ms, return_value,
                     failed_reason)
SELECT %(queue)s, i::text, nextval('{s}.job_seq'), 'render',
       (CASE WHEN i %% 20 < 12 OR (i %% 20 >= 12 AND i %% 20 < 14) THEN 'waiting'
             WHEN i %% 20 < 16 THEN 'delayed' WHEN i %% 20 < 19 THEN 'completed' ELSE 'failed' END)::{s}.job_state,
       jsonb_build_object('noteId', i, 'pages', 12), '{{"attempts":3,"delay":0}}'::jsonb,
       CASE WHEN i %% 20 >= 12 AND i %% 20 < 14 THEN i %% 5 + 1 ELSE 0 END,
       CASE WHEN i %% 20 >= 14 AND i %% 20 < 16 THEN 3600000 ELSE 0 END, 3,
       CASE WHEN i %% 20 >= 16 THEN CASE WHEN i %% 20 = 19 THEN 3 ELSE 1 END ELSE 0 END,
       CASE WHEN i %% 20 >= 16 THEN CASE WHEN i %% 20 = 19 THEN 3 ELSE 1 END ELSE 0 END,
       %(now)s - (2000000 - i),
       CASE WHEN i %% 20 >= 14 AND i %% 20 < 16 THEN %(now)s + 3600000 END,
       CASE WHEN i %% 20 >= 16 THEN %(now)s - 1000 END,
       CASE WHEN i %% 20 >= 16 THEN %(now)s - 500 + i %% 1000 END,
       CASE WHEN i %% 20 >= 16 AND i %% 20 < 19 THEN '{{"ok":true}}'::jsonb END,
       CASE WHEN i %% 20 = 19 THEN 'timeout after 30000 ms' END
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
"""


def fill(conn, schema, queue, total):
    s = f'"{schema}"'
    now = int(time.time() * 1000)
    with conn.cursor() as cur:
        for first in range(1, total + 1, 100_000):
            cur.execute(FILL.format(s=s), {"queue": queue, "now": now, "first": first, "last": min(total, first + 99_999)})
        # 100 active jobs whose worker died: lock expired a minute ago.
        cur.execute(
            f"""UPDATE {s}.job SET state = 'active', lock_token = 'dead:' || id, locked_until_ms = %s,
                       processed_at_ms = %s, attempts_started = 1
                 WHERE queue = %s AND id IN (SELECT id FROM {s}.job WHERE queue = %s AND state = 'waiting'
                                               AND priority = 0 ORDER BY seq DESC LIMIT 100)""",
            [now - 60_000, now - 90_000, queue, queue])
    conn.commit()
    conn.autocommit = True
    conn.execute(f"VACUUM ANALYZE {s}.job")
    conn.autocommit = False


async def python_counts(url, schema, queue, runs):
    from bullmq import Queue
    q = Queue(queue, {"backend": "postgres", "connection": url, "schema": schema})
    return await warm_counts(q, runs)


def counting_floor(url, schema, queue, runs, connections=3, pieces=6):
    """The counts alone on warm connections in parallel, the ready jobs (most of them) in `pieces` by seq and the
    other states whole (jobctl cuts those too, in fewer pieces); no process start, no connect, no history."""
    s = f'"{schema}"'
    conns = [psycopg.connect(url, autocommit=True) for _ in range(connections)]
    for c in conns:
        c.execute("SET max_parallel_workers_per_gather = 0")
    low, high = conns[0].execute(f"SELECT min(seq), max(seq) FROM {s}.job WHERE queue = %s AND state = 'waiting'"
                                 " AND priority = 0", [queue]).fetchone()
    bounds = [None] + [low + (high - low) * i // pieces for i in range(1, pieces)] + [None]
    ready = [" AND ".join(["TRUE"] + ([f"seq >= {a}"] if a else []) + ([f"seq < {b}"] if b else []))
             for a, b in zip(bounds, bounds[1:])]
    where = ["state = 'waiting' AND priority > 0"] + [f"state = 'waiting' AND priority = 0 AND {r}" for r in ready] \
        + ["state = 'delayed'", "state = 'completed'", "state = 'failed'", "state = 'active'",
           "state = 'waiting' AND priority < 0", "state = 'waiting-children'"]
    statements = [f"SELECT count(*) FROM {s}.job WHERE queue = %s AND {w}" for w in where]

    def once():
        pending = list(reversed(statements))
        lock = threading.Lock()

        def work(conn):
            while True:
                with lock:
                    if not pending:
                        return
                    sql = pending.pop()
                conn.execute(sql, [queue]).fetchone()
        start = time.perf_counter()
        threads = [threading.Thread(target=work, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (time.perf_counter() - start) * 1000
    once()
    samples = [once() for _ in range(runs)]
    for c in conns:
        c.close()
    return samples


def plan(conn, sql, params):
    """The plan's execution time and which indexes and scans it used."""
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
    text = "\n".join(r[0] for r in rows)
    nodes = sorted(set(re.findall(r"((?:Parallel )?(?:Index Only Scan|Index Scan|Seq Scan|Bitmap Heap Scan|Bitmap Index Scan)(?: Backward)?(?: using \w+)? on \w+)", text)))
    took = re.search(r"Execution Time: ([\d.]+) ms", text)
    return (float(took.group(1)) if took else float("nan")), nodes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--schema", default="bench")
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--no-fill", action="store_true")
    args = ap.parse_args()
    queue = "bench-1m"
    conn = psycopg.connect(args.url)
    if not args.no_fill:
        start = time.perf_counter()
        # A fresh schema, as BullMQ makes it with its own migrations: a refill of the old one would measure the
        # empty index pages that earlier fills left behind.
        conn.execute(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')
        conn.commit()
        from bullmq.backends.postgres_connection import run_migrations

        async def migrate():
            async with await psycopg.AsyncConnection.connect(args.url) as aconn:
                await run_migrations(aconn, args.schema)
                await aconn.commit()
        asyncio.run(migrate())
        fill(conn, args.schema, queue, args.jobs)
        print(f"filled {args.jobs:,} jobs in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    env = {"JOBCTL_URL": args.url, "JOBCTL_SCHEMA": args.schema, "PATH": "/usr/bin:/bin"}
    stats, out = time_command([args.jobctl, "stats", queue, "-o", "json"], args.runs, env)
    counts = json.loads(out)["counts"]
    status_one, _ = time_command([args.jobctl, "status", queue, "-o", "json"], args.runs, env)
    status_all, _ = time_command([args.jobctl, "status", "-o", "json"], args.runs, env)
    py_process, _ = time_command([sys.executable, "-c",
        "import asyncio,sys; from bullmq import Queue\n"
        "async def m():\n q=Queue(sys.argv[2],{'backend':'postgres','connection':sys.argv[1],'schema':sys.argv[3]}); print(await q.getJobCounts()); await q.close()\n"
        "asyncio.run(m())", args.url, queue, args.schema], max(5, args.runs // 3))
    py_warm, py_counts = asyncio.run(python_counts(args.url, args.schema, queue, args.runs))
    floor = counting_floor(args.url, args.schema, queue, args.runs)

    s = f'"{args.schema}"'
    ours = [f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'waiting' AND priority = 0",
            f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'waiting' AND priority > 0",
            f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'delayed'",
            f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'active'",
            f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'completed'",
            f"SELECT count(*) FROM {s}.job WHERE queue = %s AND state = 'failed'"]
    bullmq_sql = open(__import__("bullmq").__path__[0] + "/postgres/commands/get_counts.sql").read()
    bullmq_sql = re.sub(r"--[^\n]*", "", bullmq_sql).replace("$1", "%(q)s").replace("FROM job", f"FROM {s}.job").replace("FROM meta", f"FROM {s}.meta")
    print(f"queue {queue}: {sum(v for v in counts.values() if v):,} jobs; jobctl counts {counts}")
    print(f"bullmq counts {py_counts}")
    print(f"jobctl stats QUEUE (whole process)            {summary(stats)}")
    print(f"jobctl status QUEUE (whole process)           {summary(status_one)}")
    print(f"jobctl status (discovery + every queue)       {summary(status_all)}")
    print(f"python bullmq get_job_counts (whole process)  {summary(py_process)}")
    print(f"python bullmq get_job_counts (warm)           {summary(py_warm)}")
    print(f"floor: the counts alone, 3 warm connections   {summary(floor)}")
    conn.execute("SET max_parallel_workers_per_gather = 0")  # as in jobctl's sessions
    print("query plans, as jobctl's sessions run them (server execution time; jobctl runs these at once):")
    for sql in ours:
        took, nodes = plan(conn, sql, [queue])
        print(f"  jobctl {sql.split('WHERE ')[1].replace('queue = %s AND ', ''):40} {took:7.1f} ms  {', '.join(nodes)}")
    took, nodes = plan(conn, bullmq_sql, {"q": queue})
    print(f"  bullmq get_counts.sql (one COUNT FILTER query)  {took:7.1f} ms  {', '.join(nodes)}")


if __name__ == "__main__":
    main()

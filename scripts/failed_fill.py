#!/usr/bin/env python3
"""N freshly failed jobs, written the way a BullMQ worker leaves them (Redis: the job hash with failedReason,
stacktrace, finishedOn, attempts, plus the failed sorted set; PostgreSQL: rows in state `failed`), without a
worker: making 100,000 jobs fail through a real one would take minutes. The tests' `fill_failed` step
(scripts/bullmq-steps.py) uses it.
"""
import json
import time

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

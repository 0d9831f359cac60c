#!/usr/bin/env python3
"""Build BullMQ queues in every state with the real PyPI client, then report what the client sees.

    REDIS_URL=redis://127.0.0.1:56379/0 .venv/bin/python scripts/bullmq-fixture.py [--prefix bull] [--suffix S]
        [--bad-data]
    .venv/bin/python scripts/bullmq-fixture.py --backend postgres --url postgresql://jobctl@127.0.0.1:55432/postgres
        --schema fx_abc [--suffix S] [--bad-data]

Backends (the same builders run on both; only the connection options and the raw reads/writes differ):
  redis     (default) keys under `<prefix>:<queue>:`. Only this run's queues are deleted first.
  postgres  BullMQ's PostgreSQL backend in schema --schema (required; a plain identifier). The schema is dropped
            (DROP SCHEMA ... CASCADE) first and recreated by the client's own migrations. --prefix must stay `bull`.
            The Python setters for global concurrency and rate limit are Redis-only there, so those `meta` rows
            (`concurrency`, `max`, `duration`) are written and read by SQL.

Queues (names get "-S" appended when --suffix is given, so tests never share queues):
  pdf-notes    completed 3 (return values; one with a log line and progress) + 1 removed on completion,
               failed 3 (2 after 3 attempts with exponential backoff, 1 unrecoverable), active 2 (one with a live
               lock, one whose worker died: lock expired), waiting 4 (custom id, deduplication id),
               prioritized 3, delayed 2
  ai-notes     paused; waiting 3, delayed 1 (on postgres the client counts the 3 under `paused`, `waiting` 0)
  pdf-extract  global concurrency 2, global rate limit 10 per second; waiting 5
  completion   a job scheduler (cron) with its next delayed job
  broken       (--bad-data) written raw, never through the client.
               redis: a job whose data is not JSON, one with missing fields and a name that is not UTF-8, one good
               job, and a `delayed` key of the wrong type.
               postgres (what the column types allow; invalid UTF-8 cannot be stored): meta `concurrency` = 'lots',
               waiting rows 1 `bad-json` (data is a JSON string, not an object), 2 with an empty name, 3 `good`,
               4 with priority -1, 5 with opts '"not an object"'.

Prints one JSON document: per queue, bullmq's getJobCounts, isPaused, global limits, and every job as bullmq's
Job reports it (plus its state, logs and lock token). On postgres the document also has "backend" and "schema",
and "prefix" is null.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time

from bullmq import Queue, Worker
from bullmq.custom_errors import UnrecoverableError
from bullmq.job import optsFromJSON
import redis.asyncio as aioredis

LIVE_TOKEN = "fixture-live-worker:1"
HOUR_MS = 3_600_000
ALL_STATES = ("active", "completed", "delayed", "failed", "prioritized", "waiting", "waiting-children", "paused")


def now_ms():
    return int(time.time() * 1000)


def int_or_none(value):
    """What bullmq's getGlobalConcurrency/getGlobalRateLimit do with a stored value: int, or None if unparsable."""
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def rate_limit_or_none(max_jobs, duration):
    """Mirrors bullmq's Redis getGlobalRateLimit: {"max", "duration"} when both are set and are integers."""
    max_jobs, duration = int_or_none(max_jobs), int_or_none(duration)
    if max_jobs is None or duration is None:
        return None
    return {"max": max_jobs, "duration": duration}


async def wait_until(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------------------------------------------------
# Backend-specific bits. `opts` is what Queue and Worker take; the methods are the few raw reads and writes that
# the client cannot do (or cannot do on that backend).
# ---------------------------------------------------------------------------------------------------------------

class RedisStore:
    def __init__(self, url, prefix):
        self.prefix = prefix
        self.opts = {"connection": url, "prefix": prefix}
        self.r = aioredis.from_url(url)

    def header(self):
        return {"prefix": self.prefix}

    async def reset(self, names):
        """Start clean: delete only the keys of these queues."""
        for name in names:
            async for key in self.r.scan_iter(match=f"{self.prefix}:{name}:*", count=1000):
                await self.r.delete(key)

    async def lock_expired(self, name, job_id):
        return await self.r.exists(f"{self.prefix}:{name}:{job_id}:lock") == 0

    async def set_global_limits(self, q, concurrency, max_jobs, duration):
        await q.setGlobalConcurrency(concurrency)
        await q.setGlobalRateLimit(max_jobs, duration)

    async def global_limits(self, q):
        return await q.getGlobalConcurrency(), await q.getGlobalRateLimit()

    async def jobs_in_state(self, q, state):
        return await q.getJobs([state], 0, -1, False)

    async def stored_opts_and_lock(self, name, job_id):
        """The job hash's raw `opts` decoded as the client decodes it (short names such as `de` expanded), and the
        token in the `<id>:lock` key."""
        raw = await self.r.hgetall(f"{self.prefix}:{name}:{job_id}")
        lock = await self.r.get(f"{self.prefix}:{name}:{job_id}:lock")
        return optsFromJSON(json.loads(raw.get(b"opts", b"{}"))), (lock.decode() if lock else None)

    async def write_broken(self, name):
        """Raw writes a BullMQ client would never make, to check that readers report them and go on."""
        base = f"{self.prefix}:{name}:"
        r = self.r
        now = now_ms()
        await r.hset(base + "meta", mapping={"opts.maxLenEvents": "10000", "concurrency": "lots"})
        await r.hset(base + "1", mapping={"name": "bad-json", "data": "{not json", "opts": "{}", "timestamp": str(now),
                                          "delay": "0", "priority": "0"})
        await r.hset(base + "2", mapping={"name": b"caf\xff\xfe", "data": "{}", "atm": "many"})
        await r.hset(base + "3", mapping={"name": "good", "data": '{"ok":true}', "opts": "{}",
                                          "timestamp": str(now), "delay": "0", "priority": "0"})
        await r.lpush(base + "wait", "3", "2", "1")
        await r.set(base + "delayed", "not a sorted set")

    async def close(self):
        await self.r.aclose()


class PostgresStore:
    def __init__(self, url, schema):
        import psycopg  # only needed for this backend
        self._psycopg = psycopg
        self.url = url
        self.schema = schema
        self.opts = {"backend": "postgres", "connection": url, "schema": schema}
        self.s = f'"{schema}"'  # quoted exactly as the client's quote_schema_name does
        self.db = None

    def header(self):
        return {"backend": "postgres", "schema": self.schema, "prefix": None}

    async def sql(self, query, params=()):
        if self.db is None:
            self.db = await self._psycopg.AsyncConnection.connect(self.url, autocommit=True)
        async with self.db.cursor() as cur:
            await cur.execute(query, params)
            return await cur.fetchall() if cur.description else []

    async def reset(self, names):
        """Start clean: the whole schema goes; the first Queue recreates it with the client's migrations."""
        await self.sql(f"DROP SCHEMA IF EXISTS {self.s} CASCADE")

    async def lock_expired(self, name, job_id):
        # locked_until_ms is computed from the client's clock (claim time + lockDuration), so compare with it too.
        rows = await self.sql(f"SELECT locked_until_ms FROM {self.s}.job WHERE queue = %s AND id = %s",
                              (name, job_id))
        return bool(rows) and rows[0][0] is not None and rows[0][0] < now_ms()

    async def set_meta(self, queue, fields):
        """The upsert of the wheel's postgres/commands/set_queue_meta.sql."""
        await self.sql(f"INSERT INTO {self.s}.meta (queue, field, value)"
                       " SELECT %s, f, v FROM unnest(%s::text[], %s::text[]) AS t(f, v)"
                       " ON CONFLICT (queue, field) DO UPDATE SET value = EXCLUDED.value",
                       (queue, list(fields), [str(v) for v in fields.values()]))

    async def set_global_limits(self, q, concurrency, max_jobs, duration):
        # Queue.setGlobalConcurrency/setGlobalRateLimit raise AttributeError on this backend; the workers read
        # the same meta fields the Redis backend uses.
        await self.set_meta(q.name, {"concurrency": concurrency, "max": max_jobs, "duration": duration})

    async def global_limits(self, q):
        rows = await self.sql(f"SELECT field, value FROM {self.s}.meta"
                              " WHERE queue = %s AND field IN ('concurrency', 'max', 'duration')", (q.name,))
        meta = dict(rows)
        return int_or_none(meta.get("concurrency")), rate_limit_or_none(meta.get("max"), meta.get("duration"))

    async def jobs_in_state(self, q, state):
        # getJobs gathers the jobs with asyncio.wait, which raises ValueError on an empty state and returns the
        # others in no particular order; so ask for the ids first (getJobs' own range call) and keep their order.
        ids = await q.backend.getRanges([state], 0, -1, False)
        if not ids:
            return []
        jobs = [job for job in await q.getJobs([state], 0, -1, False) if job is not None]
        rank = {job_id: i for i, job_id in enumerate(ids)}
        return sorted(jobs, key=lambda job: rank.get(job.id, len(rank)))

    async def stored_opts_and_lock(self, name, job_id):
        """The row's `opts` (what the client sent: long option names plus the Job defaults `attempts`, `delay`,
        `backoff`), decoded as the client decodes it: the same rule as the Redis hash's raw opts, and what another
        reader (jobctl) sees. Not the Job's own `opts`: Job() re-adds defaults that are not stored (the scheduler's
        job would gain `"backoff": null`). The lock token is the row's `lock_token`; unlike the Redis `<id>:lock`
        key it stays set after `locked_until_ms` has passed, until a stalled check reclaims the job."""
        rows = await self.sql(f"SELECT opts, lock_token FROM {self.s}.job WHERE queue = %s AND id = %s",
                              (name, job_id))
        if not rows:
            return {}, None
        opts, lock = rows[0]
        return (optsFromJSON(opts) if isinstance(opts, dict) else opts), lock

    async def write_broken(self, name):
        """Raw rows a BullMQ client would never write (no add_job: no events, no NOTIFY, no id sequence), as far as
        the column types allow. All are `waiting`."""
        await self.set_meta(name, {"opts.maxLenEvents": "10000", "concurrency": "lots"})
        now = now_ms()
        rows = [  # id, name, data, opts, priority
            ("1", "bad-json", '"{not json"', "{}", 0),  # data is a JSON string, not an object
            ("2", "", "{}", "{}", 0),                    # empty name; every other column left at its default
            ("3", "good", '{"ok": true}', "{}", 0),
            ("4", "negative-priority", "{}", "{}", -1),  # counted neither as waiting nor as prioritized
            ("5", "bad-opts", "{}", '"not an object"', 0),
        ]
        for job_id, job_name, data, opts, priority in rows:
            await self.sql(f"INSERT INTO {self.s}.job (queue, id, seq, name, state, data, opts, priority, added_at_ms)"
                           f" VALUES (%s, %s, nextval('{self.s}.job_seq'), %s, 'waiting', %s::jsonb, %s::jsonb,"
                           " %s, %s)", (name, job_id, job_name, data, opts, priority, now))

    async def close(self):
        if self.db is not None:
            await self.db.close()


# ---------------------------------------------------------------------------------------------------------------
# Builders, shared by both backends: everything goes through the client except what `store` does.
# ---------------------------------------------------------------------------------------------------------------

async def build_pdf_notes(name, store):
    q = Queue(name, store.opts)
    for i in range(1, 4):
        await q.add("render", {"noteId": i, "pages": 10 * i}, {"attempts": 1})
    await q.add("render", {"noteId": 99, "pages": 1}, {"removeOnComplete": True})
    for i in range(1, 3):
        await q.add("render-fail", {"noteId": 100 + i}, {"attempts": 3, "backoff": {"type": "exponential", "delay": 100}})
    await q.add("render-bad-input", {"noteId": 200}, {"attempts": 3, "backoff": {"type": "fixed", "delay": 100}})

    async def process(job, token):
        if job.name == "render":
            if job.data["noteId"] == 1:
                await job.log("rendered page 1 of 10")
                await job.updateProgress(100)
            return {"pages": job.data["pages"], "ok": True}
        if job.name == "render-fail":
            raise ValueError(f"simulated renderer crash for note {job.data['noteId']}")
        raise UnrecoverableError("corrupt PDF: no xref table")

    worker = Worker(name, process, {**store.opts, "concurrency": 4, "drainDelay": 1,
                                    "metrics": {"maxDataPoints": 20160}})

    async def finished():
        c = await q.getJobCounts("completed", "failed", "waiting", "delayed", "active")
        return c == {"completed": 3, "failed": 3, "waiting": 0, "delayed": 0, "active": 0}

    await wait_until(finished, f"{name}: 3 completed and 3 failed")
    await worker.close()

    # Two active jobs: one whose worker is alive (lock for an hour), one whose worker died (lock expired).
    live = await q.add("render", {"noteId": 300, "pages": 50})
    dead = await q.add("render", {"noteId": 301, "pages": 60})
    idle = lambda job, token: None  # never called: autorun is off
    w_live = Worker(name, idle, {**store.opts, "autorun": False, "lockDuration": HOUR_MS})
    got = await w_live.getNextJob(LIVE_TOKEN)
    assert got and got.id == live.id
    await w_live.close()
    w_dead = Worker(name, idle, {**store.opts, "autorun": False, "lockDuration": 50})
    got = await w_dead.getNextJob("fixture-dead-worker:1")
    assert got and got.id == dead.id
    await w_dead.close()
    await wait_until(lambda: store.lock_expired(name, dead.id), "the dead worker's lock to expire")

    for i in range(1, 3):
        await q.add("render", {"noteId": 400 + i, "pages": 5})
    await q.add("render", {"noteId": 410}, {"jobId": f"invoice-42", "attempts": 2})
    await q.add("render", {"noteId": 420}, {"deduplication": {"id": "note-420"}})
    await q.add("render", {"noteId": 420, "again": True}, {"deduplication": {"id": "note-420"}})  # swallowed
    for prio in (10, 1, 5):
        await q.add("render", {"noteId": 500 + prio}, {"priority": prio})
    for i in range(1, 3):
        await q.add("render", {"noteId": 600 + i}, {"delay": HOUR_MS})
    return q


async def build_ai_notes(name, store):
    q = Queue(name, store.opts)
    for i in range(1, 4):
        await q.add("summarize", {"noteId": 700 + i}, {"attempts": 5, "backoff": 1000})
    await q.add("summarize", {"noteId": 710}, {"delay": HOUR_MS})
    await q.pause()
    return q


async def build_pdf_extract(name, store):
    q = Queue(name, store.opts)
    await store.set_global_limits(q, 2, 10, 1000)
    for i in range(1, 6):
        await q.add("extract", {"fileId": f"f-{i}"})
    return q


async def build_completion(name, store):
    q = Queue(name, store.opts)
    await q.upsertJobScheduler("nightly-digest", {"pattern": "0 3 * * *", "tz": "UTC"}, "digest",
                               {"kind": "nightly"}, {"attempts": 2})
    return q


async def build_broken(name, store):
    await store.write_broken(name)
    return Queue(name, store.opts)


async def describe(q, store, with_jobs=True):
    concurrency, rate_limit = await store.global_limits(q)
    out = {"counts": await q.getJobCounts(*ALL_STATES), "paused": await q.isPaused(),
           "globalConcurrency": concurrency, "globalRateLimit": rate_limit,
           "jobs": {}, "ids_by_state": {}}
    if not with_jobs:
        return out
    for state in ALL_STATES:
        if state == "paused":
            continue
        jobs = await store.jobs_in_state(q, state)
        out["ids_by_state"][state] = [j.id for j in jobs]
        for job in jobs:
            opts, lock = await store.stored_opts_and_lock(q.name, job.id)
            out["jobs"][job.id] = {
                "id": job.id, "name": job.name, "data": job.data, "opts": opts,
                "progress": job.progress, "returnvalue": job.returnvalue, "failedReason": job.failedReason,
                "stacktrace": job.stacktrace, "timestamp": job.timestamp, "delay": job.delay,
                "priority": job.priority, "processedOn": job.processedOn or None, "finishedOn": job.finishedOn or None,
                "attemptsMade": job.attemptsMade, "attemptsStarted": job.attemptsStarted,
                "stalledCounter": job.stalledCounter, "deferredFailure": job.deferredFailure,
                "repeatJobKey": job.repeatJobKey, "parentKey": getattr(job, "parentKey", None),
                "parent": getattr(job, "parent", None),
                "state": await q.getJobState(job.id),
                "logs": (await q.getJobLogs(job.id))["logs"],
                "lockToken": lock,
            }
    return out


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("redis", "postgres"), default="redis")
    ap.add_argument("--url", default=None, help="redis: default $REDIS_URL; postgres: default $POSTGRES_URL")
    ap.add_argument("--prefix", default="bull", help="redis only (postgres accepts only the default)")
    ap.add_argument("--schema", default=None, help="postgres only, required: dropped and rebuilt")
    ap.add_argument("--suffix", default="")
    ap.add_argument("--bad-data", action="store_true")
    args = ap.parse_args()
    if args.backend == "redis":
        if args.schema is not None:
            ap.error("--schema is for --backend postgres")
        store = RedisStore(args.url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), args.prefix)
    else:
        url = args.url or os.environ.get("POSTGRES_URL")
        if not url:
            ap.error("--backend postgres needs --url (or $POSTGRES_URL)")
        if args.schema is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", args.schema):
            ap.error("--backend postgres needs --schema NAME, a plain identifier (it is dropped first)")
        if args.prefix != "bull":
            ap.error("the postgres backend has no prefix; use --schema")
        store = PostgresStore(url, args.schema)
    suffix = f"-{args.suffix}" if args.suffix else ""
    names = {base: base + suffix for base in ("pdf-notes", "ai-notes", "pdf-extract", "completion", "broken")}
    await store.reset(names.values())

    queues = {
        "pdf-notes": await build_pdf_notes(names["pdf-notes"], store),
        "ai-notes": await build_ai_notes(names["ai-notes"], store),
        "pdf-extract": await build_pdf_extract(names["pdf-extract"], store),
        "completion": await build_completion(names["completion"], store),
    }
    if args.bad_data:
        queues["broken"] = await build_broken(names["broken"], store)
    report = {**store.header(), "queues": {}}
    for base, q in queues.items():
        if base == "broken":
            report["queues"][names[base]] = {"base": base}
        else:
            report["queues"][names[base]] = {"base": base, **await describe(q, store)}
        await q.close()
    await store.close()
    print(json.dumps(report, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

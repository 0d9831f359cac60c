#!/usr/bin/env python3
"""Build BullMQ queues in every state with the real PyPI client, then report what the client sees.

    REDIS_URL=redis://127.0.0.1:56379/0 .venv/bin/python scripts/bullmq-fixture.py [--prefix bull] [--suffix S]
        [--bad-data]

Queues (names get "-S" appended when --suffix is given, so tests never share queues):
  pdf-notes    completed 3 (return values; one with a log line and progress) + 1 removed on completion,
               failed 3 (2 after 3 attempts with exponential backoff, 1 unrecoverable), active 2 (one with a live
               lock, one whose worker died: lock expired), waiting 4 (custom id, deduplication id),
               prioritized 3, delayed 2
  ai-notes     paused; waiting 3, delayed 1
  pdf-extract  global concurrency 2, global rate limit 10 per second; waiting 5
  completion   a job scheduler (cron) with its next delayed job
  broken       (--bad-data) written raw: a job whose data is not JSON, one with missing fields and a name that is
               not UTF-8, one good job, and a `delayed` key of the wrong type

Prints one JSON document: per queue, bullmq's getJobCounts, isPaused, global limits, and every job as bullmq's
Job reports it (plus its state, logs and lock token).
"""

import argparse
import asyncio
import json
import sys
import time

from bullmq import Queue, Worker
from bullmq.custom_errors import UnrecoverableError
from bullmq.job import Job, optsFromJSON
import redis.asyncio as aioredis

LIVE_TOKEN = "fixture-live-worker:1"
HOUR_MS = 3_600_000
ALL_STATES = ("active", "completed", "delayed", "failed", "prioritized", "waiting", "waiting-children", "paused")


async def wait_until(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def build_pdf_notes(name, url, prefix, r):
    q = Queue(name, {"connection": url, "prefix": prefix})
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

    worker = Worker(name, process, {"connection": url, "prefix": prefix, "concurrency": 4, "drainDelay": 1,
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
    w_live = Worker(name, idle, {"connection": url, "prefix": prefix, "autorun": False, "lockDuration": HOUR_MS})
    got = await w_live.getNextJob(LIVE_TOKEN)
    assert got and got.id == live.id
    await w_live.close()
    w_dead = Worker(name, idle, {"connection": url, "prefix": prefix, "autorun": False, "lockDuration": 50})
    got = await w_dead.getNextJob("fixture-dead-worker:1")
    assert got and got.id == dead.id
    await w_dead.close()
    await wait_until(lambda: _gone(r, f"{prefix}:{name}:{dead.id}:lock"), "the dead worker's lock to expire")

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


async def _gone(r, key):
    return await r.exists(key) == 0


async def build_ai_notes(name, url, prefix):
    q = Queue(name, {"connection": url, "prefix": prefix})
    for i in range(1, 4):
        await q.add("summarize", {"noteId": 700 + i}, {"attempts": 5, "backoff": 1000})
    await q.add("summarize", {"noteId": 710}, {"delay": HOUR_MS})
    await q.pause()
    return q


async def build_pdf_extract(name, url, prefix):
    q = Queue(name, {"connection": url, "prefix": prefix})
    await q.setGlobalConcurrency(2)
    await q.setGlobalRateLimit(10, 1000)
    for i in range(1, 6):
        await q.add("extract", {"fileId": f"f-{i}"})
    return q


async def build_completion(name, url, prefix):
    q = Queue(name, {"connection": url, "prefix": prefix})
    await q.upsertJobScheduler("nightly-digest", {"pattern": "0 3 * * *", "tz": "UTC"}, "digest",
                               {"kind": "nightly"}, {"attempts": 2})
    return q


async def build_broken(name, url, prefix, r):
    """Raw writes a BullMQ client would never make, to check that readers report them and go on."""
    base = f"{prefix}:{name}:"
    now = int(time.time() * 1000)
    await r.hset(base + "meta", mapping={"opts.maxLenEvents": "10000", "concurrency": "lots"})
    await r.hset(base + "1", mapping={"name": "bad-json", "data": "{not json", "opts": "{}", "timestamp": str(now),
                                      "delay": "0", "priority": "0"})
    await r.hset(base + "2", mapping={"name": b"caf\xff\xfe", "data": "{}", "atm": "many"})
    await r.hset(base + "3", mapping={"name": "good", "data": '{"ok":true}', "opts": "{}", "timestamp": str(now),
                                      "delay": "0", "priority": "0"})
    await r.lpush(base + "wait", "3", "2", "1")
    await r.set(base + "delayed", "not a sorted set")
    return Queue(name, {"connection": url, "prefix": prefix})


async def describe(q, r, prefix, name, with_jobs=True):
    out = {"counts": await q.getJobCounts(*ALL_STATES), "paused": await q.isPaused(),
           "globalConcurrency": await q.getGlobalConcurrency(), "globalRateLimit": await q.getGlobalRateLimit(),
           "jobs": {}, "ids_by_state": {}}
    if not with_jobs:
        return out
    for state in ALL_STATES:
        if state == "paused":
            continue
        jobs = await q.getJobs([state], 0, -1, False)
        out["ids_by_state"][state] = [j.id for j in jobs]
        for job in jobs:
            raw = await r.hgetall(f"{prefix}:{name}:{job.id}")
            fields = {
                "id": job.id, "name": job.name, "data": job.data,
                "opts": optsFromJSON(json.loads(raw.get(b"opts", b"{}"))),
                "progress": job.progress, "returnvalue": job.returnvalue, "failedReason": job.failedReason,
                "stacktrace": job.stacktrace, "timestamp": job.timestamp, "delay": job.delay,
                "priority": job.priority, "processedOn": job.processedOn or None, "finishedOn": job.finishedOn or None,
                "attemptsMade": job.attemptsMade, "attemptsStarted": job.attemptsStarted,
                "stalledCounter": job.stalledCounter, "deferredFailure": job.deferredFailure,
                "repeatJobKey": job.repeatJobKey, "parentKey": getattr(job, "parentKey", None),
                "parent": getattr(job, "parent", None),
                "state": await q.getJobState(job.id),
                "logs": (await q.getJobLogs(job.id))["logs"],
            }
            lock = await r.get(f"{prefix}:{name}:{job.id}:lock")
            fields["lockToken"] = lock.decode() if lock else None
            out["jobs"][job.id] = fields
    return out


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None)
    ap.add_argument("--prefix", default="bull")
    ap.add_argument("--suffix", default="")
    ap.add_argument("--bad-data", action="store_true")
    args = ap.parse_args()
    import os
    url = args.url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = args.prefix
    suffix = f"-{args.suffix}" if args.suffix else ""
    r = aioredis.from_url(url)
    names = {base: base + suffix for base in ("pdf-notes", "ai-notes", "pdf-extract", "completion", "broken")}
    # Start clean: delete only the keys of these queues.
    for base, name in names.items():
        async for key in r.scan_iter(match=f"{prefix}:{name}:*", count=1000):
            await r.delete(key)

    queues = {
        "pdf-notes": await build_pdf_notes(names["pdf-notes"], url, prefix, r),
        "ai-notes": await build_ai_notes(names["ai-notes"], url, prefix),
        "pdf-extract": await build_pdf_extract(names["pdf-extract"], url, prefix),
        "completion": await build_completion(names["completion"], url, prefix),
    }
    if args.bad_data:
        queues["broken"] = await build_broken(names["broken"], url, prefix, r)
    report = {"prefix": prefix, "queues": {}}
    for base, q in queues.items():
        if base == "broken":
            report["queues"][names[base]] = {"base": base}
        else:
            report["queues"][names[base]] = {"base": base, **await describe(q, r, prefix, names[base])}
        await q.close()
    await r.aclose()
    print(json.dumps(report, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

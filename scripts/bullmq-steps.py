#!/usr/bin/env python3
"""Run a plan of steps against BullMQ with the real PyPI client (and the `jobctl` binary), report what happened.

    .venv/bin/python scripts/bullmq-steps.py --url redis://127.0.0.1:56379/0 [--prefix bull] [--jobctl PATH] < plan.json
    .venv/bin/python scripts/bullmq-steps.py --backend postgres --url postgresql://jobctl@127.0.0.1:55432/postgres
        --schema steps_abc [--jobctl PATH] < plan.json

The plan on stdin is a JSON array of steps (objects with an "op"); stdout gets ONE JSON array with one result per
step, in the same order. The steps run in order in one asyncio event loop; workers started by `worker_start` keep
processing in the background (as asyncio tasks) while later steps run, and `jobctl` runs as a subprocess without
blocking them. A step that goes wrong prints what happened to stderr and the script exits 1 (nothing on stdout).

Backends (the same steps run on both; only the connection options and the raw reads differ):
  redis     (default) keys under `<prefix>:<queue>:`. Nothing is deleted: callers use fresh queue names.
  redis-cluster  the same on a Redis Cluster (--url names one node): each Queue gets a redis-py RedisCluster of its
            own. The client's Worker does not run on one (worker_start, fail_jobs and get_workers fail).
  postgres  BullMQ's PostgreSQL backend in schema --schema (a plain identifier). The client's own migrations create
            it when it is first used. Nothing is dropped: callers use a fresh schema and drop it.

Steps ("Q" is a queue name; a Queue per name is opened on first use and closed at the end):
  add          {"queue","name","data","opts"}         -> {"id"}                Queue.add
  add_bulk     {"queue","jobs":[{"name","data","opts"}]} -> {"ids"}           Queue.addBulk (one Queue.add each on
               a cluster, where the client's addBulk fails with NOSCRIPT)
  add_flow     {"flow":{"name","queueName","data","opts","children":[…]}} -> {"id","children":[{"id","children"}]}
               FlowProducer.add
  upsert_scheduler {"queue","id","repeat":{"every"|"pattern",…},"name","data","opts"?} -> {"id","job"}
               Queue.upsertJobScheduler(id, repeat, name, data, opts): "opts" are the template job options; "id"
               and "job" are both the returned (next iteration's) Job's id, or null when it returned None
  get_scheduler {"queue","id"} -> {"scheduler"}   Queue.getJobScheduler(id): its dict ("key", "name", "next",
               "iterationCount", "every"|"pattern", "tz"?, …, "template":{"data","opts"}) or null (on Redis the
               client raises ValueError for an absent scheduler; that, with no ZSCORE in <Q>:repeat, is null)
  get_schedulers {"queue"} -> {"schedulers","count"}   Queue.getJobSchedulers(0, -1, asc=True) (earliest "next"
               first) and Queue.getJobSchedulersCount()
  remove_scheduler {"queue","id"} -> {"removed"}   Queue.removeJobScheduler(id) as returned (the client documents
               0 when removed, 1 when absent)
  cron_next    {"repeat":{"pattern","tz"?,…},"base":ms} -> {"next"} or {"error"}   the client's
               job_scheduler.default_repeat_strategy(base, repeat): the next time in ms (null without "pattern"),
               or the name of the exception class it raised (ZoneInfoNotFoundError, CroniterBadCronError, …)
  promote      {"queue","id"} -> {}   Job.fromId(queue, id), then Job.promote() (no such job is an error)
  events       {"queue"} -> {"events":[{"event", payload fields…}]}   every event of the queue, oldest first.
               redis: XRANGE <prefix>:<Q>:events, fields as text. postgres: the queue's `event` rows by id, each
               its "event" column plus the keys of its jsonb "data" (values keep their JSON types there).
  listen_start {"queue"} -> {}   (redis only; the Python client has no QueueEvents for PostgreSQL, and the readiness
               check below needs one connection) starts the client's QueueEvents on the queue (lastEventId "$",
               the default: only events added from now on) and returns once its first XREAD BLOCK is in flight
               (CLIENT LIST shows its connection blocked in xread). It records, in order, every event it emits,
               unknown names included, as {"event", "args"} ("args" as emitted: [fields, entryId], or [entryId] for
               "drained"), leaving out the per-job "<event>:<jobId>" copies; "error" emits and exceptions out of
               its run loop go to "errors" ("Type: message"). One listener per queue at a time. Its connection
               is a redis-py client made here without a socket timeout (redis-py's 5 s default is shorter than the
               10 s block: the read timed out and was retried after a backoff, losing events). Still, when a 10 s
               block ends empty the client reads from "$" again, so an event added in that instant is missed.
  listen_stop  {"queue","wait_for":name?,"timeout":10} -> {"events":[{"event","args"}],"errors":[…]}   with
               "wait_for", first waits (up to "timeout" s; no error when it passes) until an event of that name
               was recorded; then QueueEvents.close() and what it recorded
  raw          {"redis":[[command, args…]]} or {"sql":[statements]} -> {}   writes no client would make: Redis
               arguments are text ({prefix} replaced), {"hex"} bytes or {"repeat","times","before"?,"after"?}; SQL has
               {schema} replaced
  global_limits {"queue"} -> {"concurrency","rateLimit"}   Queue.getGlobalConcurrency / getGlobalRateLimit (Redis only)
  worker_start {"queue","fail":bool,"concurrency":1,"error":text?,"metrics":N?,"name":text?} -> {}   one Worker per queue
               (drainDelay 1 s; "name" is the Worker's name option),
               returned once its run loop is up. It records every job it sees (id, name, data, opts, attemptsMade);
               with "fail" true, a job whose data is an object with a truthy "fail" raises
               Exception(data["error"] or error or "boom"); any other job returns {"ok": true}. A job whose data has
               "sleep": S stays active (locked) for S seconds first. On Redis an idle
               worker notices a delayed job only when its 1 s block ends, so allow ~1 s more than the delay.
  worker_stop  {"queue"}        -> {"seen","completed","failed","retried","errors"}   awaits Worker.close()
  seen         {"queue"}        -> the same, without stopping the worker
  wait_until   {"queue","completed":N?,"failed":N?,"timeout":30} -> {"completed","failed","timed_out"}
               waits until the running worker has recorded at least that many; a timeout is reported, not an error.
  sleep        {"seconds"}      -> {}
  get_workers  {"queue"}        -> {"rawnames"}   Queue.get_workers(): the sorted connection names it lists
  name_connection {"name"}      -> {}   opens a connection of its own named "name" (Redis CLIENT SETNAME, Postgres
               application_name; "{prefix}" replaced by the prefix or schema), kept open until the end
  redis_command {"url","args":[...]} -> {"reply"}   one command on another Redis (a sentinel, say), its reply as text
  cluster_migrate {"key","finish":true} -> {"slot","from","to","keys"}   (redis-cluster) moves the key's slot to
               another master: IMPORTING/MIGRATING, MIGRATE of its keys, SETSLOT NODE (unless "finish" is false)
  cluster_finish {"slot","to"} -> {}   SETSLOT NODE on every master, ending a migration left unfinished
  node_of      {"key"} -> {"node","slot"}   the master that serves the key ({prefix} replaced)
  kill_server  {"url"} -> {"pid"}   kill -9 of the Redis server at url
  services     {"args":[...],"timeout":60} -> {"status","stdout","stderr"}   scripts/services.sh with these arguments
  jobctl_start {"args","env","key":"default","until":text,"timeout":60} -> {"pid"}   starts jobctl in the
               background (environment as for "jobctl") and returns once its stderr contains "until"
  jobctl_stop  {"key":"default","timeout":60} -> {"status","stderr"}   SIGTERM, then waits for the exit
  jobctl       {"args":[...],"env":{...},"timeout":60} -> {"status","stdout","stderr","children_maxrss_kb"}
               runs --jobctl with stdin /dev/null. Its environment is ours without JOBCTL_*, PG*, REDIS_URL and
               DATABASE_URL, plus JOBCTL_URL and JOBCTL_PREFIX (redis) or JOBCTL_SCHEMA (postgres), plus "env"
               (a null value there removes the variable). Running past "timeout" seconds is an error.
  jobctl_many  {"runs":[[...],...],"env":{...}} -> {"results":[...]}   several jobctl runs at the same time
  wait_counts  {"queue","state","count","timeout":30} -> {"counts","timed_out"}   polls getJobCounts until
               at least "count" jobs are in "state"
  counts       {"queue"}        -> Queue.getJobCounts for waiting, paused, prioritized, delayed, active, completed,
                                   failed, waiting-children
  job          {"queue","id"}   -> null, or the Job.fromId fields plus "state" (Job.getState). processedOn and
                                   finishedOn are null when unset, as in bullmq-fixture.py.
  job_logs     {"queue","id"}   -> {"logs":[…],"count"}   Queue.getJobLogs(id, 0, -1, asc=True): every line, oldest
                                   first, and the number of lines stored (all backends)
  add_log      {"queue","id","row","keepLogs":N?} -> {"count"}   Job.fromId (no such job is an error), then
                                   job.log(row) (its keepLogs option applies), or with "keepLogs"
                                   Job.addJobLog(queue, id, row, keepLogs); "count" as returned: the lines kept
  raw_job      {"queue","id"}   -> null, or the job as stored: redis HGETALL <prefix>:<Q>:<id> (strings); postgres
                                   the `job` row (jsonb columns parsed, other columns as text or null).
  dump         {"queue"}        -> everything stored for the queue, deterministic, for "changed nothing" checks.
               redis: {key: {"type","value","ttl": bool}} for every key matching <prefix>:<Q>:* (glob specials
               escaped); hashes as objects, lists as arrays, sets sorted, zsets as [member, score] in ZRANGE order,
               strings as strings, streams as [[id, {field: value}]].
               postgres: {table: [rows]} for job, meta, job_log, event, job_dependency (parent or child in Q), dedup,
               dedup_next, scheduler, rate_limit and metrics, each sorted by its primary key, plus "jid_sequence":
               last_value of the queue's id sequence bullmq_jid_<md5(Q)> (null when it does not exist).
               Stop the queue's workers before comparing dumps: a running worker writes (stalled checks, locks).
               On Redis the pattern also matches the keys of a queue named "Q:anything"; don't name queues so.
  retry_jobs   {"queue","state":"failed"|"completed","count":N?} -> {"seconds"}   Queue.retryJobs, timed
  pause / resume / is_paused {"queue"} -> {"paused"}   Queue.pause / Queue.resume, then Queue.isPaused
  fill_failed  {"queue","count"} -> {}   writes "count" failed jobs (ids 1..count, name "render") as a BullMQ worker
               leaves them, without a worker (scripts/failed_fill.py; Redis or postgres): for big retries
  fail_jobs    {"queue","count","name","error","data":{}?} -> {"ids"}   adds the jobs (Queue.addBulk) and fails them
               through a Worker of its own whose processor raises Exception(error); returns once all are failed
               and those workers are closed (Redis: 1 worker, concurrency 50; Postgres: 4 workers, concurrency 16).
               Do not run it while a worker_start worker is running on the same queue.

Recording failures: the Worker emits "failed" after every failed attempt, also when the job is retried. A job
counts as failed only when the client really moved it to `failed` (moveToFailed stamped finishedOn); otherwise
its id goes to "retried". Worker "error" events are printed to stderr and listed under "errors" (they are not
fatal: jobctl may legitimately take a job away from a worker).

Strings read raw from Redis that are not UTF-8 are decoded with backslash escapes. --jobctl defaults to the
repository's .build/debug/jobctl.
"""

import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import signal
import sys
import time
import traceback

from bullmq import Queue, QueueEvents, Worker
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
import redis.exceptions as redis_errors

COUNT_STATES = ("waiting", "paused", "prioritized", "delayed", "active", "completed", "failed", "waiting-children")
DRAIN_DELAY_SECONDS = 1
DEFAULT_JOBCTL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "jobctl")
SCRUBBED_ENV = ("REDIS_URL", "DATABASE_URL")
JSON_TYPE_OIDS = (114, 3802)  # json, jsonb


class StepError(Exception):
    """A step that cannot be carried out as written (bad arguments, wrong order)."""


def need(step, key):
    if key not in step:
        raise StepError(f'missing "{key}"')
    return step[key]


def text(value):
    """Raw Redis bytes as a string."""
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


def jsonable(value):
    """A database value as JSON can hold it (rows are mostly ints, strings, booleans and parsed jsonb)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return text(value)
    return str(value)


def number(score):
    return int(score) if float(score).is_integer() else score


# ---------------------------------------------------------------------------------------------------------------
# Backend-specific bits: the options Queue and Worker take, the jobctl environment, and the raw reads.
# ---------------------------------------------------------------------------------------------------------------

def raw_argument(value, prefix):
    """A raw Redis argument: text with {prefix} replaced, {"hex": "ff00"} for bytes that are not UTF-8, or
    {"repeat": "x", "times": N, "before": "", "after": ""} for a huge value."""
    if isinstance(value, str):
        return value.replace("{prefix}", prefix).encode("utf-8")
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "repeat" in value:
        text = value.get("before", "") + value["repeat"] * int(value["times"]) + value.get("after", "")
        return text.encode("utf-8")
    if isinstance(value, (int, float)):
        return str(value).encode()
    raise StepError(f"a raw argument must be text, {{\"hex\"}} or {{\"repeat\",\"times\"}}, not {value!r}")


class RedisStore:
    def __init__(self, url, prefix, cluster=False):
        self.url = url
        self.prefix = prefix
        self.cluster = cluster
        # bytes in, bytes out: raw reads see what is stored
        self.r = RedisCluster.from_url(url) if cluster else aioredis.from_url(url)
        self.namespace = prefix

    @property
    def opts(self):
        if self.cluster:
            return {"connection": RedisCluster.from_url(self.url, decode_responses=True), "prefix": self.prefix}
        return {"connection": self.url, "prefix": self.prefix}

    async def named_connection(self, name):
        connection = aioredis.from_url(url=self.url, single_connection_client=True)
        await connection.execute_command("CLIENT", "SETNAME", name)
        return connection

    def jobctl_env(self):
        return {"JOBCTL_URL": self.url, "JOBCTL_PREFIX": self.prefix}

    async def raw(self, step):
        commands = step.get("redis")
        if not isinstance(commands, list):
            raise StepError('"redis" must be an array of commands (this namespace is on Redis)')
        for command in commands:
            arguments = [raw_argument(a, prefix=self.prefix) for a in command]
            # RedisCluster looks the command's name up as text.
            await self.r.execute_command(arguments[0].decode(), *arguments[1:])
        return {}

    async def raw_job(self, queue, job_id):
        raw = await self.r.hgetall(f"{self.prefix}:{queue}:{job_id}")
        return {text(k): text(v) for k, v in raw.items()} if raw else None

    async def events(self, queue):
        entries = await self.r.xrange(f"{self.prefix}:{queue}:events", "-", "+")
        out = []
        for _, fields in entries:
            fields = {text(k): text(v) for k, v in fields.items()}
            out.append({"event": fields.pop("event", None), **fields})
        return out

    async def dump(self, queue):
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", f"{self.prefix}:{queue}:") + "*"
        keys = sorted({key async for key in self.r.scan_iter(match=pattern, count=1000)})
        out = {}
        for key in keys:
            entry = await self.dump_key(key)
            if entry is not None:
                out[text(key)] = entry
        return out

    async def dump_key(self, key):
        kind = text(await self.r.type(key))
        r = self.r
        if kind == "hash":
            value = {text(k): text(v) for k, v in sorted((await r.hgetall(key)).items())}
        elif kind == "list":
            value = [text(v) for v in await r.lrange(key, 0, -1)]
        elif kind == "set":
            value = sorted(text(v) for v in await r.smembers(key))
        elif kind == "zset":
            value = [[text(m), number(s)] for m, s in await r.zrange(key, 0, -1, withscores=True)]
        elif kind == "string":
            value = text(await r.get(key))
        elif kind == "stream":
            value = [[text(entry_id), {text(k): text(v) for k, v in fields.items()}]
                     for entry_id, fields in await r.xrange(key, "-", "+")]
        elif kind == "none":  # gone since SCAN saw it
            return None
        else:
            value = None
        return {"type": kind, "value": value, "ttl": await r.pttl(key) >= 0}

    async def close(self):
        await self.r.aclose()


class PostgresStore:
    cluster = False
    # (table, columns that name the queue, ORDER BY): every table of bullmq/postgres/migrations/*.sql with a queue
    # column. `migration` and the relay_* tables are not per queue.
    TABLES = (
        ("job", ("queue",), 'id COLLATE "C"'),
        ("meta", ("queue",), 'field COLLATE "C"'),
        ("job_log", ("queue",), 'job_id COLLATE "C", idx'),
        ("event", ("queue",), "id"),
        ("job_dependency", ("parent_queue", "child_queue"),
         'parent_queue COLLATE "C", parent_id COLLATE "C", child_key COLLATE "C"'),
        ("dedup", ("queue",), 'dedup_id COLLATE "C"'),
        ("dedup_next", ("queue",), 'dedup_id COLLATE "C"'),
        ("scheduler", ("queue",), 'scheduler_id COLLATE "C"'),
        ("rate_limit", ("queue",), "queue"),
        ("metrics", ("queue",), 'kind COLLATE "C"'),
    )

    def __init__(self, url, schema):
        import psycopg  # only needed for this backend
        from bullmq.backends.postgres_connection import quote_schema_name
        self._psycopg = psycopg
        self.url = url
        self.schema = schema
        self.opts = {"backend": "postgres", "connection": url, "schema": schema}
        self.s = quote_schema_name(schema)  # validates, and quotes exactly as the client does
        self.db = None
        self.namespace = schema

    async def named_connection(self, name):
        return await self._psycopg.AsyncConnection.connect(self.url, autocommit=True, application_name=name)

    def jobctl_env(self):
        return {"JOBCTL_URL": self.url, "JOBCTL_SCHEMA": self.schema}

    async def connect(self):
        """First raw read: bring the schema up with the client's own migrations (a no-op once a Queue did)."""
        from bullmq.backends.postgres_connection import run_migrations
        migration_conn = await self._psycopg.AsyncConnection.connect(self.url, autocommit=False)
        try:
            await run_migrations(migration_conn, self.schema)
        finally:
            await migration_conn.close()
        self.db = await self._psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def query(self, sql, params=()):
        """Rows as (column names, rows, type oids)."""
        if self.db is None:
            await self.connect()
        async with self.db.cursor() as cur:
            await cur.execute(sql, params)
            columns = [d.name for d in cur.description]
            oids = [d.type_code for d in cur.description]
            return columns, await cur.fetchall(), oids

    async def raw(self, step):
        statements = step.get("sql")
        if not isinstance(statements, list):
            raise StepError('"sql" must be an array of statements (this namespace is on Postgres)')
        if self.db is None:
            await self.connect()
        for statement in statements:
            await self.db.execute(statement.replace("{schema}", self.s))
        return {}

    async def raw_job(self, queue, job_id):
        columns, rows, oids = await self.query(f"SELECT * FROM {self.s}.job WHERE queue = %s AND id = %s",
                                               (queue, job_id))
        if not rows:
            return None
        out = {}
        for column, value, oid in zip(columns, rows[0], oids):
            if value is None or oid in JSON_TYPE_OIDS:
                out[column] = jsonable(value)
            elif isinstance(value, bool):
                out[column] = "true" if value else "false"
            else:
                out[column] = str(value)
        return out

    async def dump(self, queue):
        out = {}
        for table, queue_columns, order in self.TABLES:
            where = " OR ".join(f"{c} = %s" for c in queue_columns)
            columns, rows, _ = await self.query(f"SELECT * FROM {self.s}.{table} WHERE {where} ORDER BY {order}",
                                                (queue,) * len(queue_columns))
            out[table] = [{c: jsonable(v) for c, v in zip(columns, row)} for row in rows]
        out["jid_sequence"] = await self.jid_sequence(queue)
        return out

    async def events(self, queue):
        """The queue's `event` rows (publish_event in 0002_functions.sql) in id order, shaped like the Redis
        stream's entries: the "event" column plus the keys of the jsonb "data" column."""
        _, rows, _ = await self.query(f"SELECT event, data FROM {self.s}.event WHERE queue = %s ORDER BY id",
                                      (queue,))
        out = []
        for event, data in rows:
            payload = jsonable(data) if isinstance(data, dict) else {"data": jsonable(data)}
            out.append({**payload, "event": event})
        return out

    async def jid_sequence(self, queue):
        """last_value of the per-queue id sequence (job_id_seq_name in 0002_functions.sql), or None."""
        name = "bullmq_jid_" + hashlib.md5(queue.encode("utf-8")).hexdigest()
        _, rows, _ = await self.query("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::text",
                                      (self.schema, name))
        if rows[0][0] is None:
            return None
        _, rows, _ = await self.query(f'SELECT last_value FROM {self.s}."{name}"')
        return rows[0][0]

    async def close(self):
        if self.db is not None:
            await self.db.close()


# ---------------------------------------------------------------------------------------------------------------
# Workers: what one Worker saw and how each job ended.
# ---------------------------------------------------------------------------------------------------------------

class RecordingWorker:
    """A bullmq Worker plus what it recorded. `fail(job)` returns the error message to raise, or None."""

    def __init__(self, queue, opts, fail, on_failed=None):
        self.queue = queue
        self.fail = fail
        self.on_failed = on_failed
        self.seen, self.completed, self.failed, self.retried, self.errors = [], [], [], [], []
        self.closed = False
        self.worker = Worker(queue, self.process, opts)
        self.worker.on("completed", self.completed_event)
        self.worker.on("failed", self.failed_event)
        self.worker.on("error", self.error_event)

    async def process(self, job, token):
        self.seen.append({"id": job.id, "name": job.name, "data": job.data, "opts": dict(job.opts),
                          "attemptsMade": job.attemptsMade})
        if isinstance(job.data, dict) and job.data.get("sleep"):
            await asyncio.sleep(float(job.data["sleep"]))  # holds the job active (and locked) meanwhile
        message = self.fail(job)
        if message is None:
            return {"ok": True}
        job.finishedOn = 0  # moveToFailed sets it again only when the job really goes to `failed`
        raise Exception(message)

    def completed_event(self, job, result):
        self.completed.append(job.id)

    def failed_event(self, job, err):
        if job.finishedOn:
            self.failed.append(job.id)
            if self.on_failed:
                self.on_failed(job.id)
        else:
            self.retried.append(job.id)

    def error_event(self, err, job=None):
        where = f" (job {job.id})" if job is not None else ""
        message = f"{type(err).__name__}: {err}{where}"
        self.errors.append(message)
        print(f"bullmq-steps: worker on {self.queue!r}: {message}", file=sys.stderr)

    async def started(self, timeout=10.0):
        """Wait until the Worker's run loop is up (closing one before that leaves its connections open)."""
        deadline = time.monotonic() + timeout
        while not self.worker.running:
            if time.monotonic() >= deadline:
                raise StepError(f"the worker on queue {self.queue!r} did not start within {timeout} s")
            await asyncio.sleep(0.01)

    def report(self):
        # Copies: results are printed at the end, and the worker keeps recording meanwhile.
        return {"seen": list(self.seen), "completed": list(self.completed), "failed": list(self.failed),
                "retried": list(self.retried), "errors": list(self.errors)}

    async def close(self):
        if not self.closed:
            self.closed = True
            await self.worker.close()


class RecordingQueueEvents(QueueEvents):
    """The client's QueueEvents (autorun off: `listen()` runs it) recording what it emits, in order."""

    def __init__(self, name, opts):
        self.recorded, self.errors = [], []
        self.task = None
        self.client_id = None  # of its one connection, set by listen_start
        self._last = None  # (name, fields) of the last generic emit, to recognize its per-job copy
        super().__init__(name, {**opts, "autorun": False})

    def emit(self, event_name, *args, **kwargs):
        # _dispatch_entry emits "<event>" with (fields, entryId), then "<event>:<jobId>" with the same objects.
        if event_name == "error" and args and isinstance(args[0], BaseException):
            self.errors.append(f"{type(args[0]).__name__}: {args[0]}")
        elif (self._last and args and args[0] is self._last[1] and isinstance(args[0], dict)
              and event_name == f"{self._last[0]}:{args[0].get('jobId')}"):
            pass
        else:
            self.recorded.append({"event": event_name, "args": jsonable(list(args))})
            self._last = (event_name, args[0] if args else None)
        super().emit(event_name, *args, **kwargs)

    async def listen(self):
        """QueueEvents.run() (it registers this task, which close() cancels), its exceptions recorded."""
        try:
            await self.run()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self.errors.append(f"{type(err).__name__}: {err}")

    def report(self):
        return {"events": list(self.recorded), "errors": list(self.errors)}

    async def stop(self, unblock):
        """QueueEvents.close(). It cancels the run loop's task, which Python 3.11's asyncio.wait_for (redis-py
        sends under it) can swallow when it lands as the XREAD is sent: then `unblock(client_id)` (CLIENT UNBLOCK)
        ends that XREAD, and the loop, seeing the closing flag close() set, returns."""
        closing = asyncio.ensure_future(self.close())
        for _ in range(40):
            done, _ = await asyncio.wait({closing}, timeout=0.25)
            if done:
                break
            if self.client_id is not None:
                await unblock(self.client_id)
        else:
            raise StepError(f"QueueEvents on {self.name!r} did not close within 10 s")
        closing.result()
        if self.task is not None and not self.task.done():  # closed before run() registered the task
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass


def fail_flagged(default_error, fail):
    """The worker_start rule: fail jobs whose data has a truthy "fail", when the step asked for failures."""
    def decide(job):
        data = job.data
        if fail and isinstance(data, dict) and data.get("fail"):
            return data.get("error") or default_error or "boom"
        return None
    return decide


# ---------------------------------------------------------------------------------------------------------------
# The steps.
# ---------------------------------------------------------------------------------------------------------------

class Harness:
    def __init__(self, store, backend, jobctl):
        self.store = store
        self.backend = backend
        self.jobctl_path = jobctl
        self.queues = {}
        self.workers = {}
        self.listeners = {}
        self.background = {}
        self.named_connections = []

    def queue(self, step):
        name = need(step, "queue")
        if not isinstance(name, str) or not name:
            raise StepError('"queue" must be a non-empty string')
        if name not in self.queues:
            self.queues[name] = Queue(name, self.store.opts)
        return self.queues[name]

    def running_worker(self, step):
        name = need(step, "queue")
        worker = self.workers.get(name)
        if worker is None or worker.closed:
            raise StepError(f"no running worker on queue {name!r} (use worker_start first)")
        return worker

    async def add(self, step):
        job = await self.queue(step).add(need(step, "name"), step.get("data", {}), step.get("opts") or {})
        return {"id": job.id}

    async def add_bulk(self, step):
        jobs = [{"name": need(j, "name"), "data": j.get("data", {}), "opts": j.get("opts") or {}}
                for j in need(step, "jobs")]
        queue = self.queue(step)
        if self.store.cluster:
            # The client's addBulk is a MULTI of EVALSHAs, which fails with NOSCRIPT on a cluster node that has not
            # loaded the script yet; Queue.add loads it.
            added = [await queue.add(job["name"], job["data"], job["opts"]) for job in jobs]
        else:
            added = await queue.addBulk(jobs)
        return {"ids": [job.id for job in added]}

    async def add_flow(self, step):
        from bullmq import FlowProducer
        producer = FlowProducer(self.store.opts)
        try:
            tree = await producer.add(need(step, "flow"))
        finally:
            await producer.close()

        def ids(node):
            return {"id": node["job"].id, "children": [ids(child) for child in node.get("children") or []]}
        return ids(tree)

    async def upsert_scheduler(self, step):
        job = await self.queue(step).upsertJobScheduler(need(step, "id"), need(step, "repeat"),
                                                        step.get("name", "tick"), step.get("data", {}),
                                                        step.get("opts") or {})
        job_id = job.id if job else None
        return {"id": job_id, "job": job_id}

    async def get_scheduler(self, step):
        q, scheduler_id = self.queue(step), str(need(step, "id"))
        try:
            scheduler = await q.getJobScheduler(scheduler_id)
        except ValueError:
            # bullmq 3.4.4 on Redis: getJobScheduler-1.lua answers {nil, nil} (an empty array) for an absent
            # scheduler, which the client fails to unpack. Only that case means null.
            if self.backend == "postgres" or await self.store.r.zscore(f"{self.store.prefix}:{q.name}:repeat",
                                                                      scheduler_id) is not None:
                raise
            scheduler = None
        return {"scheduler": jsonable(scheduler)}

    async def get_schedulers(self, step):
        q = self.queue(step)
        schedulers = await q.getJobSchedulers(0, -1, True)
        return {"schedulers": jsonable(schedulers), "count": await q.getJobSchedulersCount()}

    async def remove_scheduler(self, step):
        return {"removed": jsonable(await self.queue(step).removeJobScheduler(str(need(step, "id"))))}

    async def cron_next(self, step):
        from bullmq.job_scheduler import default_repeat_strategy
        repeat = need(step, "repeat")
        if not isinstance(repeat, dict):
            raise StepError('"repeat" must be an object')
        try:
            return {"next": default_repeat_strategy(int(need(step, "base")), repeat)}
        except Exception as err:
            return {"error": type(err).__name__}

    async def promote(self, step):
        from bullmq import Job
        job_id = str(need(step, "id"))
        job = await Job.fromId(self.queue(step), job_id)
        if job is None:
            raise StepError(f"no job {job_id!r} in queue {need(step, 'queue')!r}")
        await job.promote()
        return {}

    async def events(self, step):
        return {"events": await self.store.events(need(step, "queue"))}

    async def listen_start(self, step):
        name = need(step, "queue")
        if self.backend == "postgres":
            raise StepError("the Python client has no QueueEvents for PostgreSQL: listen_start is Redis only")
        if self.store.cluster:
            raise StepError("listen_start is for --backend redis (not redis-cluster)")
        self.queue(step)  # validates the name
        if name in self.listeners:
            raise StepError(f"a listener is already running on queue {name!r}")
        # A client of its own, as the client would make one (one connection) but without a socket timeout:
        # redis-py 8's default of 5 s is shorter than the 10 s XREAD block, so an idle read timed out and was
        # retried after a backoff (2 s, 4 s, …) from "$" again, losing the events added meanwhile.
        client = aioredis.from_url(self.store.url, decode_responses=True, single_connection_client=True,
                                   socket_timeout=None, socket_connect_timeout=10)
        events = RecordingQueueEvents(name, {"connection": client, "prefix": self.store.prefix})
        self.listeners[name] = events
        # The connection that answers CLIENT ID is the one its XREAD BLOCK will use. Listening means the server
        # shows that connection blocked in xread.
        client_id = events.client_id = await events.client.client_id()
        events.task = asyncio.ensure_future(events.listen())
        deadline = time.monotonic() + 10
        while True:
            if events.task.done():
                raise StepError(f"QueueEvents on {name!r} stopped before listening: {events.errors}")
            clients = await self.store.r.client_list(client_id=[client_id])
            if clients and text(clients[0].get("cmd")) == "xread" and "b" in text(clients[0].get("flags", "")):
                return {}
            if time.monotonic() >= deadline:
                raise StepError(f"QueueEvents on {name!r} was not blocked in XREAD within 10 s: {clients}")
            await asyncio.sleep(0.005)

    async def listen_stop(self, step):
        name = need(step, "queue")
        events = self.listeners.pop(name, None)
        if events is None:
            raise StepError(f"no listener on queue {name!r} (use listen_start first)")
        try:
            wanted = step.get("wait_for")
            if wanted is not None:
                deadline = time.monotonic() + float(step.get("timeout", 10))
                while (not any(e["event"] == wanted for e in events.recorded) and not events.task.done()
                       and time.monotonic() < deadline):
                    await asyncio.sleep(0.02)
        finally:
            await events.stop(self.unblock)
        return events.report()

    async def unblock(self, client_id):
        await self.store.r.execute_command("CLIENT", "UNBLOCK", client_id)

    async def global_limits(self, step):
        q = self.queue(step)
        return {"concurrency": await q.getGlobalConcurrency(), "rateLimit": await q.getGlobalRateLimit()}

    async def worker_start(self, step):
        q = self.queue(step)
        old = self.workers.get(q.name)
        if old is not None and not old.closed:
            raise StepError(f"a worker is already running on queue {q.name!r}")
        opts = {**self.store.opts, "concurrency": int(step.get("concurrency", 1)), "drainDelay": DRAIN_DELAY_SECONDS}
        if step.get("metrics"):
            opts["metrics"] = {"maxDataPoints": int(step["metrics"])}
        if step.get("name"):
            opts["name"] = str(step["name"])
        worker = RecordingWorker(q.name, opts, fail_flagged(step.get("error"), bool(step.get("fail"))))
        self.workers[q.name] = worker
        await worker.started()
        return {}

    async def worker_stop(self, step):
        worker = self.running_worker(step)
        try:
            await asyncio.wait_for(asyncio.shield(worker.close()), 15)
        except asyncio.TimeoutError:
            # bullmq 3.4.4's close() has been seen to hang now and then (about once in a hundred test runs) after
            # its jobs were done: force it rather than hang the whole test run.
            print("worker_stop: close() did not return in 15 s; forcing it", file=sys.stderr)
            await asyncio.wait_for(worker.close(force=True), 15)
        return worker.report()

    async def seen(self, step):
        name = need(step, "queue")
        if name not in self.workers:
            raise StepError(f"no worker was started on queue {name!r}")
        return self.workers[name].report()

    async def wait_until(self, step):
        worker = self.running_worker(step)
        want_completed, want_failed = int(step.get("completed", 0)), int(step.get("failed", 0))
        deadline = time.monotonic() + float(step.get("timeout", 30))
        while len(worker.completed) < want_completed or len(worker.failed) < want_failed:
            if time.monotonic() >= deadline:
                return {"completed": list(worker.completed), "failed": list(worker.failed), "timed_out": True}
            await asyncio.sleep(0.05)
        return {"completed": list(worker.completed), "failed": list(worker.failed), "timed_out": False}

    async def sleep(self, step):
        await asyncio.sleep(float(need(step, "seconds")))
        return {}

    async def get_workers(self, step):
        workers = await self.queue(step).get_workers()
        return {"rawnames": sorted(w.get("rawname") or w.get("name") for w in workers)}

    async def name_connection(self, step):
        name = need(step, "name").replace("{prefix}", self.store.namespace)
        self.named_connections.append(await self.store.named_connection(name))
        return {}

    async def redis_command(self, step):
        connection = aioredis.from_url(need(step, "url"), decode_responses=True)
        try:
            return {"reply": await connection.execute_command(*need(step, "args"))}
        finally:
            await connection.aclose()

    async def live_node(self):
        """The URL of a cluster node that answers: --url's, else one the client knows (after a kill_server)."""
        await self.store.r.initialize()
        urls = [self.store.url] + [f"redis://{node.host}:{node.port}/0" for node in self.store.r.get_nodes()]
        for url in urls:
            connection = aioredis.from_url(url, decode_responses=True)
            try:
                await connection.ping()
                return url
            except redis_errors.ConnectionError:
                continue
            finally:
                await connection.aclose()
        raise StepError("no cluster node answers")

    async def cluster_nodes(self, url=None):
        """CLUSTER NODES as a node that answers sees it: {"host:port": {"id", "flags", "slots": [(start, end)]}}."""
        connection = aioredis.from_url(url or await self.live_node(), decode_responses=True)
        try:
            text = await connection.execute_command("CLUSTER", "NODES")
        finally:
            await connection.aclose()
        nodes = {}
        for line in text.splitlines():
            fields = line.split()
            slots = []
            for part in fields[8:]:
                if not part.startswith("["):
                    start, _, end = part.partition("-")
                    slots.append((int(start), int(end or start)))
            nodes[fields[1].split("@")[0]] = {"id": fields[0], "flags": fields[2].split(","), "slots": slots}
        return nodes

    async def cluster_migrate(self, step):
        """Moves the slot of "key" to another master: IMPORTING/MIGRATING, MIGRATE of all its keys (twice, for keys
        made meanwhile), then, unless "finish" is false, SETSLOT NODE on every master."""
        if not self.store.cluster:
            raise StepError("cluster_migrate needs --backend redis-cluster")
        key = raw_argument(need(step, "key"), prefix=self.store.prefix).decode()
        nodes = await self.cluster_nodes()
        masters = {address: node for address, node in nodes.items() if "master" in node["flags"]
                   and "fail" not in node["flags"] and node["slots"]}
        seed = aioredis.from_url(await self.live_node(), decode_responses=True)
        slot = int(await seed.execute_command("CLUSTER", "KEYSLOT", key))
        await seed.aclose()
        source = next(a for a, n in masters.items() if any(lo <= slot <= hi for lo, hi in n["slots"]))
        target = next(a for a in sorted(masters) if a != source)
        src = aioredis.from_url(f"redis://{source}/0", decode_responses=True)
        dst = aioredis.from_url(f"redis://{target}/0", decode_responses=True)
        moved = 0
        try:
            await dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", masters[source]["id"])
            await src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", masters[target]["id"])
            for _ in range(2):
                keys = await src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100000)
                if keys:
                    host, port = target.rsplit(":", 1)
                    await src.execute_command("MIGRATE", host, port, "", 0, 10000, "KEYS", *keys)
                    moved += len(keys)
            if step.get("finish", True):
                await self.finish_migration(slot, target, masters)
        finally:
            await src.aclose()
            await dst.aclose()
        return {"slot": slot, "from": source, "to": target, "keys": moved}

    async def finish_migration(self, slot, target, masters):
        for address in [target] + [a for a in masters if a != target]:
            connection = aioredis.from_url(f"redis://{address}/0", decode_responses=True)
            try:
                await connection.execute_command("CLUSTER", "SETSLOT", slot, "NODE", masters[target]["id"])
            finally:
                await connection.aclose()

    async def cluster_finish(self, step):
        """Ends a cluster_migrate made with "finish": false ({"slot","to"} from its result)."""
        nodes = await self.cluster_nodes()
        masters = {address: node for address, node in nodes.items() if "master" in node["flags"]}
        await self.finish_migration(int(need(step, "slot")), need(step, "to"), masters)
        return {}

    async def kill_server(self, step):
        """kill -9 of the Redis server at "url" (its pid from INFO server)."""
        connection = aioredis.from_url(need(step, "url"), decode_responses=True)
        try:
            pid = int((await connection.info("server"))["process_id"])
        finally:
            await connection.aclose()
        os.kill(pid, 9)
        return {"pid": pid}

    async def services(self, step):
        """scripts/services.sh with "args" (start-cluster-node PORT after kill_server, say)."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "services.sh")
        # Signals the Swift test runner blocks are inherited down to here: a Redis node started with them blocked
        # could not be stopped with SIGTERM.
        process = await asyncio.create_subprocess_exec(
            script, *[str(a) for a in need(step, "args")], stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, []))
        out, err = await asyncio.wait_for(process.communicate(), timeout=float(step.get("timeout", 60)))
        return {"status": process.returncode, "stdout": out.decode(errors="replace"),
                "stderr": err.decode(errors="replace")}

    async def node_of(self, step):
        """The master ("host:port") that serves "key" now."""
        key = raw_argument(need(step, "key"), prefix=self.store.prefix).decode()
        url = await self.live_node()
        seed = aioredis.from_url(url, decode_responses=True)
        try:
            slot = int(await seed.execute_command("CLUSTER", "KEYSLOT", key))
        finally:
            await seed.aclose()
        for address, node in (await self.cluster_nodes(url)).items():
            if "master" in node["flags"] and "fail" not in node["flags"] and any(
                    lo <= slot <= hi for lo, hi in node["slots"]):
                return {"node": address, "slot": slot}
        raise StepError(f"no master serves slot {slot}")

    async def jobctl_start(self, step):
        key = step.get("key", "default")
        if key in self.background:
            raise StepError(f"a background jobctl {key!r} is already running")
        proc = await asyncio.create_subprocess_exec(
            self.jobctl_path, *step.get("args", []), env=self.jobctl_env(step.get("env") or {}),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self.background[key] = (proc, bytearray())
        until, deadline = need(step, "until").encode(), time.monotonic() + float(step.get("timeout", 60))
        collected = self.background[key][1]
        while until not in collected:
            remaining = deadline - time.monotonic()
            chunk = await asyncio.wait_for(proc.stderr.read(4096), max(remaining, 0.01)) if remaining > 0 else b""
            if not chunk:
                proc.kill()
                await proc.wait()
                del self.background[key]
                raise StepError(f"jobctl {step.get('args')} did not print {until!r}: {collected.decode(errors='replace')}")
            collected += chunk
        return {"pid": proc.pid}

    async def jobctl_stop(self, step):
        key = step.get("key", "default")
        if key not in self.background:
            raise StepError(f"no background jobctl {key!r} (use jobctl_start first)")
        proc, collected = self.background.pop(key)
        proc.terminate()
        try:
            rest = await asyncio.wait_for(proc.stderr.read(), float(step.get("timeout", 60)))
            await proc.wait()
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise StepError("jobctl did not stop within the timeout after SIGTERM (killed)")
        return {"status": proc.returncode, "stderr": (bytes(collected) + rest).decode("utf-8", "replace")}

    def jobctl_env(self, extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("JOBCTL_") and not k.startswith("PG") and k not in SCRUBBED_ENV}
        env.update(self.store.jobctl_env())
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            elif isinstance(value, str):
                env[key] = value
            else:
                raise StepError(f'env value for {key!r} must be a string or null')
        return env

    async def jobctl(self, step):
        args = step.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise StepError('"args" must be an array of strings')
        timeout = float(step.get("timeout", 60))
        proc = await asyncio.create_subprocess_exec(
            self.jobctl_path, *args, env=self.jobctl_env(step.get("env") or {}),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise StepError(f"jobctl {' '.join(args)} still running after {timeout} s (killed)")
        # The largest resident size of any process this harness waited for, jobctl's handlers included (jobctl
        # reaps them): an upper bound on jobctl's own.
        return {"status": proc.returncode, "stdout": out.decode("utf-8", "replace"),
                "stderr": err.decode("utf-8", "replace"),
                "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}

    async def jobctl_many(self, step):
        """Runs several jobctl command lines at the same time; returns their results in order."""
        runs = need(step, "runs")
        if not isinstance(runs, list) or not all(isinstance(r, list) for r in runs):
            raise StepError('"runs" must be an array of argument arrays')
        results = await asyncio.gather(*(self.jobctl({"args": args, "env": step.get("env"), "timeout": step.get("timeout", 60)})
                                         for args in runs))
        return {"results": list(results)}

    async def wait_counts(self, step):
        """Waits until the client counts at least "count" jobs in "state"; reports a timeout, does not fail."""
        state, wanted = need(step, "state"), int(need(step, "count"))
        deadline = time.monotonic() + float(step.get("timeout", 30))
        while True:
            try:
                counts = await self.queue(step).getJobCounts(*COUNT_STATES)
            except (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ClusterDownError):
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.5)  # a server away (a failover in a test): the client asks again
                continue
            if counts.get(state, 0) >= wanted or time.monotonic() >= deadline:
                return {"counts": counts, "timed_out": counts.get(state, 0) < wanted}
            await asyncio.sleep(0.2)

    async def counts(self, step):
        return await self.queue(step).getJobCounts(*COUNT_STATES)

    async def job(self, step):
        job_id = str(need(step, "id"))
        job = await self.queue(step).getJob(job_id)
        if job is None:
            return None
        return {"id": job.id, "name": job.name, "data": job.data, "opts": job.opts,
                "attemptsMade": job.attemptsMade, "failedReason": job.failedReason, "returnvalue": job.returnvalue,
                "state": await job.getState(), "priority": job.priority, "delay": job.delay,
                "timestamp": job.timestamp, "finishedOn": job.finishedOn or None,
                "processedOn": job.processedOn or None}

    async def job_logs(self, step):
        logs = await self.queue(step).getJobLogs(str(need(step, "id")), 0, -1, True)
        return {"logs": jsonable(logs["logs"]), "count": logs["count"]}

    async def add_log(self, step):
        from bullmq import Job
        q, job_id, row = self.queue(step), str(need(step, "id")), need(step, "row")
        if not isinstance(row, str):
            raise StepError('"row" must be a string')
        job = await Job.fromId(q, job_id)
        if job is None:
            raise StepError(f"no job {job_id!r} in queue {q.name!r}")
        if step.get("keepLogs") is not None:
            return {"count": await Job.addJobLog(q, job_id, row, int(step["keepLogs"]))}
        return {"count": await job.log(row)}

    async def raw_job(self, step):
        return await self.store.raw_job(need(step, "queue"), str(need(step, "id")))

    async def dump(self, step):
        return await self.store.dump(need(step, "queue"))

    async def raw(self, step):
        return await self.store.raw(step)

    async def retry_jobs(self, step):
        state = need(step, "state")
        if state not in ("failed", "completed"):
            raise StepError('"state" must be "failed" or "completed"')
        opts = {"state": state}
        if step.get("count") is not None:
            opts["count"] = int(step["count"])
        q = self.queue(step)
        started = time.perf_counter()
        await q.retryJobs(opts)
        return {"seconds": time.perf_counter() - started}

    async def pause(self, step):
        q = self.queue(step)
        await q.pause()
        return {"paused": await q.isPaused()}

    async def resume(self, step):
        q = self.queue(step)
        await q.resume()
        return {"paused": await q.isPaused()}

    async def is_paused(self, step):
        return {"paused": await self.queue(step).isPaused()}

    async def fill_failed(self, step):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import failed_fill
        queue, count = need(step, "queue"), int(need(step, "count"))
        if self.backend == "postgres":
            import psycopg

            def fill():
                with psycopg.connect(self.store.url) as conn:
                    failed_fill.fill_postgres(conn, self.store.schema, count, queue)
        elif self.backend == "redis":
            import redis

            def fill():
                failed_fill.fill_redis(redis.Redis.from_url(self.store.url), self.store.prefix, count, queue)
        else:
            raise StepError("fill_failed runs on redis or postgres")
        await asyncio.to_thread(fill)
        return {}

    async def fail_jobs(self, step):
        q = self.queue(step)
        count, name, error = int(need(step, "count")), need(step, "name"), need(step, "error")
        data = step.get("data") or {}
        added = await q.addBulk([{"name": name, "data": data, "opts": {}} for _ in range(count)])
        ids = [job.id for job in added]
        pending = set(ids)
        all_failed = asyncio.Event()
        if not pending:
            return {"ids": ids}

        def on_failed(job_id):
            pending.discard(job_id)
            if not pending:
                all_failed.set()

        # Redis: one worker, 50 jobs at a time. Postgres: a Worker serializes its SQL on one connection, so four
        # workers (each with its own connection) share the work; 1000 jobs take about 2 s either way.
        workers_count, concurrency = (1, 50) if self.backend == "redis" else (4, 16)
        opts = {**self.store.opts, "concurrency": concurrency, "drainDelay": DRAIN_DELAY_SECONDS}
        workers = [RecordingWorker(q.name, opts, lambda job: error, on_failed) for _ in range(workers_count)]
        timeout = 60 + count * 0.05
        try:
            for worker in workers:
                await worker.started()
            await asyncio.wait_for(all_failed.wait(), timeout)
        except asyncio.TimeoutError:
            raise StepError(f"only {count - len(pending)} of {count} jobs failed within {timeout:.0f} s")
        finally:
            for worker in workers:
                await worker.close()
        return {"ids": ids}

    async def run(self, step):
        if not isinstance(step, dict):
            raise StepError("a step must be a JSON object")
        op = need(step, "op")
        handler = STEPS.get(op)
        if handler is None:
            raise StepError(f"unknown op {op!r}")
        return await handler(self, step)

    async def close(self):
        for proc, _ in self.background.values():
            proc.kill()
            await proc.wait()
        for connection in self.named_connections:
            await connection.close()
        for events in self.listeners.values():
            await events.stop(self.unblock)
        for worker in self.workers.values():
            await worker.close()
        for q in self.queues.values():
            await q.close()
        await self.store.close()


STEPS = {
    "add": Harness.add, "add_bulk": Harness.add_bulk, "add_flow": Harness.add_flow,
    "upsert_scheduler": Harness.upsert_scheduler, "get_scheduler": Harness.get_scheduler,
    "get_schedulers": Harness.get_schedulers, "remove_scheduler": Harness.remove_scheduler,
    "cron_next": Harness.cron_next, "promote": Harness.promote, "events": Harness.events,
    "raw": Harness.raw, "global_limits": Harness.global_limits,
    "worker_start": Harness.worker_start, "worker_stop": Harness.worker_stop, "seen": Harness.seen,
    "wait_until": Harness.wait_until, "sleep": Harness.sleep, "jobctl": Harness.jobctl,
    "jobctl_many": Harness.jobctl_many, "wait_counts": Harness.wait_counts,
    "counts": Harness.counts, "job": Harness.job, "raw_job": Harness.raw_job, "dump": Harness.dump,
    "retry_jobs": Harness.retry_jobs, "pause": Harness.pause, "resume": Harness.resume,
    "is_paused": Harness.is_paused, "fail_jobs": Harness.fail_jobs, "fill_failed": Harness.fill_failed,
    "get_workers": Harness.get_workers,
    "name_connection": Harness.name_connection, "jobctl_start": Harness.jobctl_start,
    "jobctl_stop": Harness.jobctl_stop, "redis_command": Harness.redis_command,
    "cluster_migrate": Harness.cluster_migrate, "cluster_finish": Harness.cluster_finish,
    "kill_server": Harness.kill_server, "node_of": Harness.node_of, "services": Harness.services,
    "job_logs": Harness.job_logs, "add_log": Harness.add_log, "listen_start": Harness.listen_start,
    "listen_stop": Harness.listen_stop,
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("redis", "redis-cluster", "postgres"), default="redis")
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default=None, help="redis only (default bull)")
    ap.add_argument("--schema", default=None, help="postgres only, required")
    ap.add_argument("--jobctl", default=DEFAULT_JOBCTL, help="the jobctl binary (default .build/debug/jobctl)")
    args = ap.parse_args()
    if args.backend != "postgres" and args.schema is not None:
        ap.error("--schema is for --backend postgres")
    if args.backend == "postgres" and (args.prefix is not None or args.schema is None):
        ap.error("--backend postgres takes --schema NAME and no --prefix")
    return args


def read_plan():
    try:
        plan = json.load(sys.stdin)
    except json.JSONDecodeError as err:
        raise SystemExit(f"bullmq-steps: the plan on stdin is not JSON: {err}")
    if not isinstance(plan, list):
        raise SystemExit("bullmq-steps: the plan on stdin must be a JSON array of steps")
    return plan


async def main():
    args = parse_args()
    plan = read_plan()
    if args.backend in ("redis", "redis-cluster"):
        store = RedisStore(args.url, args.prefix or "bull", cluster=args.backend == "redis-cluster")
    else:
        store = PostgresStore(args.url, args.schema)
    harness = Harness(store, args.backend, args.jobctl)
    results = []
    try:
        for index, step in enumerate(plan):
            op = step.get("op") if isinstance(step, dict) else None
            try:
                results.append(await harness.run(step))
            except StepError as err:
                print(f"bullmq-steps: step {index} ({op}): {err}", file=sys.stderr)
                return 1
            except Exception as err:
                traceback.print_exc()
                print(f"bullmq-steps: step {index} ({op}) failed: {type(err).__name__}: {err}", file=sys.stderr)
                return 1
    finally:
        await harness.close()
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
"""Bulk changes of N jobs by jobctl (release build, the whole process) beside the Python bullmq 3.4.4 client's own
bulk calls (a warm client: connected, scripts loaded / migrations checked before the clock starts), on Redis and
on PostgreSQL, in one run; prints one table of medians at the end.

    .venv/bin/python scripts/bench_bulk.py --redis-url redis://127.0.0.1:56379/1 \\
        --postgres-url postgresql://jobctl@127.0.0.1:55432/postgres --jobctl .build-static/release/jobctl

What each row times (QUEUE is bench-bulk-<row>; --url/--prefix or --url/--schema follow each jobctl command):

  retry    jobctl retry QUEUE --failed --yes --json
           vs Queue.retryJobs({"state": "failed"}) (the client's own loop of 1,000 a call, until done)
           and jobctl retry QUEUE --failed --yes --json --reason "provider outage over" --actor bench@ops
           (a log line in each job and a trail record; no client counterpart)
  add      jobctl add QUEUE --from FILE --yes --json (FILE: N lines {"name": "render", "data": {"noteId": i},
           "opts": {"attempts": 3}})
           vs reading and parsing the same FILE, then Queue.addBulk in chunks of 1,000 (reading and parsing are
           timed too, as jobctl's are; the details below the table give their share); both start from an empty queue
  drain    jobctl drain QUEUE --yes --json vs Queue.drain() (one call), of N waiting jobs
  clean    jobctl clean QUEUE --completed --older-than 1s --yes --json (no --limit needed: without it every
           matching job goes) vs Queue.clean(1000, 0, "completed") (grace 1,000 ms; limit 0 means no limit on
           both backends: cleanJobsInSet-3.lua and the SQL clean()), of N jobs completed a minute or more ago
  promote  jobctl promote QUEUE --yes --json (no ids: every delayed job) vs Job.promote for each job, one after
           the other (the issue's comparison: the same change, priority kept, delay reset, a waiting event each;
           the Job objects are read with getJobs before the clock starts), of N jobs delayed by an hour
  promotejobs  the same jobctl command vs Queue.promoteJobs() (the client's bulk call, a loop of 1,000 a call).
           Not the same change: on Redis promoteJobs is moveJobsToWait, which LPUSHes every job into wait (a
           prioritized job would lose its priority), keeps its `delay` field; on
           PostgreSQL promote_jobs publishes no event and keeps delay_ms. With priority 0 jobs the counts agree.

Every run of every row starts from a fresh fill of the same N jobs, written directly (Redis: job hashes and state
keys with redis-py pipelines; PostgreSQL: one INSERT ... SELECT, then VACUUM ANALYZE): making them through the
client would take minutes per run, and the bulk calls do not care who made them. The client's getJobCounts checks
the counts before and after each timed operation (and jobctl's --json summary must say it changed N jobs); the
script exits with a message on any mismatch. Each row's queue is emptied after the row.

Longest single call:
  Redis: SLOWLOG with a 1 ms threshold during the operation (a lower one would log every command a script runs
  and slow the scripts down by the logging itself); only entries naming the row's queue count (other clients of
  the same server are left out; the details below the table name the longest one left out, if any). The previous
  slowlog settings are put back afterwards. SLOWLOG never logs EXEC, only each command inside a MULTI/EXEC block,
  although Redis runs the whole block at once (the client's addBulk sends its 1,000 jobs as one such block); so the
  details also give the mean time of the EXECs that ran meanwhile, from INFO commandstats (server-wide), and the
  table marks with * a longest call that they exceed.
  PostgreSQL: pg_stat_statements is not loaded on the test server (it needs shared_preload_libraries and a
  restart), so the measured sessions log their own slow statements: jobctl gets PGOPTIONS="-c
  log_min_duration_statement=1 -c log_parameter_max_length=0" (libpq reads it), and the client's connection,
  which sets `options` itself and so ignores PGOPTIONS, gets the same two SETs once it is warm. Both settings are
  allowed only to a superuser, which the test role is. The server log is then read for the "duration:" lines
  written meanwhile: the longest parse, bind or execute step of one statement. That needs the log file:
  --postgres-log, or else <data_directory>/../pg.log as scripts/services.sh starts the server; without it (or
  without superuser) the column says n/a.
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = ["retry", "add", "drain", "clean", "promote", "promotejobs"]
QUEUE_PREFIX = "bench-bulk-"
REASON = ["--reason", "provider outage over", "--actor", "bench@ops"]
ADD_CHUNK = 1_000
CLEAN_GRACE_MS = 1_000
DELAY_MS = 3_600_000
# Environment variables that would change what jobctl does or prints.
JOBCTL_ENV_DROP = ["JOBCTL_REASON", "JOBCTL_ACTOR", "JOBCTL_OUTPUT", "JOBCTL_URL", "JOBCTL_PREFIX", "JOBCTL_SCHEMA",
                   "JOBCTL_TIMEOUT", "REDIS_URL", "DATABASE_URL"]


def fail(message):
    sys.exit(f"bench_bulk: {message}")


# ---------------------------------------------------------------------------------------------------------------
# Redis


class RedisSide:
    name = "redis"

    def __init__(self, url, prefix):
        import redis
        self.url, self.prefix = url, prefix
        self.r = redis.Redis.from_url(url)
        self.r.ping()
        self.saved = {k: self.r.config_get(k)[k] for k in ("slowlog-log-slower-than", "slowlog-max-len")}

    def target(self):
        return ["--url", self.url, "--prefix", self.prefix]

    def queue_options(self):
        return {"connection": self.url, "prefix": self.prefix}

    def empty(self, queue):
        batch = []
        for key in self.r.scan_iter(match=f"{self.prefix}:{queue}:*", count=10_000):
            batch.append(key)
            if len(batch) == 10_000:
                self.r.unlink(*batch)
                batch = []
        if batch:
            self.r.unlink(*batch)

    def fill(self, queue, kind, total):
        """N jobs in one state (failed, waiting, completed, delayed), as BullMQ's scripts would leave them."""
        self.empty(queue)
        if kind == "empty":
            return
        base = f"{self.prefix}:{queue}:"
        now = int(time.time() * 1000)
        delay = DELAY_MS if kind == "delayed" else 0
        opts = json.dumps({"attempts": 3, "delay": delay}, separators=(",", ":"))
        stack = json.dumps(["Error: upstream timeout\n    at render (worker.js:12:7)"])
        pipe = self.r.pipeline(transaction=False)
        for i in range(1, total + 1):
            job = {"name": "render", "data": json.dumps({"noteId": i}, separators=(",", ":")), "opts": opts,
                   "timestamp": now - 120_000 if kind != "delayed" else now, "delay": delay, "priority": 0}
            if kind == "failed":
                finished = now - 60_000 + i % 50_000
                job.update({"processedOn": finished - 20, "finishedOn": finished, "atm": 3, "ats": 3,
                            "failedReason": f"upstream timeout after {i % 900 + 100} ms", "stacktrace": stack})
                pipe.zadd(base + "failed", {str(i): finished})
            elif kind == "completed":
                finished = now - 60_000 - i % 50_000
                job.update({"processedOn": finished - 20, "finishedOn": finished, "atm": 1, "ats": 1,
                            "returnvalue": json.dumps({"pages": i % 7 + 1})})
                pipe.zadd(base + "completed", {str(i): finished})
            elif kind == "waiting":
                pipe.lpush(base + "wait", str(i))  # LPUSH as addStandardJob: job 1 ends up rightmost, taken first
            elif kind == "delayed":
                pipe.zadd(base + "delayed", {str(i): (now + DELAY_MS + i) * 4096})  # dueMs * 0x1000 + 0
            pipe.hset(base + str(i), mapping=job)
            if i % 5000 == 0:
                pipe.execute()
        pipe.set(base + "id", total)
        pipe.hset(base + "meta", "opts.maxLenEvents", 10_000)
        if kind == "waiting":
            pipe.zadd(base + "marker", {"0": 0})
        elif kind == "delayed":
            pipe.zadd(base + "marker", {"1": now + DELAY_MS + 1})
        pipe.execute()

    # The longest single command, from SLOWLOG.
    def probe_env(self):
        return {}

    async def prepare_client(self, q):
        pass

    def probe_start(self):
        self.r.config_set("slowlog-log-slower-than", 1000)
        self.r.config_set("slowlog-max-len", 100_000)
        self.r.slowlog_reset()
        self.exec_before = self.exec_stats()

    def exec_stats(self):
        stats = self.r.info("commandstats").get("cmdstat_exec", {})
        return stats.get("calls", 0), stats.get("usec", 0)

    def probe_stop(self, queue):
        """(longest ms of the queue's commands, that command, commands over 1 ms, (longest ms, command) of others)."""
        entries = self.r.slowlog_get(100_000)
        self.restore()
        name = f"{self.prefix}:{queue}:".encode()
        mine, others = [], []
        for entry in entries:
            (mine if name in entry["command"] else others).append(entry)
        longest = max(mine, key=lambda e: e["duration"], default=None)
        other = max(others, key=lambda e: e["duration"], default=None)
        result = Longest(longest["duration"] / 1000 if longest else 0.0, show_command(longest), len(mine),
                         (other["duration"] / 1000, show_command(other)) if other else None)
        # SLOWLOG never logs EXEC, only each command inside it, yet Redis runs a whole MULTI/EXEC block at once; the
        # command statistics do count EXEC with the commands inside, though only as a total (server-wide).
        calls, usec = (after - before for after, before in zip(self.exec_stats(), self.exec_before))
        if calls > 0 and usec >= 0:  # (a CONFIG RESETSTAT meanwhile, by anyone, leaves no figure)
            result.exec_blocks = (calls, usec / calls / 1000)
        return result

    def restore(self):
        for key, value in self.saved.items():
            self.r.config_set(key, value)

    def close(self):
        self.restore()


def show_command(entry):
    if entry is None:
        return ""
    words = entry["command"].decode(errors="replace").split(" ")
    if words[0].upper() == "EVALSHA" and len(words) > 3:  # the sha says nothing: name the first key
        words = ["EVALSHA", words[1][:8] + "…"] + words[2:4]
    text = " ".join(words[:4])
    return text if len(text) <= 70 else text[:69] + "…"


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


class PostgresSide:
    name = "postgres"
    PGOPTIONS = "-c log_min_duration_statement=1 -c log_parameter_max_length=0"
    DURATION = re.compile(r"LOG:  duration: ([0-9.]+) ms  (.*)$")

    def __init__(self, url, schema, log_path):
        import psycopg
        from bullmq.backends.postgres_connection import run_migrations
        self.url, self.schema = url, schema
        self.s = f'"{schema}"'

        async def migrate():
            async with await psycopg.AsyncConnection.connect(url) as c:
                await run_migrations(c, schema)
                await c.commit()
        asyncio.run(migrate())
        self.conn = psycopg.connect(url)
        self.log_path, self.no_log_reason = self.find_log(psycopg, log_path)
        self.offset = 0

    def find_log(self, psycopg, given):
        """The server log to read "duration:" lines from, after checking that this session may turn them on."""
        try:
            with psycopg.connect(self.url, options=self.PGOPTIONS) as probe:
                data_dir = probe.execute("SHOW data_directory").fetchone()[0]
                current = probe.execute("SELECT pg_current_logfile()").fetchone()[0]
                path = Path(given) if given else (
                    Path(data_dir) / current if current else Path(data_dir).parent / "pg.log")
                if not os.access(path, os.R_OK):
                    return None, f"cannot read the server log {path} (pass --postgres-log)"
                before = path.stat().st_size
                probe.execute("SELECT pg_sleep(0.005), 'bench_bulk log probe'")
            with path.open("rb") as f:
                f.seek(before)
                if b"bench_bulk log probe" not in f.read():
                    return None, f"{path} did not get the probe statement's duration line"
            return path, None
        except psycopg.Error as error:
            return None, f"cannot turn on log_min_duration_statement: {str(error).strip()}"

    def target(self):
        return ["--url", self.url, "--schema", self.schema]

    def queue_options(self):
        return {"backend": "postgres", "connection": self.url, "schema": self.schema}

    def empty(self, queue):
        with self.conn.cursor() as cur:
            # Fresh statistics first: deleting jobs cascades to their log lines (N after a retry with --reason), and
            # a cascade planned while job_log looks empty scans the whole table per job.
            cur.execute(f"ANALYZE {self.s}.job_log")
            cur.execute(f"DELETE FROM {self.s}.job WHERE queue = %s", [queue])
        self.conn.commit()

    def fill(self, queue, kind, total):
        self.empty(queue)
        now = int(time.time() * 1000)
        s = self.s
        # Per state: state, opts, attempts made/started, added, process at, processed, finished, return value,
        # failed reason, stacktrace, delay.
        columns = {
            "failed": ("'failed'", '{"attempts":3,"delay":0,"backoff":null}', "3", "%(now)s - 120000", "NULL",
                       "%(now)s - 60020 + i %% 50000", "%(now)s - 60000 + i %% 50000", "NULL",
                       "'upstream timeout after ' || (i %% 900 + 100) || ' ms'", "'[\"Error: upstream timeout\"]'",
                       "0"),
            "completed": ("'completed'", '{"attempts":3,"delay":0,"backoff":null}', "1", "%(now)s - 120000", "NULL",
                          "%(now)s - 60020 - i %% 50000", "%(now)s - 60000 - i %% 50000",
                          "jsonb_build_object('pages', i %% 7 + 1)", "NULL", "NULL", "0"),
            "waiting": ("'waiting'", '{"attempts":3,"delay":0,"backoff":null}', "0", "%(now)s - 120000", "NULL",
                        "NULL", "NULL", "NULL", "NULL", "NULL", "0"),
            "delayed": ("'delayed'", f'{{"attempts":3,"delay":{DELAY_MS},"backoff":null}}', "0", "%(now)s",
                        f"%(now)s + {DELAY_MS} + i", "NULL", "NULL", "NULL", "NULL", "NULL", str(DELAY_MS)),
        }
        if kind != "empty":
            (state, opts, attempts, added, process_at, processed, finished, returned, reason, stack,
             delay) = columns[kind]
            with self.conn.cursor() as cur:
                cur.execute(f"""
                    INSERT INTO {s}.job (queue, id, seq, name, state, data, opts, priority, delay_ms, max_attempts,
                                         attempts_made, attempts_started, added_at_ms, process_at_ms,
                                         processed_at_ms, finished_at_ms, return_value, failed_reason, stacktrace)
                    SELECT %(queue)s, i::text, nextval('{s}.job_seq'), 'render', {state},
                           jsonb_build_object('noteId', i), '{opts}'::jsonb, 0, {delay}, 3, {attempts}, {attempts},
                           {added}, {process_at}, {processed}, {finished}, {returned}, {reason}, {stack}::jsonb
                      FROM generate_series(1, %(total)s) AS i""", {"queue": queue, "now": now, "total": total})
            self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute(f"VACUUM ANALYZE {s}.job")
        self.conn.autocommit = False

    # The longest single statement, from the server log.
    def probe_env(self):
        if not self.log_path:
            return {}
        old = os.environ.get("PGOPTIONS", "")
        return {"PGOPTIONS": (old + " " + self.PGOPTIONS).strip()}

    async def prepare_client(self, q):
        """The client's own connection: it sets `options` itself (search_path), which overrides PGOPTIONS."""
        if not self.log_path:
            return
        connection = q.backend.connection
        for setting in self.PGOPTIONS.replace("-c ", "").split():
            await connection.run(f"SET {setting}", [])
        shown = (await connection.run("SHOW log_min_duration_statement", [])).rows[0][0]
        if shown != "1ms":
            fail(f"the client's connection did not take log_min_duration_statement = 1 (it says {shown})")

    def probe_start(self):
        if self.log_path:
            self.offset = self.log_path.stat().st_size

    def probe_stop(self, queue):
        if not self.log_path:
            return None
        with self.log_path.open("rb") as f:
            f.seek(self.offset)
            lines = f.read().decode(errors="replace").splitlines()
        found = []  # (ms, statement): a statement's further lines follow its LOG line, each indented by a tab
        for line in lines:
            match = self.DURATION.search(line)
            if match:
                found.append([float(match.group(1)), match.group(2)])
            elif found and line.startswith("\t"):
                found[-1][1] += "\n" + line
        longest = max(found, default=(0.0, ""))
        text = " ".join(re.sub(r"--[^\n]*", "", longest[1]).split())  # the wheel's .sql files open with comments
        return Longest(longest[0], text if len(text) <= 70 else text[:69] + "…", len(found), None)

    def restore(self):
        pass

    def close(self):
        self.conn.close()


class Longest:
    def __init__(self, ms, command, over, other):
        self.ms, self.command, self.over, self.other = ms, command, over, other
        self.exec_blocks = None  # (MULTI/EXEC blocks, mean ms of one) on Redis


# ---------------------------------------------------------------------------------------------------------------
# The operations


def jobctl_env(side):
    env = {k: v for k, v in os.environ.items() if k not in JOBCTL_ENV_DROP}
    env.update(side.probe_env())
    return env


def run_jobctl(args, side, argv, queue, total):
    """Runs one jobctl command; returns (ms, Longest or None). Exits unless it says it changed `total` jobs."""
    command = [args.jobctl] + argv + side.target()
    env = jobctl_env(side)
    side.probe_start()
    start = time.perf_counter()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError as error:  # e.g. ETXTBSY while a build is writing the binary
        fail(f"cannot run {args.jobctl}: {error}")
    elapsed = (time.perf_counter() - start) * 1000
    longest = side.probe_stop(queue)
    if done.returncode != 0:
        fail(f"{side.name}: `{' '.join(argv)}` exited with {done.returncode}: {done.stderr.decode().strip()}")
    try:
        summary = json.loads(done.stdout)
    except ValueError:
        fail(f"{side.name}: `{' '.join(argv)}` printed no JSON summary: {done.stdout.decode()[:300]!r}")
    if summary.get("changed") != total or summary.get("interrupted"):
        fail(f"{side.name}: `{' '.join(argv)}` changed {summary.get('changed')} jobs, not {total}: "
             f"{json.dumps({k: v for k, v in summary.items() if k != 'ids'})}")
    return elapsed, longest


def client_op(side, queue, operation):
    """Runs `operation(q)` on a warm client; returns (ms, Longest or None, what the operation returned). An
    operation with a `prepare(q)` attribute has it awaited before the clock starts, and gets its result as a
    second argument."""
    from bullmq import Queue

    async def run():
        q = Queue(queue, side.queue_options())
        await q.getJobCounts()  # connect (load scripts / check migrations) before the clock starts
        await side.prepare_client(q)
        prepare = getattr(operation, "prepare", None)
        prepared = await prepare(q) if prepare else None
        side.probe_start()
        start = time.perf_counter()
        result = await (operation(q, prepared) if prepare else operation(q))
        elapsed = (time.perf_counter() - start) * 1000
        longest = side.probe_stop(queue)
        await q.close()
        return elapsed, longest, result

    return asyncio.run(run())


def counts(side, queue):
    from bullmq import Queue

    async def read():
        q = Queue(queue, side.queue_options())
        result = await q.getJobCounts()
        await q.close()
        return result
    return asyncio.run(read())


def check_counts(side, queue, expected, when):
    """Every count is 0 except those in `expected`; exits with a clear message otherwise."""
    found = counts(side, queue)
    wrong = {k: v for k, v in found.items() if v != expected.get(k, 0)}
    if wrong:
        fail(f"{side.name} {queue}: {when} expected {expected or 'an empty queue'}, but getJobCounts says "
             f"{ {k: v for k, v in found.items() if v} or 'empty'}")


def client_retry(q):
    return q.retryJobs({"state": "failed"})


async def client_drain(q):
    await q.drain()


async def client_clean(q):
    return await q.clean(CLEAN_GRACE_MS, 0, "completed")  # limit 0: no limit


async def client_promote_jobs(q):
    await q.promoteJobs()


async def client_promote_each(q, jobs):
    # Job.promote, one job after the other (what jobctl promote does for each job: priority kept, delay reset,
    # a waiting event each); the jobs are read before the clock starts.
    for job in jobs:
        await job.promote()


async def delayed_jobs(q):
    # In pages: one getJobs of 100,000 jobs outlasts the client's socket timeout (and an empty page raises).
    total = (await q.getJobCounts("delayed"))["delayed"]
    jobs = []
    while len(jobs) < total:
        page = await q.getJobs(["delayed"], len(jobs), min(total, len(jobs) + 5000) - 1)
        if not page:
            break
        jobs += page
    return jobs


client_promote_each.prepare = delayed_jobs


def client_add(path, parse_ms):
    async def add(q):
        # Timed: reading and parsing the file (as jobctl's time includes them), then addBulk per 1,000 lines.
        start = time.perf_counter()
        with open(path) as f:
            jobs = [json.loads(line) for line in f if line.strip()]
        parse_ms.append((time.perf_counter() - start) * 1000)
        for first in range(0, len(jobs), ADD_CHUNK):
            await q.addBulk(jobs[first:first + ADD_CHUNK])
    return add


class Row:
    """One line of the table: samples of jobctl and of the client (none for a jobctl-only variant)."""

    def __init__(self, backend, label):
        self.backend, self.label = backend, label
        self.jobctl, self.client = [], []
        self.jobctl_longest, self.client_longest = [], []
        self.note = ""


def bench_row(args, side, row, jsonl):
    queue = QUEUE_PREFIX + row
    n = args.jobs
    results = []
    # (state to fill, counts before, counts after, jobctl argv, client operation, label)
    if row == "retry":
        plain, reason = Row(side.name, "retry failed"), Row(side.name, "retry --reason")
        results = [plain, reason]
        before, after = {"failed": n}, {"waiting": n}
        for _ in range(args.runs):
            for target, argv in ((plain, []), (reason, REASON)):
                side.fill(queue, "failed", n)
                check_counts(side, queue, before, "after the fill")
                ms, longest = run_jobctl(args, side, ["retry", queue, "--failed", "--yes", "--json"] + argv, queue, n)
                check_counts(side, queue, after, "after jobctl retry" + (" --reason" if argv else ""))
                target.jobctl.append(ms)
                target.jobctl_longest.append(longest)
            side.fill(queue, "failed", n)
            check_counts(side, queue, before, "after the fill")
            ms, longest, _ = client_op(side, queue, client_retry)
            check_counts(side, queue, after, "after Queue.retryJobs")
            plain.client.append(ms)
            plain.client_longest.append(longest)
    else:
        kind, before, after, argv, label = {
            "add": ("empty", {}, {"waiting": n}, ["add", queue, "--from", jsonl], "add --from (addBulk 1,000)"),
            "drain": ("waiting", {"waiting": n}, {}, ["drain", queue], "drain (Queue.drain)"),
            "clean": ("completed", {"completed": n}, {},
                      ["clean", queue, "--completed", "--older-than", "1s"], "clean completed (Queue.clean)"),
            "promote": ("delayed", {"delayed": n}, {"waiting": n}, ["promote", queue], "promote (Job.promote each)"),
            "promotejobs": ("delayed", {"delayed": n}, {"waiting": n}, ["promote", queue], "promote (promoteJobs)"),
        }[row]
        parse_ms = []
        operation = {"add": client_add(jsonl, parse_ms), "drain": client_drain, "clean": client_clean,
                     "promote": client_promote_each, "promotejobs": client_promote_jobs}[row]
        line = Row(side.name, label)
        results = [line]
        for _ in range(args.runs):
            side.fill(queue, kind, n)
            check_counts(side, queue, before, "after the fill")
            ms, longest = run_jobctl(args, side, argv + ["--yes", "--json"], queue, n)
            check_counts(side, queue, after, f"after jobctl {row}")
            line.jobctl.append(ms)
            line.jobctl_longest.append(longest)
            side.fill(queue, kind, n)
            check_counts(side, queue, before, "after the fill")
            ms, longest, returned = client_op(side, queue, operation)
            check_counts(side, queue, after, f"after the client's {label}")
            if row == "clean" and len(returned) != n:
                fail(f"{side.name}: Queue.clean returned {len(returned)} ids, not {n}")
            line.client.append(ms)
            line.client_longest.append(longest)
        if parse_ms:
            line.note = f"of which reading and parsing the file: median {statistics.median(parse_ms):,.0f} ms"
    side.empty(queue)
    return results


# ---------------------------------------------------------------------------------------------------------------
# The table


def ms_text(samples):
    return f"{statistics.median(samples):,.0f} ms" if samples else "—"


def longest_text(probes):
    """The longest call over the runs, in ms."""
    probes = [p for p in probes if p is not None]
    if not probes:
        return None
    worst = max(p.ms for p in probes)
    # * : MULTI/EXEC blocks ran meanwhile that took longer on average than this (the details give their mean)
    blocks = max((p.exec_blocks[1] for p in probes if p.exec_blocks), default=0)
    return ("<1" if worst == 0 else f"{worst:,.1f}") + ("*" if blocks > worst else "")


def print_table(rows, args):
    client = "bullmq 3.4.4"
    head = f"{args.jobs:,} jobs, medians of {args.runs}"
    print()
    print(f"{head:<40}{'jobctl':>10}  {client:>12}  {'ratio':>6}  longest call, max of runs (jobctl / client)")
    for row in rows:
        ratio = (f"{statistics.median(row.jobctl) / statistics.median(row.client):.2f}×"
                 if row.jobctl and row.client else "—")
        mine, theirs = longest_text(row.jobctl_longest), longest_text(row.client_longest)
        if mine is None and theirs is None:
            longest = "n/a"
        else:
            longest = f"{mine or 'n/a'} / {theirs or ('—' if not row.client else 'n/a')} ms"
        print(f"{row.backend:<10}{row.label:<30}{ms_text(row.jobctl):>10}  {ms_text(row.client):>12}  "
              f"{ratio:>6}  {longest}")
    if any("*" in (longest_text(r.jobctl_longest) or "") + (longest_text(r.client_longest) or "") for r in rows):
        print("* MULTI/EXEC blocks ran meanwhile that each took longer on average (see below)")
    print()
    print("min–max over the runs (ms), and the longest call of each side:")
    for row in rows:
        spread = f"jobctl {min(row.jobctl):,.0f}–{max(row.jobctl):,.0f}"
        if row.client:
            spread += f", client {min(row.client):,.0f}–{max(row.client):,.0f}"
        print(f"  {row.backend:<10}{row.label:<30}{spread}")
        for side, probes in (("jobctl", row.jobctl_longest), ("client", row.client_longest)):
            probes = [p for p in probes if p is not None]
            if not probes:
                continue
            worst = max(probes, key=lambda p: p.ms)
            if worst.ms:
                text = f"      {side} {worst.ms:,.1f} ms ({worst.over:,} over 1 ms in that run): {worst.command}"
                print(text if len(text) <= 120 else text[:119] + "…")
            blocks = [p.exec_blocks for p in probes if p.exec_blocks]
            if blocks:
                calls, mean = max(blocks, key=lambda b: b[1])
                print(f"      {side}: {calls:,} MULTI/EXEC blocks ran meanwhile (server-wide), {mean:,.1f} ms each on"
                      " average (SLOWLOG sees only their parts)")
            others = [p.other for p in probes if p.other]
            if others:
                other = max(others)
                text = f"      (left out, not naming the queue, during {side}'s run: {other[0]:,.1f} ms {other[1]})"
                print(text if len(text) <= 120 else text[:119] + "…")
        if row.note:
            print(f"      client: {row.note}")


# ---------------------------------------------------------------------------------------------------------------


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["redis", "postgres", "both"], default="both")
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated, of " + ",".join(ROWS))
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--redis-url")
    ap.add_argument("--prefix", default="bull")
    ap.add_argument("--postgres-url")
    ap.add_argument("--schema", default="bench_bulk")
    ap.add_argument("--postgres-log", help="the PostgreSQL server log (default: found from data_directory)")
    ap.add_argument("--jobctl", default=str(root / ".build-static/release/jobctl"))
    args = ap.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        ap.error(f"unknown rows {unknown}; choose among {','.join(ROWS)}")
    if args.jobs < 1 or args.runs < 1:
        ap.error("--jobs and --runs must be at least 1")
    backends = ["redis", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if not getattr(args, f"{backend}_url"):
            ap.error(f"--{backend}-url is required for the {backend} backend")
    if not os.access(args.jobctl, os.X_OK):
        ap.error(f"no jobctl at {args.jobctl} (build it: scripts/bench-bulk.sh does)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    jsonl = str(tmp / "jobs.jsonl")
    if "add" in rows:
        with open(jsonl, "w") as f:
            for i in range(1, args.jobs + 1):
                f.write(json.dumps({"name": "render", "data": {"noteId": i}, "opts": {"attempts": 3}}) + "\n")

    table = []
    try:
        for backend in backends:
            side = (RedisSide(args.redis_url, args.prefix) if backend == "redis"
                    else PostgresSide(args.postgres_url, args.schema, args.postgres_log))
            try:
                if backend == "postgres" and side.no_log_reason:
                    print(f"postgres: no longest statement: {side.no_log_reason}", file=sys.stderr)
                for row in rows:
                    started = time.perf_counter()
                    print(f"{backend} {row} ...", end="", flush=True, file=sys.stderr)
                    table += bench_row(args, side, row, jsonl)
                    print(f" {time.perf_counter() - started:.0f} s", file=sys.stderr)
            finally:
                side.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(table, args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A `jobctl run --serve` handler: one job per line of JSON on stdin, one result per line on stdout.

    jobctl run images --concurrency 8 --serve python3 examples/serve-handler.py

Each input line is a job: {"id", "name", "data", "opts", "attemptsMade", "timestamp", "queue"}. Answer with
{"id": <the job's id>, "ok": true, "value": <any JSON>} to complete it, or {"id": …, "ok": false, "error": "…",
"unrecoverable": false} to fail it (unrecoverable: no further attempts). Write logs to stderr, never to stdout.
When stdin closes, exit.
"""
import json
import sys


def handle(job):
    data = job["data"] or {}
    if data.get("fail"):
        raise ValueError(f"asked to fail (attempt {job['attemptsMade'] + 1})")
    return {"double": data.get("n", 0) * 2}


for line in sys.stdin:
    job = json.loads(line)
    try:
        answer = {"id": job["id"], "ok": True, "value": handle(job)}
    except Exception as error:  # any failure fails this job only
        print(f"job {job['id']} failed: {error}", file=sys.stderr, flush=True)
        answer = {"id": job["id"], "ok": False, "error": str(error), "unrecoverable": False}
    print(json.dumps(answer), flush=True)

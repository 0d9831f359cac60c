#!/usr/bin/env python3
"""Time the commands that read failure reasons and stack traces on a queue whose failed jobs carry huge ones, for
several sizes, with this build of jobctl and optionally an older one in the same run. The work each command does
must not grow with the size beyond reading what the server sends (issue: a 5 MB reason once took `stats` 3 min).

    .venv/bin/python scripts/bench_huge_text.py --backend redis --url redis://127.0.0.1:56379/1 --jobctl PATH
        [--baseline OLD_PATH] [--baseline-commands stats] [--sizes 0,5,50] [--runs 5]
    .venv/bin/python scripts/bench_huge_text.py --backend postgres --url postgresql://... --jobctl PATH

For each size S (MB) a fresh namespace holds three jobs failed by the real Python worker; then job 1's reason is
made S MB, job 2's 20 bytes, and job 3's stack trace S MB ("0": all stay as the worker left them). Each command runs
--runs times per binary; the table shows medians in ms.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QUEUE = "huge"
REASON = "boom "  # as the bad-input corpus' 5 MB case: 200,000 words a MB
FRAME = "at handler (worker.js:17)\\n"  # 27 bytes of JSON

COMMANDS = {
    "stats": ["stats", QUEUE],
    "status --check": ["status", QUEUE, "--check", "failed_rate<50%"],
    "retry --dry-run": ["retry", QUEUE, "--failed", "--dry-run"],
    "tune": ["tune", QUEUE],
    "jobs": ["jobs", QUEUE, "--state", "failed"],
    "show (reason)": ["show", QUEUE, "1"],
    "show (stack)": ["show", QUEUE, "3"],
}


def setup_plan(backend, megabytes):
    plan = [{"op": "fail_jobs", "queue": QUEUE, "count": 3, "name": "fetch", "error": "boom"}]
    if megabytes == 0:
        return plan
    reasons = megabytes * 1_000_000 // len(REASON)
    frames = megabytes * 1_000_000 // len(FRAME)
    if backend == "redis":
        key = "{prefix}:" + QUEUE + ":"
        plan.append({"op": "raw", "redis": [
            ["HSET", key + "1", "failedReason", {"repeat": REASON, "times": reasons}],
            ["HSET", key + "3", "stacktrace", {"repeat": FRAME, "times": frames, "before": '["', "after": '"]'}],
        ]})
    else:
        plan.append({"op": "raw", "sql": [
            f"UPDATE {{schema}}.job SET failed_reason = repeat('{REASON}', {reasons}) WHERE queue = '{QUEUE}' AND id = '1'",
            f"UPDATE {{schema}}.job SET stacktrace = jsonb_build_array(repeat(E'{FRAME}', {frames})) "
            f"WHERE queue = '{QUEUE}' AND id = '3'",
        ]})
    return plan


def prepare(args, megabytes):
    """Fills a fresh namespace for this size; returns jobctl's environment for it."""
    namespace = f"bench_huge_{megabytes}mb_{os.getpid()}"
    steps = [sys.executable, os.path.join(HERE, "bullmq-steps.py"), "--backend", args.backend, "--url", args.url]
    steps += ["--prefix", namespace] if args.backend == "redis" else ["--schema", namespace]
    done = subprocess.run(steps, input=json.dumps(setup_plan(args.backend, megabytes)).encode(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"setup for {megabytes} MB failed: {done.stderr.decode()[-2000:]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBCTL_", "PG")) and k not in ("REDIS_URL", "DATABASE_URL")}
    env["JOBCTL_URL"] = args.url
    env["JOBCTL_PREFIX" if args.backend == "redis" else "JOBCTL_SCHEMA"] = namespace
    return namespace, env


def drop(args, namespace):
    if args.backend == "redis":
        import redis
        r = redis.Redis.from_url(args.url)
        for key in r.scan_iter(match=f"{namespace}:*", count=1000):
            r.unlink(key)
    else:
        import psycopg
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')


def time_runs(binary, argv, env, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([binary, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode not in (0, 2):  # status --check exits 2: every job failed
            sys.exit(f"{binary} {' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-1000:]}")
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("redis", "postgres"), default="redis")
    ap.add_argument("--url", required=True)
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--baseline", help="an older jobctl to time beside it")
    ap.add_argument("--baseline-commands", default=",".join(COMMANDS),
                    help="which commands the baseline runs (the quadratic one took minutes per run)")
    ap.add_argument("--baseline-sizes", default=None, help="sizes the baseline runs (default: all)")
    ap.add_argument("--sizes", default="0,5,50")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    baseline_commands = set(args.baseline_commands.split(","))
    baseline_sizes = set(int(s) for s in (args.baseline_sizes or args.sizes).split(","))
    print(f"# {args.backend}: median ms of {args.runs} runs; reason and stack trace of S MB on failed jobs")
    header = f"{'command':<18}" + "".join(f"{f'{s} MB':>12}" for s in sizes)
    rows = {}
    for size in sizes:
        namespace, env = prepare(args, size)
        try:
            for name, argv in COMMANDS.items():
                rows.setdefault((name, "new"), {})[size] = time_runs(args.jobctl, argv, env, args.runs)
                if args.baseline and name in baseline_commands and size in baseline_sizes:
                    rows.setdefault((name, "old"), {})[size] = time_runs(args.baseline, argv, env, args.runs)
        finally:
            drop(args, namespace)
    print(header)
    for (name, which), figures in rows.items():
        label = name if which == "new" else f"  (baseline)"
        print(f"{label:<18}" + "".join(f"{figures[s]:>12.1f}" if s in figures else f"{'-':>12}" for s in sizes))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

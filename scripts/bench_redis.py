#!/usr/bin/env python3
"""Fill one BullMQ queue with N jobs (BullMQ's layout, written server-side in batches) and time jobctl's
`stats` and `status` beside the Python bullmq client's getJobCounts, in the same run.

    .venv/bin/python scripts/bench_redis.py --url redis://127.0.0.1:56379/0 --jobctl .build/release/jobctl
"""
import argparse
import asyncio
import json
import sys
import time

import redis

from benchlib import summary, time_command, warm_counts

# Writes `count` jobs numbered from `first`: hash with BullMQ's six creation fields, placed by a state plan.
FILL = """
local base, first, count, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = first, first + count - 1 do
  local id = tostring(i)
  local slot = i % 20
  local prio = 0
  if slot >= 12 and slot < 14 then prio = (i % 5) + 1 end
  redis.call('HSET', base .. id, 'name', 'render', 'data', '{"noteId":' .. id .. ',"pages":12}',
    'opts', '{"attempts":3,"delay":0}', 'timestamp', now - (2000000 - i), 'delay', 0, 'priority', prio)
  if slot < 12 then redis.call('LPUSH', base .. 'wait', id)
  elseif slot < 14 then redis.call('ZADD', base .. 'prioritized', prio * 4294967296 + i, id)
  elseif slot < 16 then redis.call('ZADD', base .. 'delayed', (now + 3600000) * 4096 + (i % 4096), id)
  elseif slot < 19 then
    redis.call('HSET', base .. id, 'processedOn', now - 1000, 'finishedOn', now - 500, 'atm', 1, 'ats', 1, 'returnvalue', '{"ok":true}')
    redis.call('ZADD', base .. 'completed', now - 500 + (i % 1000), id)
  else
    redis.call('HSET', base .. id, 'processedOn', now - 1000, 'finishedOn', now - 500, 'atm', 3, 'ats', 3, 'failedReason', 'timeout after 30000 ms')
    redis.call('ZADD', base .. 'failed', now - 500 + (i % 1000), id)
  end
end
redis.call('HSET', base .. 'meta', 'opts.maxLenEvents', 10000)
redis.call('SET', base .. 'id', first + count - 1)
return count
"""


def fill(r, prefix, queue, total):
    base = f"{prefix}:{queue}:"
    for key in r.scan_iter(match=f"{prefix}:{queue}:*", count=10000):
        r.unlink(key)
    now = int(time.time() * 1000)
    script = r.register_script(FILL)
    batch = 20000
    for first in range(1, total + 1, batch):
        script(keys=[base], args=[first, min(batch, total - first + 1), now])
    # 100 active jobs without locks: stalled candidates for `stats` to find.
    ids = r.lrange(base + "wait", -100, -1)
    pipe = r.pipeline()
    for job_id in ids:
        pipe.lrem(base + "wait", 1, job_id)
        pipe.lpush(base + "active", job_id)
    pipe.execute()


async def python_counts(url, prefix, queue, runs):
    from bullmq import Queue
    q = Queue(queue, {"connection": url, "prefix": prefix})
    return await warm_counts(q, runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--jobctl", required=True)
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--prefix", default="bench")
    ap.add_argument("--no-fill", action="store_true")
    args = ap.parse_args()
    r = redis.from_url(args.url)
    queue = "bench-1m"
    if not args.no_fill:
        start = time.perf_counter()
        fill(r, args.prefix, queue, args.jobs)
        print(f"filled {args.jobs:,} jobs in {time.perf_counter() - start:.1f} s; dbsize {r.dbsize():,} keys", file=sys.stderr)
    env = {"JOBCTL_URL": args.url, "JOBCTL_PREFIX": args.prefix, "PATH": "/usr/bin:/bin"}
    stats, out = time_command([args.jobctl, "stats", queue, "-o", "json"], args.runs, env)
    counts = json.loads(out)["counts"]
    status, _ = time_command([args.jobctl, "status", "-o", "json"], args.runs, env)
    status_one, _ = time_command([args.jobctl, "status", queue, "-o", "json"], args.runs, env)
    py_process, _ = time_command([sys.executable, "-c",
        "import asyncio,sys; from bullmq import Queue\n"
        "async def m():\n q=Queue(sys.argv[2],{'connection':sys.argv[1],'prefix':sys.argv[3]}); print(await q.getJobCounts()); await q.close()\n"
        "asyncio.run(m())", args.url, queue, args.prefix], max(5, args.runs // 3))
    py_warm, py_counts = asyncio.run(python_counts(args.url, args.prefix, queue, args.runs))
    print(f"queue {queue}: {sum(v for v in counts.values() if v):,} jobs; jobctl counts {counts}")
    print(f"bullmq counts {py_counts}")
    print(f"jobctl stats QUEUE (whole process)            {summary(stats)}")
    print(f"jobctl status QUEUE (whole process)           {summary(status_one)}")
    print(f"jobctl status, SCAN of all {r.dbsize():,} keys    {summary(status)}")
    print(f"python bullmq getJobCounts (whole process)    {summary(py_process)}")
    print(f"python bullmq getJobCounts (warm, in-process) {summary(py_warm)}")


if __name__ == "__main__":
    main()

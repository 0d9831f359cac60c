#!/usr/bin/env bash
# Benchmark: 100,000 failed jobs retried by `jobctl retry` (release build; with and without --reason) and, in the same
# run, by the Python bullmq client's own Queue.retryJobs, on Redis (with the longest single command from SLOWLOG)
# and on PostgreSQL.
# Extra arguments go to scripts/bench_retry.py (--jobs, --runs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl --static-swift-stdlib --scratch-path .build-static >&2
jobctl="$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/jobctl"
# Redis database 1 and schema bench_retry keep the benchmark's jobs out of the tests' way.
.venv/bin/python scripts/bench_retry.py --backend redis --url "${JOBCTL_TEST_REDIS_URL%/*}/1" --jobctl "$jobctl" "$@"
.venv/bin/python scripts/bench_retry.py --backend postgres --url "$JOBCTL_TEST_POSTGRES_URL" --jobctl "$jobctl" "$@"

#!/usr/bin/env bash
# Benchmark: bulk changes of 100,000 jobs by `jobctl` (release build) beside the Python bullmq client's own bulk
# calls, in one run, on Redis and PostgreSQL: retry failed (and jobctl's retry --reason), add from a JSON Lines
# file (addBulk by 1,000), drain, clean completed and promote delayed; one table of medians, with the longest
# single Redis command (SLOWLOG) and PostgreSQL statement (server log) each side ran.
# Extra arguments go to scripts/bench_bulk.py (--jobs, --runs, --backend, --rows).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl --static-swift-stdlib --scratch-path .build-static >&2
jobctl="$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/jobctl"
# Redis database 1 and schema bench_bulk keep the benchmark's jobs out of the tests' way.
.venv/bin/python scripts/bench_bulk.py --redis-url "${JOBCTL_TEST_REDIS_URL%/*}/1" \
  --postgres-url "$JOBCTL_TEST_POSTGRES_URL" --schema bench_bulk --jobctl "$jobctl" "$@"

#!/usr/bin/env bash
# Benchmark: 1,000,000 jobs in one queue; times `jobctl stats` and `jobctl status` (release build) beside the
# Python bullmq client's getJobCounts. Extra arguments go to scripts/bench_redis.py (--jobs, --runs, --no-fill).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh start)"
scripts/venv.sh
swift build -c release --product jobctl >&2
# Database 1, so the million keys stay out of the tests' way.
.venv/bin/python scripts/bench_redis.py --url "${JOBCTL_TEST_REDIS_URL%/*}/1" --jobctl "$(swift build -c release --show-bin-path)/jobctl" "$@"

#!/usr/bin/env bash
# Benchmark: 1,000,000 jobs in one queue; times `jobctl stats` and `jobctl status` (release build) beside the
# Python bullmq client's getJobCounts. Extra arguments go to scripts/bench_redis.py (--jobs, --runs, --no-fill).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
# A static Swift runtime: about 10 ms less process start for every command (what a release ships).
swift build -c release --product jobctl --static-swift-stdlib --scratch-path .build-static >&2
# Database 1, so the million keys stay out of the tests' way.
.venv/bin/python scripts/bench_redis.py --url "${JOBCTL_TEST_REDIS_URL%/*}/1" --jobctl "$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/jobctl" "$@"

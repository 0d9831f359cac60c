#!/usr/bin/env bash
# Benchmark: no-op jobs at concurrency 100 through `jobctl run-once --noop` (release build) and, in the same run,
# through the Python bullmq client's Worker, on Redis and on PostgreSQL. Extra arguments go to
# scripts/bench_worker.py (--jobs, --runs, --concurrency).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl --static-swift-stdlib --scratch-path .build-static >&2
jobctl="$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/jobctl"
# JOBCTL_BASELINE=PATH runs an older build beside it in the same rounds.
baseline=()
if [ -n "${JOBCTL_BASELINE:-}" ]; then baseline=(--baseline "$JOBCTL_BASELINE"); fi
.venv/bin/python scripts/bench_worker.py --backend redis --url "${JOBCTL_TEST_REDIS_URL%/*}/1" --jobctl "$jobctl" "${baseline[@]}" "$@"
.venv/bin/python scripts/bench_worker.py --backend postgres --url "$JOBCTL_TEST_POSTGRES_URL" --jobctl "$jobctl" "${baseline[@]}" "$@"

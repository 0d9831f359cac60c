#!/usr/bin/env bash
# Benchmark: 1,000,000 jobs in one queue of a BullMQ Postgres schema; times `jobctl stats` and `jobctl status`
# (release build) beside the Python bullmq client's get_job_counts, and prints the query plans. Extra arguments go
# to scripts/bench_postgres.py (--jobs, --runs, --no-fill).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
# A static Swift runtime: about 10 ms less process start for every command (what a release ships).
swift build -c release --product jobctl --static-swift-stdlib --scratch-path .build-static >&2
# Schema bench, so the million rows stay out of the tests' way.
.venv/bin/python scripts/bench_postgres.py --url "$JOBCTL_TEST_POSTGRES_URL" --jobctl "$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/jobctl" "$@"

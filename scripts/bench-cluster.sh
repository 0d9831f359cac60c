#!/usr/bin/env bash
# Benchmark: jobctl (release build) on the test Redis Cluster against the same on the single test Redis, in the same
# run: no-op worker throughput on one queue and on four queues with four workers at once, and `status` over 20
# queues. Extra arguments go to scripts/bench_cluster.py (--jobs, --runs, --concurrency).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl >&2
jobctl="$(swift build -c release --show-bin-path)/jobctl"
.venv/bin/python scripts/bench_cluster.py --single "${JOBCTL_TEST_REDIS_URL%/*}/2" \
  --cluster "$JOBCTL_TEST_REDIS_CLUSTER_URL" --jobctl "$jobctl" "$@"

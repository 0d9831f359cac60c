#!/usr/bin/env bash
# Benchmark: no-op jobs through `jobctl run-once` (release build) on Redis over plain TCP and over TLS (rediss://, the
# certificate checked against the test CA), in the same run, alternating rounds; also the Python bullmq worker on
# each. Extra arguments go to scripts/bench_worker.py (--jobs, --concurrency, --no-python).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl >&2
jobctl="$(swift build -c release --show-bin-path)/jobctl"
rounds=${JOBCTL_BENCH_ROUNDS:-3}
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: plain TCP"
  .venv/bin/python scripts/bench_worker.py --backend redis --url "${JOBCTL_TEST_REDIS_URL%/*}/1" --jobctl "$jobctl" \
    --runs 1 "$@"
  echo "== round $round of $rounds: TLS"
  .venv/bin/python scripts/bench_worker.py --backend redis --url "$JOBCTL_TEST_REDIS_TLS_URL" --jobctl "$jobctl" \
    --runs 1 "$@"
done

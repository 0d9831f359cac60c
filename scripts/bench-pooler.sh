#!/usr/bin/env bash
# Benchmark: an idle `jobctl run` (release build) behind PgBouncer in transaction mode — pick-up time after an idle
# gap, polling and with --listen-url, beside a direct connection — and the statements an idle worker costs a minute,
# beside a Python bullmq Worker. Extra arguments go to scripts/bench_pooler.py (--samples, --idle-seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl >&2
jobctl="$(swift build -c release --show-bin-path)/jobctl"
.venv/bin/python scripts/bench_pooler.py --direct "$JOBCTL_TEST_POSTGRES_URL" --pooler "$JOBCTL_TEST_PGBOUNCER_URL" \
  --jobctl "$jobctl" "$@"

#!/usr/bin/env bash
# Start local Redis and Postgres, build queues in every state with the real BullMQ client on both backends, and
# show them with jobctl.
set -euo pipefail
cd "$(dirname "$0")/.."
# Redis, PostgreSQL and PgBouncer are enough here; the tests start TLS, Sentinel and Cluster servers themselves.
export JOBCTL_SERVICES=${JOBCTL_SERVICES:-basic}
. scripts/prepare.sh
swift build --product jobctl >&2
BIN=$(swift build --show-bin-path)/jobctl
# Redis database 2 and Postgres schema demo: the demo's own, apart from what the tests leave.
REDIS_DEMO_URL=${JOBCTL_TEST_REDIS_URL%/*}/2
PG_DEMO_URL=$JOBCTL_TEST_POSTGRES_URL
echo "building demo queues with bullmq $(.venv/bin/python -c 'import bullmq; print(bullmq.__version__)') ..." >&2
.venv/bin/python scripts/bullmq-fixture.py --url "$REDIS_DEMO_URL" >/dev/null
.venv/bin/python scripts/bullmq-fixture.py --backend postgres --url "$PG_DEMO_URL" --schema demo >/dev/null

echo "# BullMQ on Redis"
echo "\$ JOBCTL_URL=$REDIS_DEMO_URL jobctl status"
JOBCTL_URL=$REDIS_DEMO_URL "$BIN" status
echo
echo "\$ jobctl stats pdf-notes"
JOBCTL_URL=$REDIS_DEMO_URL "$BIN" stats pdf-notes
echo
echo "# BullMQ on PostgreSQL"
echo "\$ JOBCTL_URL=$PG_DEMO_URL jobctl status --schema demo"
JOBCTL_URL=$PG_DEMO_URL "$BIN" status --schema demo
echo
echo "\$ jobctl stats ai-notes --schema demo"
JOBCTL_URL=$PG_DEMO_URL "$BIN" stats ai-notes --schema demo
echo
echo "Try: export JOBCTL_URL=$REDIS_DEMO_URL; $BIN jobs pdf-notes --state failed; $BIN show pdf-notes 5"
echo " or: export JOBCTL_URL=$PG_DEMO_URL JOBCTL_SCHEMA=demo; $BIN show pdf-notes 9"

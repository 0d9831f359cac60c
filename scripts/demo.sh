#!/usr/bin/env bash
# Start local Redis and Postgres, build queues in every state with the real BullMQ client, and show them.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh start)"
scripts/venv.sh
swift build --product jobctl >&2
# Database 2: the demo's own, apart from what the tests leave in database 0.
export JOBCTL_URL=${JOBCTL_TEST_REDIS_URL%/*}/2
echo "building demo queues with bullmq $(.venv/bin/python -c 'import bullmq; print(bullmq.__version__)') ..." >&2
.venv/bin/python scripts/bullmq-fixture.py --url "$JOBCTL_URL" >/dev/null
BIN=$(swift build --show-bin-path)/jobctl
echo "\$ jobctl status"
"$BIN" status
echo
echo "\$ jobctl stats pdf-notes"
"$BIN" stats pdf-notes
echo
echo "Try: export JOBCTL_URL=$JOBCTL_URL; $BIN jobs pdf-notes --state failed; $BIN show pdf-notes 5"

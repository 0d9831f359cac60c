#!/usr/bin/env bash
# Run every test: unit, live (Redis, PostgreSQL, PgBouncer, Redis over TLS, behind Sentinel and as a Cluster, with the
# real Python bullmq) and end-to-end on the built binary; then the interop suites a second time with Redis over TLS.
# Starts the local services and the venv first; both are idempotent. Arguments go to both `swift test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
export JOBCTL_TEST_PYTHON=${JOBCTL_TEST_PYTHON:-$PWD/.venv/bin/python}
# Warnings are errors: the build stays free of them.
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build "$@"
# The Python client and jobctl both on rediss:// (the certificate checked against the test CA): inspection, control
# and workers. Redis cases only (no PostgreSQL URL, and CI unset so that the PostgreSQL cases are left out rather
# than failed); the first run already required every service.
echo "== the interop suites again, with Redis over TLS" >&2
env -u JOBCTL_TEST_POSTGRES_URL -u JOBCTL_TEST_PGBOUNCER_URL CI= JOBCTL_TEST_REDIS_URL="$JOBCTL_TEST_REDIS_TLS_URL" \
  swift test --skip-build --filter \
  'InteropTests|ControlCommandTests|WorkerCommandTests|AnalyticsCommandTests|WorkersCommandTests' "$@"

#!/usr/bin/env bash
# Chaos run on both backends (scripts/chaos.py): N jobs (default 10,000), three `jobctl run` workers and a Python
# bullmq worker, one random worker SIGKILLed and restarted every 2-5 s, the server restarted twice. Runs on servers of
# its own (ports 56390 and 55490, Redis with appendonly yes / appendfsync everysec), stopped at the end.
# Backend postgres-pooler: PostgreSQL with the jobctl workers going through PgBouncer in transaction mode (port
# 56491, one server connection), the Python worker and the checks direct.
# Usage: scripts/chaos.sh [--jobs N] [--restarts N] [--backend redis|postgres|postgres-pooler]
set -euo pipefail
cd "$(dirname "$0")/.."
export JOBCTL_SERVICES_DIR=${JOBCTL_CHAOS_DIR:-/tmp/jobctl-chaos-$(id -u)} JOBCTL_REDIS_PORT=56390 JOBCTL_PG_PORT=55490
export JOBCTL_PGBOUNCER_PORT=56491
# Only Redis, PostgreSQL and PgBouncer of its own: the TLS, Sentinel and Cluster servers of the tests keep their ports.
export JOBCTL_SERVICES=basic
export JOBCTL_REDIS_APPENDONLY=yes
backends=(redis postgres postgres-pooler)
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backends=("$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
trap 'scripts/services.sh stop' EXIT
. scripts/prepare.sh
jobctl=${JOBCTL_BIN:-}
if [ -z "$jobctl" ]; then
  swift build -c release --product jobctl >&2
  jobctl="$(swift build -c release --show-bin-path)/jobctl"
fi
status=0
for backend in "${backends[@]}"; do
  echo "== chaos on $backend"
  case "$backend" in
    redis) run=(--backend redis --url "$JOBCTL_TEST_REDIS_URL") ;;
    postgres) run=(--backend postgres --url "$JOBCTL_TEST_POSTGRES_URL") ;;
    postgres-pooler) run=(--backend postgres --url "$JOBCTL_TEST_POSTGRES_URL" --worker-url "$JOBCTL_TEST_PGBOUNCER_URL"
      --namespace chaos_pooler) ;;
    *) echo "unknown backend $backend" >&2; exit 64 ;;
  esac
  .venv/bin/python scripts/chaos.py "${run[@]}" --jobctl "$jobctl" "${args[@]}" || status=1
done
exit $status

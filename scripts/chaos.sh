#!/usr/bin/env bash
# Chaos run on both backends (scripts/chaos.py): N jobs (default 10,000), three `jobctl run` workers and a Python
# bullmq worker, one random worker SIGKILLed and restarted every 2-5 s, the server restarted twice. Runs on servers of
# its own (ports 56390 and 55490, Redis with appendonly yes / appendfsync everysec), stopped at the end.
# Usage: scripts/chaos.sh [--jobs N] [--restarts N] [--backend redis|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
export JOBCTL_SERVICES_DIR=${JOBCTL_CHAOS_DIR:-/tmp/jobctl-chaos-$(id -u)} JOBCTL_REDIS_PORT=56390 JOBCTL_PG_PORT=55490
export JOBCTL_REDIS_APPENDONLY=yes
backends=(redis postgres)
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
  url=$([ "$backend" = redis ] && echo "$JOBCTL_TEST_REDIS_URL" || echo "$JOBCTL_TEST_POSTGRES_URL")
  echo "== chaos on $backend"
  .venv/bin/python scripts/chaos.py --backend "$backend" --url "$url" --jobctl "$jobctl" "${args[@]}" || status=1
done
exit $status

#!/usr/bin/env bash
# Benchmark: commands that read failure reasons and stack traces, on failed jobs whose reason and stack trace are
# 0, 5 and 50 MB, on Redis and PostgreSQL (release build). JOBCTL_BASELINE=PATH times an older build beside it.
# Extra arguments go to scripts/bench_huge_text.py (--sizes, --runs, --baseline-commands, --baseline-sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
swift build -c release --product jobctl >&2
jobctl="$(swift build -c release --show-bin-path)/jobctl"
baseline=()
if [ -n "${JOBCTL_BASELINE:-}" ]; then baseline=(--baseline "$JOBCTL_BASELINE"); fi
for backend in redis postgres; do
  url=$JOBCTL_TEST_POSTGRES_URL
  [ "$backend" = redis ] && url=${JOBCTL_TEST_REDIS_URL%/*}/1
  .venv/bin/python scripts/bench_huge_text.py --backend "$backend" --url "$url" --jobctl "$jobctl" "${baseline[@]}" "$@"
done

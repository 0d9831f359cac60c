#!/usr/bin/env bash
# Create (or reuse) .venv with the pinned PyPI bullmq, used for fixtures and interop tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
BULLMQ_VERSION=3.4.4
if [ -x .venv/bin/python ] && .venv/bin/python -c "import bullmq, psycopg, prometheus_client, sys; sys.exit(bullmq.__version__ != '$BULLMQ_VERSION')" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv
# prometheus_client: its parser checks `-o prometheus` in the tests.
.venv/bin/pip install --quiet --disable-pip-version-check "bullmq[postgres]==$BULLMQ_VERSION" "prometheus_client==0.21.1"
.venv/bin/python -c "import bullmq; print('bullmq', bullmq.__version__, 'in .venv')" >&2

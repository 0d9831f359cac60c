#!/usr/bin/env bash
# Run every test: unit, live (Redis, with the real Python bullmq) and end-to-end on the built binary.
# Starts the local services and the venv first; both are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prepare.sh
export JOBCTL_TEST_PYTHON=${JOBCTL_TEST_PYTHON:-$PWD/.venv/bin/python}
# Warnings are errors: the build stays free of them.
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build "$@"

#!/usr/bin/env bash
# Format the Swift sources with the repository's .swift-format (120 columns, no force unwraps or force tries,
# ordered imports, one-line doc summaries); `--check` changes nothing and fails on any file that is not formatted
# or breaks a rule (CI). RedisScripts.swift is left as scripts/generate-lua.py writes it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.swift' |
  grep -v '^Sources/RedisBackend/RedisScripts.swift$')
if [ "${1:-}" = --check ]; then
  swift format lint --strict --configuration .swift-format "${files[@]}"
else
  swift format format -i --configuration .swift-format "${files[@]}"
fi

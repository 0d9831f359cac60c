#!/usr/bin/env bash
# Regenerate completions/ and man/ from the ArgumentParser definitions.
#   scripts/generate-docs.sh          write them
#   scripts/generate-docs.sh --check  fail if the committed files are stale
set -euo pipefail
cd "$(dirname "$0")/.."
# A constant, bumped at release: a date from the clock would make the check fail every day.
MAN_DATE=2026-11-23

swift build --product jobctl >&2
BIN=$(swift build --show-bin-path)/jobctl
mkdir -p completions man
"$BIN" --generate-completion-script bash > completions/jobctl.bash
"$BIN" --generate-completion-script zsh > completions/_jobctl
"$BIN" --generate-completion-script fish > completions/jobctl.fish
# The plugin does not clean its output folder: clear it so no stale page survives.
OUT=.build/plugins/GenerateManual/outputs/jobctl
rm -rf "$OUT"
swift package --allow-writing-to-package-directory generate-manual --configuration debug --date "$MAN_DATE" \
  --authors 'jobctl maintainers' >&2
[ -f "$OUT/jobctl.1" ] || { echo "generate-manual wrote no page in $OUT" >&2; exit 1; }
rm -f man/*.1
cp "$OUT"/*.1 man/

if [ "${1:-}" = "--check" ]; then
  if ! git diff --exit-code --stat -- completions man || [ -n "$(git ls-files --others --exclude-standard -- completions man)" ]; then
    echo "completions/ or man/ are stale: run scripts/generate-docs.sh and commit the result" >&2
    exit 1
  fi
fi

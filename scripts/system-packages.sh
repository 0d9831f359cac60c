#!/usr/bin/env bash
# Install the Debian packages that the build, the demo and the tests need, if any is missing. The one list of them.
#   scripts/system-packages.sh           install what is missing (as root with apt-get, else through `sudo -n`)
#   scripts/system-packages.sh --list    print the list
# Without root and without a password-less sudo it stops at once and prints the one command to run.
set -euo pipefail

PACKAGES=(redis-server redis-tools libhiredis-dev libssl-dev libpq-dev postgresql pgbouncer openssl pkg-config python3-venv)

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)
  [ "${status:0:2}" = ii ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get update && sudo ${command[*]}" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${command[@]}" >/dev/null

#!/usr/bin/env bash
# The package's size against an empty Tauri 2 window's package built the same way (same
# tauri version and lock file, same tauri-cli, the same `deb` profile of
# scripts/package.sh, the same bundler), side by side in one run: the .deb's size, the
# Installed-Size apt shows, and what each file takes once installed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

keyport=$(bash scripts/package.sh | tail -n 1)
empty_dir=$(bash scripts/empty-tauri.sh)
empty=$(bash scripts/package.sh --app "$empty_dir" | tail -n 1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
row() { # $1 label, $2 .deb
  local bytes installed
  bytes=$(stat -c %s "$2")
  installed=$(dpkg-deb -f "$2" Installed-Size)
  awk -v l="$1" -v b="$bytes" -v i="$installed" \
    'BEGIN { printf "| %s | %.2f MiB (%d bytes) | %.2f MiB (%d KiB) |\n", l, b / 1048576, b, i / 1024, i }'
}
echo "| package | .deb | Installed-Size |"
echo "|---|---:|---:|"
row "empty Tauri 2 window ($(basename "$empty"))" "$empty"
row "Keyport ($(basename "$keyport"))" "$keyport"
awk -v kb="$(stat -c %s "$keyport")" -v eb="$(stat -c %s "$empty")" \
  -v ki="$(dpkg-deb -f "$keyport" Installed-Size)" -v ei="$(dpkg-deb -f "$empty" Installed-Size)" \
  'BEGIN { printf "\nKeyport / empty: .deb %.2f×, installed %.2f× (target: at most 1.5×)\n", kb / eb, ki / ei }'

for d in "$empty" "$keyport"; do
  echo
  echo "$(basename "$d"), installed:"
  dpkg-deb -x "$d" "$work/$(basename "$d")"
  (cd "$work/$(basename "$d")" && find . -type f -printf '%s\t%p\n' | sort -rn |
    awk -F'\t' '{ printf "  %10d  %s\n", $1, substr($2, 2) }')
done

#!/usr/bin/env bash
# The window at rest against an empty Tauri 2 window, side by side in one run:
# PSS summed over each app and its WebKit child processes (from /proc/PID/smaps_rollup)
# after both have settled, median of 3 alternating rounds. The empty window is generated
# into a temporary folder by scripts/empty-tauri.sh (same tauri version as Keyport's
# Cargo.lock) and built in release.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
SETTLE=${SETTLE:-10}

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  cargo build --release -p keyport-app -p keyport-cli
  empty=$(bash scripts/empty-tauri.sh)
  (cd "$empty" && cargo build --release)
  export EMPTY_BIN="$empty/target/release/empty-tauri" KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

pss_tree() { # PSS in KiB of a process and all its descendants
  local pids=("$1") all=() p
  while [ "${#pids[@]}" -gt 0 ]; do
    p=${pids[0]}; pids=("${pids[@]:1}"); all+=("$p")
    mapfile -t kids < <(ps -o pid= --ppid "$p" | tr -d ' ')
    pids+=("${kids[@]}")
  done
  for p in "${all[@]}"; do awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '{s+=$1} END{print s+0}'
}

work=$(mktemp -d)
export KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-bench-window-$$"
printf 'token-%s\n' "$RANDOM$RANDOM$RANDOM" | target/release/keyport add xentral --name shop --base-url https://acme.xentral.biz >/dev/null 2>&1
printf 'token-%s\n' "$RANDOM$RANDOM$RANDOM" | target/release/keyport add machship --name freight >/dev/null 2>&1

measure() { # $1 = binary; prints PSS in KiB after SETTLE seconds
  "$1" >/dev/null 2>&1 & local pid=$!
  sleep "$SETTLE"
  pss_tree "$pid"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  sleep 1
}

keyport=(); empty=()
for _ in 1 2 3; do
  empty+=("$(measure "$EMPTY_BIN")")
  keyport+=("$(measure "$ROOT/target/release/keyport-app")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
e=$(median "${empty[@]}"); k=$(median "${keyport[@]}")
echo "empty Tauri 2 window: ${empty[*]} KiB (median $e)"
echo "Keyport window:       ${keyport[*]} KiB (median $k)"
awk -v k="$k" -v e="$e" 'BEGIN{printf "Keyport / empty: %.3f (goal: at most 1.15)\n", k/e}'
secret-tool clear service "$KEYPORT_KEYCHAIN_SERVICE" 2>/dev/null || true
rm -rf "$work"

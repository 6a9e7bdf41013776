#!/usr/bin/env bash
# The window, side by side in one run (release builds, under scripts/with-session.sh):
#  1. memory at rest: PSS summed over each app and its WebKit child processes (from
#     /proc/PID/smaps_rollup) after SETTLE seconds, median of ROUNDS alternating rounds, of
#     an empty Tauri 2 window as Tauri ships it, the same empty window with Keyport's WebKit
#     setting (WEBKIT_DISABLE_COMPOSITING_MODE=1), Keyport with 2 connections and Keyport
#     with 1,000 connections across 50 clients. The empty window is generated into a
#     temporary folder by scripts/empty-tauri.sh (same tauri version as Keyport's
#     Cargo.lock) and built in release.
#  2. the window's own timings with 2 and with 1,000 connections (examples/bench_window_ui:
#     the front end's `window.__keyport.perf` through tauri-driver): the list render after
#     its data arrived, a search keystroke's repaint, the app's start to the list shown.
# Connections are seeded by examples/seed_window through the real CLI: admin-issued tokens
# from the mock vendor's admin screen, and every 100th an OAuth sign-in (MYOB or OIDC).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
SETTLE=${SETTLE:-10}
ROUNDS=${ROUNDS:-3}
MANY=${MANY:-1000}
# PROFILE=debug measures the debug builds instead (the front end's own timings do not
# depend on it; memory and start-up do, so figures from it are marked as such).
PROFILE=${PROFILE:-release}
flag=--release; [ "$PROFILE" = release ] || flag=

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  if [ -f scripts/ui.sh ]; then bash scripts/ui.sh; fi # the front end into ui/dist
  cargo build $flag -p keyport-app -p keyport-cli -p keyport-mock
  cargo build $flag -p keyport-e2e --example seed_window --example bench_window_ui
  if [ -z "${EMPTY_BIN:-}" ] && [ -z "${SKIP_EMPTY:-}" ]; then
    empty=$(bash scripts/empty-tauri.sh)
    (cd "$empty" && cargo build --release)
    export EMPTY_BIN="$empty/target/release/empty-tauri"
  fi
  export KEYPORT_BENCH_INNER=1
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
# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
rel="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE"
export KEYPORT_BIN="$rel/keyport" KEYPORT_APP_BIN="$rel/keyport-app" MOCK_BIN="$rel/keyport-mock"
start_mock
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  kill "$mock" 2>/dev/null || true
  for p in two many; do secret-tool clear service "keyport-bench-window-$$-$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

profile() { # $1 = two|many: the environment of that profile's Keyport
  echo "KEYPORT_CONFIG_DIR=$work/$1" "KEYPORT_KEYCHAIN_SERVICE=keyport-bench-window-$$-$1"
}
seed() { # $1 = profile, then seed_window's arguments
  local p=$1; shift
  # shellcheck disable=SC2046 # the profile's words
  env $(profile "$p") "$rel/examples/seed_window" --mock "$base" "$@" >/dev/null
}
seed two --count 2 --clients 1
seed many --count "$MANY" --clients 50 --oauth-every 100

measure() { # $1 = profile or "-", then the command; prints PSS in KiB after SETTLE seconds
  local p=$1; shift
  local vars=()
  [ "$p" = - ] || read -r -a vars <<<"$(profile "$p")"
  env "${vars[@]}" "$@" >/dev/null 2>&1 & local pid=$!
  sleep "$SETTLE"
  pss_tree "$pid"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  sleep 1
}

empty=(); plain=(); two=(); many=()
# TIMINGS_ONLY=1 skips the memory rounds.
for _ in $(seq "$([ -n "${TIMINGS_ONLY:-}" ] && echo 0 || echo "$ROUNDS")"); do
  if [ -n "${EMPTY_BIN:-}" ]; then # SKIP_EMPTY=1: Keyport's own figures only
    empty+=("$(measure - "$EMPTY_BIN")")
    plain+=("$(measure - env WEBKIT_DISABLE_COMPOSITING_MODE=1 "$EMPTY_BIN")")
  fi
  two+=("$(measure two "$KEYPORT_APP_BIN")")
  many+=("$(measure many "$KEYPORT_APP_BIN")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)] + 0}'; }
if [ -z "${TIMINGS_ONLY:-}" ]; then
e=$(median "${empty[@]}"); pl=$(median "${plain[@]}"); k=$(median "${two[@]}"); m=$(median "${many[@]}")
echo "empty Tauri 2 window (as shipped):        ${empty[*]} KiB (median $e)"
echo "empty Tauri 2 window (compositing off):   ${plain[*]} KiB (median $pl)"
echo "Keyport window, 2 connections:            ${two[*]} KiB (median $k)"
echo "Keyport window, $MANY connections:        ${many[*]} KiB (median $m)"
awk -v k="$k" -v e="$e" -v p="$pl" -v m="$m" 'BEGIN{
  if (e > 0) printf "Keyport (2) / empty as shipped: %.3f\n", k/e
  if (p > 0) printf "Keyport (2) / empty, same WebKit setting: %.3f (goal: at most 1.10)\n", k/p
  printf "Keyport (many) / Keyport (2): %.3f (goal: at most 1.10)\n", m/k }'
fi

for p in two many; do
  echo "window timings, profile $p:"
  # shellcheck disable=SC2046 # the profile's words
  env $(profile "$p") "$rel/examples/bench_window_ui" --rounds "$ROUNDS"
done

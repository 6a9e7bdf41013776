#!/usr/bin/env bash
# The project's test command: installs dependencies, checks formatting, builds the
# whole workspace (desktop app included) and runs every test inside a throwaway
# desktop session (D-Bus + gnome-keyring + Xvfb); then builds the Debian package,
# installs it into this machine, tries the installed programs and purges it
# (scripts/package-test.sh). Between the two, scripts/windows.sh builds Keyport for
# Windows and tries it under Wine. Fails if any part fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '\n[test] %s\n' "$*" >&2; }
# What the build has taken so far and what the disk has left: a CI machine's disk can be
# small, and a run that fills it should say where the space went.
disk() {
  local target=${CARGO_TARGET_DIR:-$ROOT/target}
  [ -d "$target" ] || mkdir -p "$target"
  printf '[test] disk after %s: target %s, %s free\n' "$1" \
    "$(du -sh "$target" 2>/dev/null | cut -f1)" "$(df -h --output=avail "$target" | tail -1 | tr -d ' ')" >&2
}
# A one-off run (CI) has no later build to speed up: incremental state would only take disk.
# And a target dir kept from earlier runs holds every old build beside the new one: with
# less than NEED_GB free, a CI run clears those builds first (the whole run needs ~7 GB
# under target/, plus the packages it installs).
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
  target=${CARGO_TARGET_DIR:-$ROOT/target}
  free=$(df --output=avail -BG "$(dirname "$target")" | tail -1 | tr -dc 0-9)
  if [ -d "$target" ] && [ "${free:-0}" -lt "${NEED_GB:-15}" ]; then
    log "only ${free} GB free: clearing the builds kept in $target"
    rm -rf "$target"/debug "$target"/deb "$target"/release "$target"/windows/debug \
      "$target"/windows/x86_64-pc-windows-gnu
  fi
fi

log "dependencies"
bash "$ROOT/scripts/deps.sh" --package
disk "dependencies"

log "cargo fmt --check"
if ! cargo fmt --all -- --check; then
  log "error: code is not formatted; run 'cargo fmt --all' and commit the result"
  exit 1
fi

# The window's front end first: keyport-app embeds ui/dist; its unit tests (Vitest) here.
log "the front end: npm ci, tsc, vite build, vitest (scripts/ui.sh --test)"
bash "$ROOT/scripts/ui.sh" --test

log "cargo build --workspace --all-targets"
cargo build --workspace --all-targets
disk "the build"

log "cargo test --workspace --all-targets (inside scripts/with-session.sh)"
tests=0
bash "$ROOT/scripts/with-session.sh" \
  cargo test --workspace --all-targets --no-fail-fast -- --test-threads=2 || tests=$?
disk "the tests"

# Keyport for Windows: built with Debian's rustc-web for x86_64-pc-windows-gnu, its engine
# unit tests and CLI end-to-end tests (tests/e2e windows::) run under Wine
# (scripts/windows.sh; KEYPORT_SKIP_WINDOWS=1 leaves it out).
windows=0
if [ -z "${KEYPORT_SKIP_WINDOWS:-}" ]; then
  log "Windows: build and try under Wine (scripts/windows.sh test)"
  bash "$ROOT/scripts/windows.sh" test || windows=$?
  disk "the Windows tests"
fi
if [ "$windows" -ne 0 ]; then log "(the Windows tests failed with exit $windows)"; fi

# Last, so its closing line (`package: N passed, N failed`) ends the run's output.
log "the package: build, install, try, purge (scripts/package-test.sh)"
package=0
if [ "$tests" -ne 0 ]; then log "(cargo test failed with exit $tests; the package is tried all the same)"; fi
bash "$ROOT/scripts/package-test.sh" || package=$?
if [ "$tests" -ne 0 ]; then exit "$tests"; fi
if [ "$windows" -ne 0 ]; then exit "$windows"; fi
exit "$package"

#!/usr/bin/env bash
# The project's test command: installs dependencies, checks formatting, builds the
# whole workspace (desktop app included) and runs every test inside a throwaway
# desktop session (D-Bus + gnome-keyring + Xvfb); then builds the Debian package,
# installs it into this machine, tries the installed programs and purges it
# (scripts/package-test.sh). Fails if either part fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '\n[test] %s\n' "$*" >&2; }

log "dependencies"
bash "$ROOT/scripts/deps.sh" --package

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

log "cargo test --workspace --all-targets (inside scripts/with-session.sh)"
tests=0
bash "$ROOT/scripts/with-session.sh" \
  cargo test --workspace --all-targets --no-fail-fast -- --test-threads=2 || tests=$?

# Last, so its closing line (`package: N passed, N failed`) ends the run's output.
log "the package: build, install, try, purge (scripts/package-test.sh)"
package=0
if [ "$tests" -ne 0 ]; then log "(cargo test failed with exit $tests; the package is tried all the same)"; fi
bash "$ROOT/scripts/package-test.sh" || package=$?
if [ "$tests" -ne 0 ]; then exit "$tests"; fi
exit "$package"

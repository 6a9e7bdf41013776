#!/usr/bin/env bash
# The project's test command: installs dependencies, checks formatting, builds the
# whole workspace (desktop app included) and runs every test inside a throwaway
# desktop session (D-Bus + gnome-keyring + Xvfb). Exit code is cargo test's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '\n[test] %s\n' "$*" >&2; }

log "dependencies"
bash "$ROOT/scripts/deps.sh"

log "cargo fmt --check"
if ! cargo fmt --all -- --check; then
  log "error: code is not formatted; run 'cargo fmt --all' and commit the result"
  exit 1
fi

log "cargo build --workspace --all-targets"
cargo build --workspace --all-targets

log "cargo test --workspace --all-targets (inside scripts/with-session.sh)"
exec bash "$ROOT/scripts/with-session.sh" \
  cargo test --workspace --all-targets --no-fail-fast -- --test-threads=2

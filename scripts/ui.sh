#!/usr/bin/env bash
# Builds the window's front end (ui/: TypeScript + Vite) into ui/dist, which
# `cargo build -p keyport-app` embeds (src-tauri/build.rs stops on a missing or stale
# dist). Installs the npm packages from the lockfile first (`npm ci`) when they are missing
# or older than the lockfile. `--test` also runs the front end's unit tests (Vitest).
# Nothing is fetched at run time: the built window is plain files inside the binary.
set -euo pipefail
cd "$(dirname "$0")/../ui"
log() { printf '[ui] %s\n' "$*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
  log "npm not found: run scripts/deps.sh (it installs Node.js 20 or newer)"
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "tsc --noEmit && vite build → ui/dist"
npm run --silent build
if [ "${1:-}" = --test ]; then
  log "vitest run"
  npm run --silent test
fi

#!/usr/bin/env bash
# The project's run command: installs dependencies and starts the Keyport desktop
# app (release build). Extra arguments go to the app.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

bash "$ROOT/scripts/deps.sh"
bash "$ROOT/scripts/ui.sh"
exec cargo run --release -p keyport-app -- "$@"

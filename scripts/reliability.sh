#!/usr/bin/env bash
# The long runs behind RELIABILITY.md, against the built binaries and the mock vendor, all
# traffic on 127.0.0.1: the interruption trials (kill -9, SIGTERM, SIGINT, SIGHUP in turn
# at random moments of rotating refreshes) with a large count. The test suite runs the
# same tests with small counts.
#
# Usage: bash scripts/reliability.sh [TRIALS]   (default 400: 100 of each signal)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
trials=${1:-400}
cargo build -p keyport-cli --bin keyport
export KEYPORT_KILL_TRIALS="$trials"
echo "interruption trials: $trials (kill -9, SIGTERM, SIGINT, SIGHUP in turn; half 'token', half 'refresh')"
exec bash scripts/with-session.sh \
  cargo test -p keyport-e2e --test e2e -- cli::interrupted_refreshes_lose_no_rotated_token --exact --nocapture

#!/usr/bin/env bash
# The long runs behind RELIABILITY.md, against the built binaries and the mock vendor, all
# traffic on 127.0.0.1: the interruption trials (kill -9, SIGTERM, SIGINT, SIGHUP in turn
# at random moments of rotating refreshes) with a large count. The test suite runs the
# same tests with small counts. Then fifty concurrent `keyport token` calls on an expired
# token, round after round. Last, a measurement rather than a check: the refresh helper
# itself killed with kill -9 at random moments (release build), which marks the one window
# no design closes (the vendor has rotated, the keychain does not have it yet).
#
# Usage: bash scripts/reliability.sh [TRIALS] [ROUNDS] [HELPER_TRIALS]
#   (defaults: 400 trials, 100 of each signal; 10 rounds of 50 callers; 1000 helper kills)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
trials=${1:-400}
rounds=${2:-10}
helper_trials=${3:-1000}
cargo build -p keyport-cli --bin keyport
cargo build --release -p keyport-cli --bin keyport
export KEYPORT_KILL_TRIALS="$trials" KEYPORT_CONCURRENT_ROUNDS="$rounds" KEYPORT_HELPER_TRIALS="$helper_trials"
echo "interruption trials: $trials (kill -9, SIGTERM, SIGINT, SIGHUP in turn; half 'token', half 'refresh')"
echo "concurrent rounds: $rounds × 50 'keyport token' on an expired token"
echo "helper kills: $helper_trials (kill -9 of the refresh helper itself, release build)"
exec bash scripts/with-session.sh bash -c '
  set -e
  cargo test -p keyport-e2e --test e2e -- --exact \
    cli::interrupted_refreshes_lose_no_rotated_token \
    cli::fifty_concurrent_token_calls_refresh_once_per_round
  KEYPORT_BIN="$PWD/target/release/keyport" cargo test -p keyport-e2e --test e2e -- \
    --exact cli::measure_the_refresh_helpers_kill_window --ignored --nocapture'


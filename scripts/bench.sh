#!/usr/bin/env bash
# Measures what BENCHMARKS.md records, side by side in one run, on this machine:
#   1. `keyport token NAME` for a valid token vs `secret-tool lookup` of a secret of the
#      same size (the keychain floor), and with the agent answering from memory;
#   2. callback received → tokens stored, against the mock vendor on loopback.
# The window's memory and start-up figures come from scripts/bench-window.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v hyperfine >/dev/null || bash scripts/deps.sh

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  cargo build --release -p keyport-cli --bin keyport
  cargo build --release -p keyport-e2e --example bench_connect
  export KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

work=$(mktemp -d)
trap 'kill ${agent:-} 2>/dev/null || true; secret-tool clear service "$KEYPORT_KEYCHAIN_SERVICE" 2>/dev/null || true; rm -rf "$work"' EXIT
export KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-bench-$$"
kp="$ROOT/target/release/keyport"
token="bench-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
printf '%s\n' "$token" | "$kp" add machship --name bench >/dev/null
printf '%s' "{\"access_token\":\"$token\"}" | secret-tool store --label=floor service "keyport-floor-$$" username bench
[ "$("$kp" token bench)" = "$token" ] || { echo "keyport token returned the wrong token" >&2; exit 1; }

echo "## keyport token (valid token), side by side"
hyperfine -N --warmup 10 --runs 200 \
  "$kp token bench" \
  "secret-tool lookup service keyport-floor-$$ username bench" \
  --export-markdown "$work/token.md" >/dev/null
cat "$work/token.md"

"$kp" agent 2>/dev/null & agent=$!
for _ in $(seq 50); do [ -S "$KEYPORT_CONFIG_DIR/agent.sock" ] && break; sleep 0.1; done
echo
echo "## keyport token with the agent running"
hyperfine -N --warmup 10 --runs 300 "$kp token bench" --export-markdown "$work/agent.md" >/dev/null
cat "$work/agent.md"
kill "$agent"; agent=
secret-tool clear service "keyport-floor-$$"

echo
echo "## callback received → tokens stored"
"$ROOT/target/release/examples/bench_connect"

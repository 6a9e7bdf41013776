#!/usr/bin/env bash
# Whether the command line keeps its speed as connections grow, side by side in ONE
# hyperfine run: two profiles (config folder + keychain namespace) seeded with admin-issued
# connections — 2 and 1,000 (`seed` example: one keychain session, one metadata write) —
# and in each `keyport token NAME` read from the keychain (no agent) and `keyport list`.
# Also `secret-tool lookup` in each namespace: the keychain's own cost of 1,000 items.
# Figures go to BENCHMARKS.md. Usage: bash scripts/bench-scale.sh [COUNT]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v hyperfine >/dev/null; then bash scripts/deps.sh; fi
count=${1:-1000}

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  cargo build --release -p keyport-cli --bin keyport
  cargo build --release -p keyport-mock --bin keyport-mock
  cargo build --release -p keyport-e2e --example seed
  export KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}" "$@"
fi

die() { echo "bench: $*" >&2; exit 1; }
work=$(mktemp -d)
mock=
small="$work/small" large="$work/large"
small_ns="keyport-bench-small-$$" large_ns="keyport-bench-large-$$"
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  if [ -n "$mock" ]; then kill "$mock" 2>/dev/null || true; fi
  for ns in "$small_ns" "$large_ns"; do secret-tool clear service "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
release_on_path
start_mock

# The vendor is the bench's choice (an admin-issued one whose token is the only secret).
vendor=machship api="$base/machship/apiv2"
export BENCH_TOKEN="bench-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
seed() { # DIR NAMESPACE COUNT
  env KEYPORT_CONFIG_DIR="$1" KEYPORT_KEYCHAIN_SERVICE="$2" "$ROOT/target/release/examples/seed" \
    --count "$3" --clients 8 --vendor "$vendor" --base-url "$api" --token-env BENCH_TOKEN
}
seed "$small" "$small_ns" 2
seed "$large" "$large_ns" "$count"
# The same name in both: the first connection, and one from the middle of the large one.
mid=$(printf 'c%04d' $(((count + 1) / 2)))
in_small=(env "KEYPORT_CONFIG_DIR=$small" "KEYPORT_KEYCHAIN_SERVICE=$small_ns")
in_large=(env "KEYPORT_CONFIG_DIR=$large" "KEYPORT_KEYCHAIN_SERVICE=$large_ns")
[ "$("${in_small[@]}" keyport token c0001)" = "$BENCH_TOKEN" ] || die "token (2) is wrong"
[ "$("${in_large[@]}" keyport token "$mid")" = "$BENCH_TOKEN" ] || die "token ($count) is wrong"
n=$("${in_large[@]}" keyport list --json | grep -c '"name":' || true)
[ "$n" -eq "$count" ] || die "keyport list shows $n connections, not $count"
echo "metadata file with $count connections: $(wc -c <"$large/connections.json") bytes" >&2

runs=${RUNS:-300}
hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/scale.csv" \
  -n token-2 "${in_small[*]} keyport token c0001" \
  -n token-n "${in_large[*]} keyport token $mid" \
  -n list-2 "${in_small[*]} keyport list" \
  -n list-n "${in_large[*]} keyport list" \
  -n lookup-2 "env secret-tool lookup service $small_ns username c0001" \
  -n lookup-n "env secret-tool lookup service $large_ns username $mid" >/dev/null

echo "## keyport token NAME from the keychain (no agent): 2 vs $count connections (one hyperfine run, $runs runs each)"
table "$work/scale.csv" "token-2 token-n" \
  "\`keyport token c0001\` (2 connections)|\`keyport token $mid\` ($count connections)"
echo
echo "## keyport list: 2 vs $count connections (same run)"
table "$work/scale.csv" "list-2 list-n" \
  "\`keyport list\` (2 connections)|\`keyport list\` ($count connections)"
echo
echo "## the keychain's own lookup: secret-tool, 2 vs $count items (same run)"
table "$work/scale.csv" "lookup-2 lookup-n" \
  "\`secret-tool lookup\` (2 items)|\`secret-tool lookup\` ($count items)"

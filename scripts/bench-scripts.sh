#!/usr/bin/env bash
# Measures the "tokens straight into scripts" figures of BENCHMARKS.md, side by side in ONE
# hyperfine run, against the mock vendor on loopback (an admin-issued MachShip connection,
# whose cheap read is POST /authenticate/ping):
#   - `keyport exec NAME -- true` with the agent running, beside
#     `sh -c 'T=$(keyport token NAME); exec true'` and `/bin/true`;
#   - `keyport api NAME PATH` beside curl with the same headers read from a file;
#   - the same request through `keyport proxy` beside it sent straight to the mock.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v hyperfine >/dev/null || ! command -v curl >/dev/null; then bash scripts/deps.sh; fi

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  cargo build --release -p keyport-cli --bin keyport
  cargo build --release -p keyport-mock --bin keyport-mock
  export KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

die() { echo "bench: $*" >&2; exit 1; }
work=$(mktemp -d)
agent= mock= proxy=
export KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-bench-$$"
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  for pid in "$agent" "$proxy" "$mock"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  secret-tool clear service "$KEYPORT_KEYCHAIN_SERVICE" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
release_on_path
start_mock

# A MachShip token the mock issued, added (and tried) as a user would.
token=$(curl -fsS "$base/_mock/issue" -H 'Content-Type: application/json' -d '{"vendor":"machship"}' |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "the mock issued no token"
printf '%s\n' "$token" | keyport add machship --name bench --base-url "$base/machship/apiv2" >/dev/null
url="$base/machship/apiv2/authenticate/ping"
keyport headers bench >"$work/headers"

keyport agent 2>/dev/null &
agent=$!
for _ in $(seq 50); do [ -S "$KEYPORT_CONFIG_DIR/agent.sock" ] && break; sleep 0.1; done
[ -S "$KEYPORT_CONFIG_DIR/agent.sock" ] || die "keyport agent did not start"

keyport proxy bench >"$work/proxy.url" 2>"$work/proxy.log" &
proxy=$!
for _ in $(seq 50); do [ -s "$work/proxy.url" ] && break; sleep 0.1; done
purl=$(head -n1 "$work/proxy.url")
[ -n "$purl" ] || die "keyport proxy printed no URL: $(cat "$work/proxy.log")"

# Every command is checked once before it is timed.
[ "$(keyport exec bench -- sh -c 'printf %s "$KEYPORT_TOKEN"')" = "$token" ] || die "exec gave the wrong token"
keyport api bench /authenticate/ping -X POST | grep -q '"object":true' || die "keyport api failed"
curl -fsS -X POST -H @"$work/headers" "$url" | grep -q '"object":true' || die "curl failed"
curl -fsS -X POST "${purl}authenticate/ping" | grep -q '"object":true' || die "the proxy failed"

runs=200
hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/scripts.csv" \
  -n exec "env keyport exec bench -- true" \
  -n sh-token "sh -c 'T=\$(keyport token bench); exec true'" \
  -n true "env /bin/true" \
  -n api "env keyport api bench /authenticate/ping -X POST" \
  -n curl "curl -sS -o /dev/null -X POST -H @$work/headers $url" \
  -n proxy "curl -sS -o /dev/null -X POST ${purl}authenticate/ping" >/dev/null

echo "## exec with the agent running (one hyperfine run, $runs runs each)"
table "$work/scripts.csv" "exec sh-token true" \
  "\`keyport exec bench -- true\`|\`sh -c 'T=\$(keyport token bench); exec true'\`|\`/bin/true\`"
echo
echo "## a request: keyport api vs curl with the headers from a file (same run)"
table "$work/scripts.csv" "api curl" "\`keyport api bench /authenticate/ping -X POST\`|\`curl -X POST -H @headers URL\`"
echo
echo "## through keyport proxy vs straight to the vendor (same run)"
table "$work/scripts.csv" "proxy curl" "\`curl -X POST http://127.0.0.1:P/KEY/authenticate/ping\`|\`curl -X POST -H @headers URL\`"

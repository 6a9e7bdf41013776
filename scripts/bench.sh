#!/usr/bin/env bash
# Measures what BENCHMARKS.md records, side by side in one run, on this machine:
#   1. `keyport token NAME` for a valid token, in ONE hyperfine run, every command through
#      `env`: answered by the agent vs `oidc-token` (oidc-agent, Debian's `oidc-agent`
#      package, with a token from the mock vendor's OIDC provider); reading the keychain
#      (no agent) vs `secret-tool lookup` of a secret of the same size (the keychain floor);
#      and `keyport --version` vs `oidc-token --version` vs `/bin/true` (process start-up);
#   2. callback received → tokens stored, against the mock vendor on loopback.
# The window's memory and start-up figures come from scripts/bench-window.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v hyperfine >/dev/null || ! command -v curl >/dev/null; then bash scripts/deps.sh; fi

if [ -z "${KEYPORT_BENCH_INNER:-}" ]; then
  if ! command -v oidc-gen >/dev/null || ! command -v oidc-token >/dev/null; then
    as_root() {
      if [ "$(id -u)" -eq 0 ] || ! command -v sudo >/dev/null; then "$@"; else sudo "$@"; fi
    }
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show oidc-agent >/dev/null 2>&1 || as_root apt-get update
    as_root apt-get install -y --no-install-recommends oidc-agent
  fi
  cargo build --release -p keyport-cli --bin keyport
  cargo build --release -p keyport-mock --bin keyport-mock
  cargo build --release -p keyport-e2e --example bench_connect
  export KEYPORT_BENCH_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

die() { echo "bench: $*" >&2; exit 1; }
random() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }

work=$(mktemp -d)
agent= mock= floor="keyport-floor-$$"
# Two Keyport folders with the same connection: one served by `keyport agent`, one
# without an agent (so `keyport token` reads the keychain) — both measured in one run.
export KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-bench-$$"
kc_dir="$work/keyport-keychain" kc_service="keyport-bench-keychain-$$"
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  for pid in "$agent" "${OIDCD_PID:-}" "$mock"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  for service in "$KEYPORT_KEYCHAIN_SERVICE" "$kc_service" "$floor"; do
    secret-tool clear service "$service" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# `env keyport …` finds the release build first.
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
release_on_path

# --- the mock vendor (its OIDC provider issues oidc-agent's tokens) ----------------
start_mock

# --- keyport: the same token in both folders, the floor entry of the same size -----
token="bench-$(random 40)"
printf '%s\n' "$token" | keyport add machship --name bench >/dev/null
printf '%s\n' "$token" | env KEYPORT_CONFIG_DIR="$kc_dir" KEYPORT_KEYCHAIN_SERVICE="$kc_service" \
  keyport add machship --name bench >/dev/null
printf '%s' "{\"access_token\":\"$token\"}" | secret-tool store --label=floor service "$floor" username bench
keyport agent 2>/dev/null &
agent=$!
for _ in $(seq 50); do [ -S "$KEYPORT_CONFIG_DIR/agent.sock" ] && break; sleep 0.1; done
[ -S "$KEYPORT_CONFIG_DIR/agent.sock" ] || die "keyport agent did not open $KEYPORT_CONFIG_DIR/agent.sock"
keychain_token=(env "KEYPORT_CONFIG_DIR=$kc_dir" "KEYPORT_KEYCHAIN_SERVICE=$kc_service" keyport token bench)
[ "$(keyport token bench)" = "$token" ] || die "keyport token (agent) returned the wrong token"
[ "$("${keychain_token[@]}")" = "$token" ] || die "keyport token (keychain) returned the wrong token"

# --- oidc-agent: an account on the mock's OIDC issuer, set up without prompts ------
issuer="$base/oidc"
client=keyport-bench client_secret="secret-$(random 24)"
# oidc-gen takes only http://localhost:PORT[/…] redirect URIs; the flow below never follows it.
redirect=http://localhost:4242/
curl -fsS "$base/_mock/clients" -H 'Content-Type: application/json' \
  -d "{\"vendor\":\"oidc\",\"client_id\":\"$client\",\"client_secret\":\"$client_secret\",\"redirect_uris\":[\"$redirect\"]}" >/dev/null
# The consent page's Allow button, played by curl: the answer redirects with the code.
landed=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$issuer/decide" \
  --data-urlencode "client_id=$client" --data-urlencode "redirect_uri=$redirect" \
  -d response_type=code --data-urlencode 'scope=openid offline_access' -d state=bench -d decision=allow)
code=$(printf '%s\n' "$landed" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
[ -n "$code" ] || die "the mock's consent gave no code: $landed"
refresh_token=$(curl -fsS "$issuer/token" -u "$client:$client_secret" -d grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect" |
  sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')
[ -n "$refresh_token" ] || die "the mock's token endpoint gave no refresh token"

# Account files go to this bench's folder, not ~/.config/oidc-agent.
export OIDC_CONFIG_DIR="$work/oidc-agent"
mkdir -m 700 "$OIDC_CONFIG_DIR"
# Daemonizes and prints OIDC_SOCK and OIDCD_PID exports. The socket goes in $work: killed
# with a signal, the agent leaves its socket behind (only `oidc-agent -k` removes it).
eval "$(oidc-agent --quiet --socket-path="$work/oidc-agent.sock")"
if [ -z "${OIDCD_PID:-}" ] || [ ! -S "${OIDC_SOCK:-}" ]; then die "oidc-agent did not start"; fi
# --rt-env: oidc-gen's refresh flow with this refresh token (no browser); --pw-env: the
# account file's encryption password; --prompt=none: fail rather than ask.
if ! OIDC_REFRESH_TOKEN="$refresh_token" OIDC_ENCRYPTION_PW="$(random 24)" timeout 60 \
  oidc-gen bench --issuer="$issuer" --client-id="$client" --client-secret="$client_secret" \
  --redirect-uri="$redirect" --scope='openid offline_access' --rt-env --pw-env \
  --prompt=none --confirm-default </dev/null >"$work/oidc-gen.log" 2>&1; then
  die "oidc-gen failed: $(cat "$work/oidc-gen.log")"
fi
oidc_token=$(oidc-token bench) || die "oidc-token failed"
case "$oidc_token" in oidc-at-*) ;; *) die "oidc-token printed '$oidc_token', not a token of the mock" ;; esac
curl -fsS -H "Authorization: Bearer $oidc_token" "$issuer/userinfo" >/dev/null ||
  die "the mock's userinfo refused oidc-token's access token"
echo "oidc-token bench: ${oidc_token:0:14}… issued by $issuer (accepted by its userinfo)" >&2

# --- one hyperfine run, every command through env ------------------------------------
runs=300
hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/token.csv" \
  -n agent "env keyport token bench" \
  -n oidc "env oidc-token bench" \
  -n keychain "${keychain_token[*]}" \
  -n floor "env secret-tool lookup service $floor username bench" \
  -n version "env keyport --version" \
  -n oidc-version "env oidc-token --version" \
  -n true "env /bin/true" >/dev/null

echo "## token from memory: keyport's agent vs oidc-agent (one hyperfine run, $runs runs each)"
table "$work/token.csv" "agent oidc" \
  "\`env keyport token bench\` (agent running)|\`env oidc-token bench\` (oidc-agent running)"
echo
echo "## token from the keychain: keyport vs secret-tool (same run)"
table "$work/token.csv" "keychain floor" \
  "\`env keyport token bench\` (no agent: keychain read)|\`env secret-tool lookup …\` (the keychain floor)"
echo
echo "## process start-up (same run)"
table "$work/token.csv" "version oidc-version true" \
  "\`env keyport --version\`|\`env oidc-token --version\`|\`env /bin/true\`"

for pid in "$agent" "$OIDCD_PID" "$mock"; do kill "$pid" 2>/dev/null || true; done
agent= OIDCD_PID= mock=
secret-tool clear service "$floor"

echo
echo "## callback received → tokens stored"
"$ROOT/target/release/examples/bench_connect"

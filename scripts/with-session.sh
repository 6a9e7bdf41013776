#!/usr/bin/env bash
# Runs CMD inside a throwaway desktop session:
#   - a fresh D-Bus session bus (dbus-run-session),
#   - gnome-keyring-daemon (Secret Service) with an unlocked `login` collection
#     kept in a temporary directory,
#   - an Xvfb display (DISPLAY exported).
# The caller's HOME, CARGO_HOME and RUSTUP_HOME are left untouched; only the
# keyring daemon sees the temporary HOME. CMD's exit code is this script's.
#
# Usage: scripts/with-session.sh CMD [ARGS...]
set -euo pipefail

log() { printf '[with-session] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"

for tool in dbus-run-session gnome-keyring-daemon secret-tool Xvfb; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/deps.sh first"
done

# Stage 1: re-enter this script inside a private session bus.
if [ -z "${KEYPORT_WITH_SESSION_INNER:-}" ]; then
  export KEYPORT_WITH_SESSION_INNER=1
  exec dbus-run-session -- bash "${BASH_SOURCE[0]}" "$@"
fi
unset KEYPORT_WITH_SESSION_INNER

# Stage 2: we are on the new bus.
SESSION_DIR=$(mktemp -d "${TMPDIR:-/tmp}/keyport-session.XXXXXX")
XVFB_PID=
KEYRING_PID=

# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  if [ -n "$KEYRING_PID" ]; then kill "$KEYRING_PID" 2>/dev/null || true; fi
  rm -rf "$SESSION_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Secret Service -----------------------------------------------------------
mkdir -p "$SESSION_DIR/home" "$SESSION_DIR/data"
mkdir -m 700 "$SESSION_DIR/run"
# --unlock reads the password from stdin and creates the login keyring if needed.
keyring_env=$(printf 'keyport-test' | env HOME="$SESSION_DIR/home" \
  XDG_DATA_HOME="$SESSION_DIR/data" XDG_RUNTIME_DIR="$SESSION_DIR/run" \
  gnome-keyring-daemon --unlock --components=secrets) ||
  die "gnome-keyring-daemon failed to start"
while IFS= read -r line; do
  case "$line" in *=*) export "${line?}" ;; esac
done <<<"$keyring_env"

KEYRING_PID=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
  /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
  string:org.freedesktop.secrets 2>/dev/null | awk '{print $NF}') || KEYRING_PID=

probe="probe-$$-$RANDOM"
printf 'ok' | timeout 20 secret-tool store --label='keyport probe' \
  service keyport-session-probe username "$probe" ||
  die "Secret Service store failed (gnome-keyring login collection not usable)"
got=$(timeout 20 secret-tool lookup service keyport-session-probe username "$probe") ||
  die "Secret Service lookup failed"
[ "$got" = ok ] || die "Secret Service returned '$got' instead of the stored probe"
timeout 20 secret-tool clear service keyport-session-probe username "$probe" ||
  die "Secret Service clear failed"

# --- X display ----------------------------------------------------------------
display=
for n in $(seq 99 160); do
  [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] && continue
  ready="$SESSION_DIR/xvfb-$n"
  : >"$ready"
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -displayfd 3 3>"$ready" \
    >"$SESSION_DIR/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do
    if [ -s "$ready" ]; then display=":$n"; break; fi
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$display" ] && break
  kill "$XVFB_PID" 2>/dev/null || true
  XVFB_PID=
done
[ -n "$display" ] || die "could not start Xvfb: $(tail -n 5 "$SESSION_DIR/xvfb.log" 2>/dev/null)"
export DISPLAY="$display"
# Services the bus starts on demand (portals, a11y) should see the display too.
dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true

log "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS DISPLAY=$DISPLAY keyring=ok"

rc=0
"$@" || rc=$?
exit "$rc"

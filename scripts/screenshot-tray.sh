#!/usr/bin/env bash
# Takes docs/screenshots/tray-menu.png: Keyport's tray menu open, under Xvfb.
#
# How: Debian 12 packages no StatusNotifierItem host that runs bare under Xvfb, so the
# tray is `trayer`, a small XEmbed system tray. With no StatusNotifierWatcher on the bus,
# libayatana-appindicator (Tauri's tray on Linux) shows the icon through its XEmbed
# fallback, and a click on it pops up the app's own GTK menu, the same menu a
# StatusNotifierItem host reads over D-Bus. xdotool clicks the icon; ImageMagick's
# `import` takes the picture. Three connections against no vendor: an admin-issued token
# that expires in three days, one that expired two days ago, and one that is fine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
out="$ROOT/docs/screenshots/tray-menu.png"

if [ -z "${KEYPORT_SHOT_INNER:-}" ]; then
  if ! command -v trayer >/dev/null || ! command -v xdotool >/dev/null || ! command -v import >/dev/null ||
    ! import -version 2>/dev/null | grep -q ImageMagick; then
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show trayer >/dev/null 2>&1 || as_root apt-get update
    as_root apt-get install -y --no-install-recommends trayer xdotool imagemagick
  fi
  cargo build -p keyport-app -p keyport-cli
  export KEYPORT_SHOT_INNER=1
  exec bash scripts/with-session.sh bash "${BASH_SOURCE[0]}"
fi

work=$(mktemp -d)
export HOME="$work/home" KEYPORT_CONFIG_DIR="$work/keyport" KEYPORT_KEYCHAIN_SERVICE="keyport-shot-$$"
mkdir -p "$HOME"
pids=()
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  secret-tool clear service "$KEYPORT_KEYCHAIN_SERVICE" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

kp() { "$ROOT/target/debug/keyport" "$@" >/dev/null 2>&1; }
printf 'shot-token-%s\n' "$RANDOM$RANDOM" | kp add xentral --name shop \
  --base-url https://acme.xentral.biz --expires "$(date -u -d '+3 days' +%F)"
printf 'shot-token-%s\n' "$RANDOM$RANDOM" | kp add o4 --name orders \
  --base-url https://erp.example.com --test-path /api/orderstatus --expires "$(date -u -d '-2 days' +%F)"
printf 'shot-token-%s\n' "$RANDOM$RANDOM" | kp add machship --name freight

# A desktop-coloured background, the tray at the top right, then Keyport.
convert -size 1280x800 gradient:'#5d6f86'-'#2e3846' "$work/bg.png"
display -window root "$work/bg.png" || true # sets the background; exits 1 all the same
trayer --edge top --align right --widthtype request --height 28 --tint 0x20262e \
  --transparent false --SetDockType true >/dev/null 2>&1 &
pids+=($!)
sleep 1
"$ROOT/target/debug/keyport-app" >"$work/app.log" 2>&1 &
pids+=($!)

# The tray icon: the app's small embedded window (not its 10×10 leader window).
icon=
for _ in $(seq 100); do
  icon=$(xdotool search --name '^keyport-app$' 2>/dev/null | while read -r w; do
    g=$(xdotool getwindowgeometry "$w" | sed -n 's/.*Geometry: //p')
    [ "$g" != 10x10 ] && echo "$w"
  done | head -n 1 || true)
  [ -n "$icon" ] && break
  sleep 0.1
done
[ -n "$icon" ] || { echo "no tray icon appeared: $(cat "$work/app.log")" >&2; exit 1; }
sleep 4 # the list and the tray menu are filled in
xdotool mousemove --window "$icon" 12 13 click 1
sleep 2
import -window root "$work/root.png"
cp "$work/root.png" "$out"
echo "wrote $out"

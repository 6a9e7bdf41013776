#!/usr/bin/env bash
# Builds Keyport's Linux packages with the Tauri bundler (tauri-cli, pinned in
# scripts/deps.sh):
#   <target>/deb/bundle/deb/keyport_<version>_<arch>.deb    the window (keyport-app), the CLI
#                                                           (keyport), a desktop entry, the icon
#   <target>/deb/bundle/rpm/Keyport-<version>-1.<arch>.rpm  the same files; built alongside
#                                                           (it costs a second), not tried here
# Both binaries are release builds with their symbols stripped, as Debian's own packages
# are: the `deb` profile (release + strip) is defined here through the environment, so
# target/release and the workspace's profiles are left alone.
#
# Then it checks what the bundler wrote: name, version (the workspace's), the files, and
# that Depends covers every shared library the two binaries link (dpkg-shlibdeps), with
# at least the versions they need. The .deb's path is the last line printed.
#
# Usage: bash scripts/package.sh             Keyport's packages
#        bash scripts/package.sh --app DIR   another Tauri app's .deb, built the same way
#                                            (scripts/bench-package.sh: the empty window)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# The profile both packages are built with.
export CARGO_PROFILE_DEB_INHERITS=release CARGO_PROFILE_DEB_STRIP=symbols
# tauri-cli asks nothing and prints no colour codes into CI logs.
export CI=true

log() { printf '[package] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# What building needs (a fast no-op once there), tauri-cli included.
bash scripts/deps.sh --package >&2
pin=$(sed -n 's/^TAURI_CLI_VERSION=//p' scripts/deps.sh)
[ -n "$pin" ] || die "scripts/deps.sh pins no TAURI_CLI_VERSION"
[ "$(cargo tauri --version 2>/dev/null)" = "tauri-cli $pin" ] || die "tauri-cli $pin is not installed"

if [ "${1:-}" = "--app" ]; then
  app=$(cd "${2:?usage: package.sh --app DIR}" && pwd)
  rm -rf "$app/target/deb/bundle"
  (cd "$app" && cargo tauri build --bundles deb --ci -- --profile deb) >&2
  ls "$app"/target/deb/bundle/deb/*.deb
  exit 0
fi

target=${CARGO_TARGET_DIR:-$ROOT/target}
case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac
out="$target/deb/bundle"
version=$(awk -F'"' '/^\[workspace\.package\]/{w=1; next} /^\[/{w=0} w && /^version *=/{print $2; exit}' Cargo.toml)
[ -n "$version" ] || die "no [workspace.package] version in Cargo.toml"

# --- build: the front end (embedded into the window), the CLI (the bundler copies it
# in), then the window and the bundles ---
log "the front end (scripts/ui.sh)"
bash scripts/ui.sh >&2
log "cargo build --profile deb -p keyport-cli"
cargo build --profile deb -p keyport-cli --bin keyport
config=()
if [ "$target" != "$ROOT/target" ]; then
  # tauri.conf.json maps /usr/bin/keyport to ../target/deb/keyport; follow CARGO_TARGET_DIR.
  files="{\"/usr/bin/keyport\": \"$target/deb/keyport\"}"
  config=(--config "{\"bundle\":{\"linux\":{\"deb\":{\"files\":$files},\"rpm\":{\"files\":$files}}}}")
fi
rm -rf "$out"
log "cargo tauri build --bundles deb,rpm (tauri-cli $pin)"
(cd src-tauri && cargo tauri build --bundles deb,rpm --ci "${config[@]}" -- --profile deb) >&2

# The bundler names the file after the product (Keyport_…); Debian's name is the package's.
built=("$out"/deb/*.deb)
if [ "${#built[@]}" -ne 1 ] || [ ! -f "${built[0]}" ]; then
  die "expected one .deb in $out/deb, found: ${built[*]}"
fi
arch=$(dpkg-deb -f "${built[0]}" Architecture)
deb="$out/deb/keyport_${version}_${arch}.deb"
[ "${built[0]}" = "$deb" ] || mv "${built[0]}" "$deb"

# --- what the bundler wrote ---------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = keyport ] || die "Package is '$(field Package)', not keyport"
[ "$(field Version)" = "$version" ] || die "Version is '$(field Version)', the workspace's is $version"
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./||')
for f in usr/bin/keyport usr/bin/keyport-app usr/share/applications/Keyport.desktop; do
  grep -qx "$f" <<<"$contents" || die "$f is missing from the package"
done
grep -q '^usr/share/icons/hicolor/.*/apps/keyport-app\.png$' <<<"$contents" || die "no icon in the package"

# Every library the binaries need must be in Depends, at least at the version they need.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
mkdir -p "$work/debian"
printf 'Source: keyport\n\nPackage: keyport\nArchitecture: any\n' >"$work/debian/control"
needed=$(cd "$work" && dpkg-shlibdeps -O -e root/usr/bin/keyport-app -e root/usr/bin/keyport 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$needed" ] || die "dpkg-shlibdeps found no libraries"
declared=$(field Depends | tr ',' '\n' | sed 's/^ *//')
missing=()
while IFS= read -r clause; do
  name=${clause%% *}
  want=$(sed -n 's/.*(>= \(.*\)).*/\1/p' <<<"$clause")
  ok=
  while IFS= read -r have; do
    [ "${have%% *}" = "$name" ] || continue
    if [ -z "$want" ]; then ok=1; break; fi
    got=$(sed -n 's/.*(>= \(.*\)).*/\1/p' <<<"$have")
    if [ -n "$got" ] && dpkg --compare-versions "$got" ge "$want"; then ok=1; break; fi
  done <<<"$declared"
  [ -n "$ok" ] || missing+=("$clause")
done < <(tr ',' '\n' <<<"$needed" | sed 's/^ *//')
if [ "${#missing[@]}" -gt 0 ]; then
  die "Depends lacks what the binaries link: $(IFS=,; echo "${missing[*]}") — add it to bundle.linux.deb.depends in tauri.conf.json"
fi

log "Depends: $(field Depends)"
log "Recommends: $(field Recommends)"
log "$(basename "$deb"): $(stat -c %s "$deb") bytes, Installed-Size $(field Installed-Size) KiB"
for rpm in "$out"/rpm/*.rpm; do [ -f "$rpm" ] && log "$(basename "$rpm"): $(stat -c %s "$rpm") bytes"; done
echo "$deb"

#!/usr/bin/env bash
# Writes an empty Tauri 2 app into DIR (default /tmp/keyport-empty-tauri): the tauri
# version and dependency versions of Keyport's Cargo.lock, a 900×640 window showing an
# empty page, Keyport's release profile and icon, and a Debian bundle target. The yardstick of
# scripts/bench-window.sh (memory) and scripts/bench-package.sh (package size).
# Prints DIR. Usage: bash scripts/empty-tauri.sh [DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
empty=${1:-${EMPTY_TAURI_DIR:-/tmp/keyport-empty-tauri}}
tauri_version=$(awk '/^name = "tauri"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$ROOT/Cargo.lock")
[ -n "$tauri_version" ] || { echo "empty-tauri: no tauri in $ROOT/Cargo.lock" >&2; exit 1; }
mkdir -p "$empty/src" "$empty/ui" "$empty/icons"
cat >"$empty/Cargo.toml" <<TOML
[package]
name = "empty-tauri"
version = "0.1.0"
edition = "2021"
[build-dependencies]
tauri-build = "2"
[dependencies]
tauri = { version = "=$tauri_version", features = ["custom-protocol"] }
[profile.release]
lto = "thin"
codegen-units = 4
strip = "debuginfo"
TOML
echo 'fn main() { tauri_build::build() }' >"$empty/build.rs"
printf '%s\n' 'fn main() { tauri::Builder::default().run(tauri::generate_context!()).expect("runs"); }' >"$empty/src/main.rs"
echo '<!doctype html><title>empty</title>' >"$empty/ui/index.html"
cp "$ROOT/src-tauri/icons/icon.png" "$empty/icons/icon.png"
# Keyport's lock file: the dependencies they share resolve to the same versions (cargo
# drops the rest on the first build).
cp "$ROOT/Cargo.lock" "$empty/Cargo.lock"
cat >"$empty/tauri.conf.json" <<JSON
{ "productName": "empty", "version": "0.1.0", "identifier": "dev.keyport.empty",
  "build": { "frontendDist": "ui" },
  "app": { "windows": [ { "title": "empty", "width": 900, "height": 640 } ] },
  "bundle": { "active": true, "targets": ["deb"], "icon": ["icons/icon.png"],
    "shortDescription": "An empty Tauri 2 window (Keyport's yardstick)" } }
JSON
echo "$empty"

#!/usr/bin/env bash
# Keyport for Windows, built and tried on Debian 12 with Debian's packages alone:
# rustc-web/cargo-web/rust-web-src 1.96 (bookworm-security) with -Zbuild-std, linked by
# mingw-w64, run by Wine 8.0.
#
#   scripts/windows.sh install   the packages (apt, idempotent; a fast no-op when present)
#   scripts/windows.sh build     keyport.exe and the engine's unit tests (.exe)
#   scripts/windows.sh test      install + build, then under Wine: the engine's unit
#                                tests, and the CLI end-to-end tests (tests/e2e windows::)
#                                driving `wine keyport.exe` against the native mock vendor
#   scripts/windows.sh app       keyport-app.exe, and the NSIS installer when Tauri's
#                                bundler runs here (see the README's Windows section)
#   scripts/windows.sh env       prints the variables, for `eval` and a cargo of your own
#
# Everything lands under target/windows (the std build is cached there: a re-run only
# builds what changed). Debian's cargo sits behind rustup's on the PATH, so it is called
# by its full path with a CARGO_HOME of its own.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TRIPLE=x86_64-pc-windows-gnu
OUT="${CARGO_TARGET_DIR:-$ROOT/target}/windows"
EXE_DIR="$OUT/$TRIPLE/debug"

log() { printf '[windows] %s\n' "$*" >&2; }

PACKAGES=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64 nsis)

install() {
  local missing=() pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "all Windows build packages present"
    return
  fi
  log "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Another apt may hold the lock for a while (scripts/deps.sh): wait for it.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
}

# The toolchain's variables: Debian's cargo and rustc, the mingw linker, and the C
# compiler and archiver for crates with C parts (ring).
setup_env() {
  export CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
  export CARGO_HOME="$OUT/cargo-home"
  export CARGO_TARGET_DIR="$OUT"
  export RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
  export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
  export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
  export WINEPREFIX="$OUT/wineprefix"
  export WINEDEBUG=-all
  # Rustup's proxies must not stand in for Debian's toolchain.
  unset RUSTUP_TOOLCHAIN
}

wcargo() {
  /usr/bin/cargo "$1" -Zbuild-std=std,panic_abort --target "$TRIPLE" "${@:2}"
}

timed() {
  local what=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  log "$what: $((SECONDS - start)) s$([ "$rc" -eq 0 ] || echo " (failed, exit $rc)")"
  return "$rc"
}

build() {
  setup_env
  mkdir -p "$OUT"
  timed "keyport.exe" wcargo build -p keyport-cli --locked
  timed "the engine's unit tests" wcargo test -p keyport-engine --locked --no-run
}

# A fresh prefix, once, with the test-only ProcessPrng stand-in (Wine 8.0 lacks
# bcryptprimitives.dll; see scripts/windows/processprng.c).
prefix() {
  setup_env
  local dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  if [ ! -f "$dll" ]; then
    log "a new WINEPREFIX at $WINEPREFIX"
    wineboot -i >/dev/null 2>&1 || true
    wineserver -w || true
    mkdir -p "$(dirname "$dll")"
  fi
  if [ ! -f "$dll" ] || [ "$ROOT/scripts/windows/processprng.c" -nt "$dll" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$ROOT/scripts/windows/processprng.c" -lbcrypt
    log "test-only ProcessPrng stand-in: $dll"
  fi
  # Wine's services (wineserver, winedevice) keep the standard handles of the program that
  # started them, for as long as they run: a test reading a program's output to its end
  # would wait on them (forever while an agent keeps them up). Started here, persistent
  # and with no handles of anyone's, they serve every test; test_all stops them.
  wineserver -p </dev/null >/dev/null 2>&1 || true
  wine wineboot </dev/null >/dev/null 2>&1 || true
}

test_all() {
  install
  build
  prefix
  local rc=0
  log "the engine's unit tests under Wine"
  timed "engine tests under Wine" wcargo test -p keyport-engine --locked -- --test-threads=2 || rc=$?
  log "the CLI end-to-end tests under Wine (tests/e2e windows::)"
  local exe="$EXE_DIR/keyport.exe"
  # The harness is a Linux program: the host's cargo and target dir. `--workspace` resolves
  # features as the Linux test run did, so the harness it built is reused, not built again.
  (
    unset CARGO RUSTC RUSTDOC CARGO_HOME RUSTC_BOOTSTRAP
    export CARGO_TARGET_DIR="${OUT%/windows}"
    export KEYPORT_WINDOWS_EXE="$exe"
    export PATH="$HOME/.cargo/bin:$PATH"
    timed "e2e windows:: under Wine" \
      cargo test --workspace --test e2e -- windows:: --test-threads=1
  ) || rc=$?
  wineserver -k 2>/dev/null || true
  return "$rc"
}

app() {
  install
  setup_env
  timed "keyport-app.exe" wcargo build -p keyport-app --locked
}

case "${1:-test}" in
install) install ;;
build) install && build ;;
prefix) prefix ;;
test) test_all ;;
app) app ;;
env)
  setup_env
  env | grep -E '^(CARGO|RUSTC|RUSTDOC|RUSTC_BOOTSTRAP|CC_x86|AR_x86|WINE)' | sed 's/^/export /'
  ;;
*)
  echo "usage: $0 [install|build|prefix|test|app|env]" >&2
  exit 2
  ;;
esac

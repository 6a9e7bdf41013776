#!/usr/bin/env bash
# The Debian package end to end on this machine, as a person gets it (scripts/test.sh runs
# it after the test suite; it enters scripts/with-session.sh by itself):
#   - builds it with scripts/package.sh and checks what the package says about itself;
#   - installs it into this machine with `apt-get install ./keyport_*.deb` (root, or sudo);
#   - tries the installed programs (tests/e2e/tests/installed.rs, run with
#     KEYPORT_INSTALLED=1): `keyport --version` from the PATH, the CLI connected to the mock
#     vendor with the real keychain, the desktop entry's program under Xvfb read through
#     tauri-driver, with its tray menu, close-to-tray, Start at login, Pause agent and Quit;
#   - purges it: every file `dpkg -L` listed is gone, and a connection the installed CLI
#     made (its keychain entry and metadata file) is left exactly as it was.
# Ends with one line: `package: N passed, N failed`. Refuses to run where a keyport package
# is already installed (it would replace and then purge it).
#
# The checks are functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317,SC2329
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if [ -z "${KEYPORT_PACKAGE_TEST_INNER:-}" ]; then
  # The closing line is printed here, after the session has ended, so that nothing the
  # session's teardown prints comes after it.
  export KEYPORT_PACKAGE_TEST_INNER=1 KEYPORT_PACKAGE_TEST_SUMMARY
  KEYPORT_PACKAGE_TEST_SUMMARY=$(mktemp)
  bash scripts/with-session.sh bash "${BASH_SOURCE[0]}" "$@"
  rc=$?
  summary=$(cat "$KEYPORT_PACKAGE_TEST_SUMMARY")
  rm -f "$KEYPORT_PACKAGE_TEST_SUMMARY"
  echo "${summary:-package: 0 passed, 1 failed}"
  [ -n "$summary" ] || rc=1
  exit "$rc"
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' keyport 2>/dev/null)" = installed ]; }

passed=0 failed=0
started=$(date +%s)
check() { # $1 = what; the rest = the command
  local what=$1
  shift
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf '[package-test] ok   %s (%ds)\n' "$what" $((SECONDS - t0))
  else
    failed=$((failed + 1))
    printf '[package-test] FAIL %s (%ds)\n' "$what" $((SECONDS - t0))
  fi
}
finish() {
  printf '[package-test] %d s in all\n' $(($(date +%s) - started))
  local line="package: $passed passed, $failed failed"
  if [ -n "${KEYPORT_PACKAGE_TEST_SUMMARY:-}" ]; then
    echo "$line" >"$KEYPORT_PACKAGE_TEST_SUMMARY"
  else
    echo "$line"
  fi
  [ "$failed" -eq 0 ]
  exit
}
say() { printf '[package-test]      %s\n' "$*" >&2; }

if installed; then
  say "a keyport package is already installed here; remove it first (apt-get purge keyport)"
  failed=1
  finish
fi

work=$(mktemp -d)
# The "person's" own Keyport folder and keychain namespace, made with the installed CLI.
user_dir="$work/user-keyport" user_service="keyport-package-test-$$"
cleanup() {
  if installed; then as_root apt-get purge -y keyport >/dev/null 2>&1 || true; fi
  secret-tool clear service "$user_service" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. build ------------------------------------------------------------------------------
build() {
  bash scripts/package.sh >"$work/package.out" 2>"$work/package.log" || {
    tail -n 30 "$work/package.log" >&2
    return 1
  }
  deb=$(tail -n 1 "$work/package.out")
  [ -f "$deb" ]
}
check "the package builds with the Tauri bundler (scripts/package.sh)" build
[ "$failed" -eq 0 ] || finish
say "$(basename "$deb"): $(stat -c %s "$deb") bytes, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"

# --- 2. what the package says ---------------------------------------------------------------
control() {
  local version depends recommends entry
  version=$(awk -F'"' '/^\[workspace\.package\]/{w=1; next} /^\[/{w=0} w && /^version *=/{print $2; exit}' Cargo.toml)
  [ "$(dpkg-deb -f "$deb" Package)" = keyport ] || { say "Package: $(dpkg-deb -f "$deb" Package)"; return 1; }
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || { say "Version is not the workspace's $version"; return 1; }
  depends=$(dpkg-deb -f "$deb" Depends)
  for need in libwebkit2gtk-4.1-0 libgtk-3-0 libayatana-appindicator3-1 'default-dbus-session-bus | dbus-session-bus'; do
    grep -qF "$need" <<<"$depends" || { say "Depends lacks $need: $depends"; return 1; }
  done
  recommends=$(dpkg-deb -f "$deb" Recommends)
  grep -qF 'gnome-keyring' <<<"$recommends" || { say "Recommends lacks a Secret Service: $recommends"; return 1; }
  dpkg-deb -f "$deb" Description | grep -q 'API tokens' || { say "Description: $(dpkg-deb -f "$deb" Description)"; return 1; }
  entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO usr/share/applications/Keyport.desktop) || return 1
  for line in 'Exec=keyport-app' 'Icon=keyport-app' 'Name=Keyport' 'Type=Application'; do
    grep -qx "$line" <<<"$entry" || { say "the desktop entry lacks $line:"$'\n'"$entry"; return 1; }
  done
}
check "name, version, Depends, Recommends, description and desktop entry" control

# --- 3. install ----------------------------------------------------------------------------
apt_install() {
  (cd "$(dirname "$deb")" &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "./$(basename "$deb")") \
    >>"$work/install.log" 2>&1
}
install() {
  # A dependency to fetch with stale package lists: update them and try once more.
  apt_install || { as_root apt-get update >>"$work/install.log" 2>&1 && apt_install; } ||
    { tail -n 20 "$work/install.log" >&2; return 1; }
  installed || return 1
  dpkg -L keyport >"$work/files"
  for f in /usr/bin/keyport /usr/bin/keyport-app /usr/share/applications/Keyport.desktop; do
    grep -qx "$f" "$work/files" || { say "dpkg -L keyport lacks $f"; return 1; }
  done
  grep -q '^/usr/share/icons/hicolor/.*/keyport-app\.png$' "$work/files" || { say "no icon installed"; return 1; }
  [ "$(command -v keyport)" = /usr/bin/keyport ] || { say "keyport on the PATH is $(command -v keyport)"; return 1; }
  say "installed: $(while IFS= read -r p; do [ -f "$p" ] && printf '%s ' "$p"; done <"$work/files")"
}
check "apt-get install ./$(basename "$deb") puts keyport, keyport-app, the entry and the icon in place" install
installed || finish

# --- 4. the installed programs, tried ------------------------------------------------------
# Each of tests/e2e/tests/installed.rs's tests counts as one check.
t0=$SECONDS
KEYPORT_INSTALLED=1 KEYPORT_BIN=/usr/bin/keyport KEYPORT_APP_BIN=/usr/bin/keyport-app \
  cargo test -p keyport-e2e --test e2e -- --ignored installed:: --test-threads=1 \
  >"$work/tries.log" 2>&1
rc=$?
while read -r _ name _ result; do
  if [ "$result" = ok ]; then
    passed=$((passed + 1))
    printf '[package-test] ok   %s\n' "$name"
  else
    failed=$((failed + 1))
    printf '[package-test] FAIL %s\n' "$name"
  fi
done < <(grep -E '^test installed::[a-z_]+ \.\.\. ' "$work/tries.log")
ran=$(grep -cE '^test installed::[a-z_]+ \.\.\. ' "$work/tries.log")
if [ "$rc" -ne 0 ] || [ "$ran" -lt 3 ]; then
  [ "$ran" -ge 3 ] || failed=$((failed + 1))
  sed -n '/^failures:/,$p' "$work/tries.log" | head -n 80 >&2
  [ "$ran" -gt 0 ] || tail -n 30 "$work/tries.log" >&2
fi
say "the installed programs: $ran tests in $((SECONDS - t0)) s (e2e installed::, KEYPORT_INSTALLED=1)"

# --- 5. a person's connection, made with the installed CLI, then removal --------------------
user_token="package-test-token-$RANDOM$RANDOM"
before_meta=
user_connection() {
  printf '%s\n' "$user_token" |
    env KEYPORT_CONFIG_DIR="$user_dir" KEYPORT_KEYCHAIN_SERVICE="$user_service" \
      keyport add machship --name kept >/dev/null || return 1
  secret-tool lookup service "$user_service" username kept | grep -qF "$user_token" || return 1
  before_meta=$(find "$user_dir" -type f -exec sha256sum {} + | sort)
  [ -n "$before_meta" ]
}
check "the installed keyport keeps a connection of the person's" user_connection

purge() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y keyport >"$work/purge.log" 2>&1 ||
    { tail -n 20 "$work/purge.log" >&2; return 1; }
  ! installed || return 1
  dpkg-query -W keyport >/dev/null 2>&1 && { say "dpkg still knows keyport"; return 1; }
  local left=0 path owners
  while IFS= read -r path; do
    [ "$path" = /. ] && continue
    [ -e "$path" ] || [ -L "$path" ] || continue
    if [ -d "$path" ] && [ ! -L "$path" ]; then
      # A folder stays only when other packages own it too.
      owners=$(dpkg-query -S "$path" 2>/dev/null | head -n 1)
      [ -n "$owners" ] && continue
    fi
    say "left behind: $path"
    left=$((left + 1))
  done <"$work/files"
  ls /var/lib/dpkg/info/keyport.* >/dev/null 2>&1 && { say "dpkg's keyport.* files remain"; left=$((left + 1)); }
  [ "$left" -eq 0 ] && [ ! -e /usr/bin/keyport ] && [ ! -e /usr/bin/keyport-app ]
}
check "apt-get purge keyport removes every file dpkg -L listed" purge

user_data_kept() {
  secret-tool lookup service "$user_service" username kept | grep -qF "$user_token" ||
    { say "the keychain entry is gone"; return 1; }
  [ "$(find "$user_dir" -type f -exec sha256sum {} + | sort)" = "$before_meta" ] ||
    { say "the metadata folder changed"; return 1; }
}
check "the person's keychain entry and metadata are untouched by the removal" user_data_kept

finish

# Shared by the bench scripts (sourced, after they set ROOT and work).

# `release_on_path`: the release build of `keyport` first on the PATH (`env keyport …`
# included), or stop.
release_on_path() {
  export PATH="$ROOT/target/release:$PATH"
  [ "$(command -v keyport)" = "$ROOT/target/release/keyport" ] \
    || { echo "bench: target/release/keyport missing" >&2; exit 1; }
}

# `start_mock`: the release mock vendor (or `$MOCK_BIN`) on a free loopback port; sets `mock`
# (its pid) and `base` (its URL).
start_mock() {
  "${MOCK_BIN:-$ROOT/target/release/keyport-mock}" --addr 127.0.0.1:0 >"$work/mock.out" 2>&1 &
  mock=$!
  base=
  for _ in $(seq 100); do
    base=$(sed -n 's/^keyport-mock listening on //p' "$work/mock.out")
    [ -n "$base" ] && break
    sleep 0.05
  done
  [ -n "$base" ] || { echo "bench: keyport-mock did not start: $(cat "$work/mock.out")" >&2; exit 1; }
}

# `table CSV "KEYS" "LABEL|LABEL…"` prints a markdown table of some commands of a
# hyperfine CSV export, relative to the first one.
table() {
  awk -F, -v keys="$2" -v labels="$3" '
    NR > 1 { mean[$1] = $2; sd[$1] = $3; min[$1] = $7 }
    END {
      n = split(keys, k, " "); split(labels, l, "|")
      print "| command | mean | min | relative |"; print "|---|---:|---:|---:|"
      for (i = 1; i <= n; i++)
        printf "| %s | %.2f ms ± %.2f | %.2f ms | %.2f |\n", l[i], mean[k[i]] * 1000,
          sd[k[i]] * 1000, min[k[i]] * 1000, mean[k[i]] / mean[k[1]]
    }' "$1"
}

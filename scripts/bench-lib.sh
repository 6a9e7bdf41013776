# Shared by the bench scripts (sourced): `table CSV "KEYS" "LABEL|LABEL…"` prints a markdown
# table of some commands of a hyperfine CSV export, relative to the first one.
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

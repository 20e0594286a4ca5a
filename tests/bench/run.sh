#!/usr/bin/env bash
# Side-by-side benchmark (issue 5): the same members CSV, the same
# computation (platform -> sector classification, then per district and
# sector: workers, party members, total points) in gigflow and in the tools a
# user would pick instead. Checks that every tool's output agrees with the
# others, then prints a Markdown table and writes JSON.
#
#   tests/bench/run.sh [--rows N] [--runs R] [--smoke] [--json FILE]
#
# Tools are interleaved run by run, in an order rotated each round, so
# machine drift hits all alike; each
# figure is the median of R runs. Peak RSS and CPU time from /usr/bin/time.
# After the table, one line compares the ratios with the targets of
# docs/performance.md (at least 6x Miller, 1.1x mawk); the JSON also holds
# each tool's CPU seconds. Exit status 1 when an output differs. --smoke
# (20,000 rows, one run) is what CI runs: it checks that the outputs agree,
# not the speed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=2000000 runs=3 json=
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --smoke) rows=20000; runs=1; shift ;;
    --json) json=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--runs R] [--smoke] [--json FILE]" >&2; exit 2 ;;
  esac
done

# the peers and /usr/bin/time, from Debian packages when missing
need=()
for p in miller mawk gawk sqlite3 time; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed' || need+=($p)
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; } ||
    { echo "$0: cannot install ${need[*]}: install them, or run scripts/deps.sh" >&2; exit 2; }
fi

build=${GF_BUILD_DIR:-$root/build}
gigflow=$build/bin/gigflow
[ -x "$gigflow" ] || bash "$root/scripts/build.sh" "$build"

data=${BENCH_DATA:-/tmp/gigflow-bench}
mkdir -p "$data"
gen=$(md5sum "$here/gen_members.awk" | cut -c1-8) # new generator, new data
csv=$data/members-$rows-$gen.csv
[ -s "$csv" ] || mawk -v n="$rows" -f "$here/gen_members.awk" >"$csv"
mb=$(du -m "$csv" | cut -f1)
cat "$csv" >/dev/null # into the page cache

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. "$here/peers.sh"

run_gigflow() { # $1 workers
  BENCH_IN=$csv BENCH_OUT=$out BENCH_WORKERS=$1 \
    "$gigflow" run --quiet --no-progress "$here/pipeline.yaml" >/dev/null
  tail -n +2 "$out/gigflow.csv"
}

export -f run_gigflow peer_mawk peer_gawk peer_gawk_c peer_miller peer_sqlite3
export SECTOR_AWK csv out gigflow here
tools="gigflow gigflow_w2 mawk gawk gawk_C miller sqlite3"
set -- $tools
ntools=$#
for r in $(seq 1 "$runs"); do
  # rotate the order each round: no tool always runs right after the
  # heaviest one (Miller's ~1 GB), whose aftermath slows the next process
  order=$(echo $tools | tr ' ' '\n' | awk -v k=$(( (r - 1) % ntools )) -v n="$ntools" \
    '{ t[NR - 1] = $0 } END { for (i = 0; i < n; i++) print t[(i + k) % n] }')
  for t in $order; do
    case $t in
      gigflow) cmd="run_gigflow 1" ;;
      gigflow_w2) cmd="run_gigflow 2" ;;
      gawk_C) cmd="peer_gawk_c $csv" ;;
      *) cmd="peer_$t $csv" ;;
    esac
    # every tool starts from the file in the page cache: Miller's ~1 GB
    # between two runs can push part of it out, and whoever runs next would
    # pay for reading it back
    cat "$csv" >/dev/null
    /usr/bin/time -f "%e %M %U %S" -o "$out/time" bash -c "$cmd" \
      | LC_ALL=C sort >"$out/$t.out"
    echo "$t $(cat "$out/time")" >>"$out/times"
  done
done

# every tool must agree with gigflow
status=0
for t in $tools; do
  if ! cmp -s "$out/gigflow.out" "$out/$t.out"; then
    echo "MISMATCH: $t differs from gigflow:" >&2
    diff "$out/gigflow.out" "$out/$t.out" | head -n 5 >&2
    status=1
  fi
done
[ -s "$out/gigflow.out" ] || { echo "gigflow produced nothing" >&2; status=1; }

awk -v rows="$rows" -v mb="$mb" -v json="$json" -v runs="$runs" '
function median(arr, n,   i, j, t) {
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
    if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
  return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ n[$1]++; s[$1, n[$1]] = $2; m[$1, n[$1]] = $3; c[$1, n[$1]] = $4 + $5; if (!($1 in seen)) { order[++k] = $1; seen[$1] = 1 } }
END {
  for (i = 1; i <= k; i++) {
    t = order[i]
    for (j = 1; j <= n[t]; j++) { a[j] = s[t, j]; b[j] = m[t, j]; d[j] = c[t, j] }
    sec[t] = median(a, n[t]); rss[t] = median(b, n[t]); cpu[t] = median(d, n[t])
    if (sec[t] <= 0) sec[t] = 0.01
  }
  printf "\n%d rows, %d MB CSV, median of %d runs\n\n", rows, mb, runs
  print "| tool | seconds | rows/s | MB/s | peak RSS MB | gigflow is x faster |"
  print "|---|---:|---:|---:|---:|---:|"
  for (i = 1; i <= k; i++) {
    t = order[i]
    printf "| %s | %.2f | %.0f | %.1f | %.1f | %.2f |\n", t, sec[t], rows / sec[t], mb / sec[t], rss[t] / 1024, sec[t] / sec["gigflow"]
  }
  # the targets of docs/performance.md, as ratios within this run
  if (rows < 1000000) {
    print "\ntargets: not judged below 1,000,000 rows (start-up dominates)"
    write_json()
    exit
  }
  printf "\ntargets: Miller %.2fx (>= 6: %s), mawk %.2fx (>= 1.1: %s); CPU seconds: gigflow %.2f, mawk %.2f\n", \
    sec["miller"] / sec["gigflow"], sec["miller"] >= 6 * sec["gigflow"] ? "met" : "MISSED", \
    sec["mawk"] / sec["gigflow"], sec["mawk"] >= 1.1 * sec["gigflow"] ? "met" : "MISSED", \
    cpu["gigflow"], cpu["mawk"]
  write_json()
}
function write_json(   i, t) {
  if (json != "") {
    printf "{\"rows\":%d,\"mb\":%d,\"runs\":%d,\"tools\":[", rows, mb, runs > json
    for (i = 1; i <= k; i++) {
      t = order[i]
      printf "%s{\"tool\":\"%s\",\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"rows_per_s\":%.0f,\"mb_per_s\":%.2f,\"peak_rss_kb\":%d,\"ratio\":%.3f}", (i > 1 ? "," : ""), t, sec[t], cpu[t], rows / sec[t], mb / sec[t], rss[t], sec[t] / sec["gigflow"] > json
    }
    print "]}" > json
  }
}' "$out/times"
exit $status

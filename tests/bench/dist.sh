#!/usr/bin/env bash
# Distributed benchmark: the benchmark computation (tests/bench/pipeline.yaml:
# ingest_csv -> classify_rules (2 workers) -> aggregate_groupby -> export_csv)
# over inproc (one process), ipc and tcp (four processes on this machine:
# ingest; the two classify workers; aggregate + export), and over tcp with
# the aggregate as two workers in two processes (tcp-agg2: their partial
# states merged over tcp), records/s of each;
# then, over tcp, one classify worker killed mid-run: how long until its
# death is noticed and until its batches are redone by the other worker.
# Every run's output must equal the one-process output.
#
#   tests/bench/dist.sh [--rows N] [--runs R] [--smoke]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=1000000 runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --smoke) rows=20000; runs=1; shift ;;
    *) echo "usage: $0 [--rows N] [--runs R] [--smoke]" >&2; exit 2 ;;
  esac
done
build=${GF_BUILD_DIR:-$root/build}
gigflow=$build/bin/gigflow
[ -x "$gigflow" ] || bash "$root/scripts/build.sh" "$build"
data=${BENCH_DATA:-/tmp/gigflow-bench}
mkdir -p "$data"
gen=$(md5sum "$here/gen_members.awk" | cut -c1-8) # new generator, new data
csv=$data/members-$rows-$gen.csv
[ -s "$csv" ] || mawk -v n="$rows" -f "$here/gen_members.awk" >"$csv"
cat "$csv" >/dev/null

out=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$out"' EXIT
cp "$here/sector_rules.yaml" "$out/"

# $1 transport: the pipeline with listen endpoints of that transport
pipeline() {
  local b c a
  case $1 in
    tcp) a=tcp://127.0.0.1:27503 b=tcp://127.0.0.1:27501 c=tcp://127.0.0.1:27502 ;;
    tcp-agg2) a="[tcp://127.0.0.1:27503, tcp://127.0.0.1:27504]"
              b=tcp://127.0.0.1:27501 c=tcp://127.0.0.1:27502 ;;
    ipc) a=ipc://$out/a.sock b=ipc://$out/b.sock c=ipc://$out/c.sock ;;
  esac
  cat <<Y
name: bench-dist
stages:
  - name: members
    plugin: ingest_csv
    with: {path: "$csv", kind: member, encoding: utf-8}
  - name: sector
    plugin: classify_rules
    from: members
    workers: 2
$( [ "$1" = inproc ] || echo "    listen: [$b, $c]")
    with: {rules: sector_rules.yaml}
  - name: groups
    plugin: aggregate_groupby
    from: sector
$( [ "$1" = inproc ] || echo "    listen: $a")
$( [ "$1" = tcp-agg2 ] && echo "    workers: 2")
    with:
      by: [district, sector]
      metrics: {workers: count(), party: count_if(party), points: sum(points)}
  - name: out
    plugin: export_csv
    from: groups
$( [ "$1" = tcp-agg2 ] && echo "    listen: tcp://127.0.0.1:27505")
    with:
      path: "$out/$1.csv"
      columns: [district, sector, workers, party, points]
Y
}
for t in inproc ipc tcp tcp-agg2; do pipeline $t >"$out/$t.yaml"; done

now() { date +%s.%N; }

# $1 transport; prints seconds
run_once() {
  local t=$1 t0 t1
  rm -f "$out/$t.csv"
  t0=$(now)
  if [ "$t" = inproc ]; then
    "$gigflow" run "$out/inproc.yaml" --quiet --no-progress 2>"$out/err"
  elif [ "$t" = tcp-agg2 ]; then
    pids=()
    "$gigflow" run "$out/$t.yaml" --stage 'sector#0' --quiet 2>"$out/b.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage 'sector#1' --quiet 2>"$out/c.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage 'groups#0' --stage out --quiet 2>"$out/a.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage 'groups#1' --quiet 2>"$out/d.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage members --quiet 2>"$out/m.err" & pids+=($!)
    for p in "${pids[@]}"; do wait "$p"; done
    pids=()
  else
    pids=()
    "$gigflow" run "$out/$t.yaml" --stage 'sector#0' --quiet 2>"$out/b.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage 'sector#1' --quiet 2>"$out/c.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage groups --stage out --quiet 2>"$out/a.err" & pids+=($!)
    "$gigflow" run "$out/$t.yaml" --stage members --quiet 2>"$out/m.err" & pids+=($!)
    for p in "${pids[@]}"; do wait "$p"; done
    pids=()
  fi
  t1=$(now)
  grep -v '^district' "$out/$t.csv" | LC_ALL=C sort >"$out/$t.sorted"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

printf '\n%d rows, 2 classify workers, median of %d runs\n\n' "$rows" "$runs"
echo "| edges | seconds | records/s |"
echo "|---|---:|---:|"
for t in inproc ipc tcp tcp-agg2; do
  secs=()
  for r in $(seq 1 "$runs"); do secs+=("$(run_once $t)"); done
  med=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  printf '| %s | %.2f | %.0f |\n' $t "$med" "$(awk -v r=$rows -v s=$med 'BEGIN{print r/s}')"
  [ $t = inproc ] || cmp -s "$out/inproc.sorted" "$out/$t.sorted" ||
    { echo "MISMATCH: $t output differs from inproc" >&2; exit 1; }
done

# a worker killed over tcp: detection and redo times, from the ingest's log
rm -f "$out/tcp.csv"
pids=()
"$gigflow" run "$out/tcp.yaml" --stage 'sector#0' --quiet 2>"$out/b.err" & pids+=($!)
"$gigflow" run "$out/tcp.yaml" --stage 'sector#1' --quiet 2>"$out/c.err" & victim=$!
"$gigflow" run "$out/tcp.yaml" --stage groups --stage out --quiet 2>"$out/a.err" & pids+=($!)
"$gigflow" run "$out/tcp.yaml" --stage members --quiet 2>"$out/m.err" & pids+=($!)
until grep -q "connected to sector#1" "$out/m.err" 2>/dev/null; do sleep 0.01; done
sleep 0.1 # records flowing
kill -9 $victim
t0=$(now)
td= tr=
while [ -z "$tr" ]; do
  [ -n "$td" ] || ! grep -q "taken as dead" "$out/m.err" || td=$(now)
  ! grep -q "were redone" "$out/m.err" || tr=$(now)
  kill -0 "${pids[2]}" 2>/dev/null || break
  sleep 0.01
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
grep -v '^district' "$out/tcp.csv" | LC_ALL=C sort >"$out/kill.sorted"
cmp -s "$out/inproc.sorted" "$out/kill.sorted" || { echo "MISMATCH after the kill" >&2; exit 1; }
echo
echo "tcp, worker sector#1 killed 0.1 s into the run (heartbeat 3 s):"
[ -n "$td" ] && awk -v a=$t0 -v b=$td 'BEGIN { printf "  death noticed after %.2f s\n", b - a }'
[ -n "$tr" ] && awk -v a=$t0 -v b=$tr 'BEGIN { printf "  its batches redone after %.2f s\n", b - a }'
grep "were redone" "$out/m.err" | sed 's/^/  /'
echo "  output identical to the one-process run"

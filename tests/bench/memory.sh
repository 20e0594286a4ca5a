#!/usr/bin/env bash
# Memory figures (docs/performance.md), peak RSS from /usr/bin/time:
#
#   1. streaming: ingest_csv -> classify_rules -> export_jsonl over
#      --rows rows (default 20,000,000, a 1.5 GB CSV): the peak must stay
#      within 32 MiB whatever the number of rows;
#   2. the same rows grouped by district (8 groups): a group-by's memory
#      does not grow with the rows either;
#   3. aggregate_groupby over the first --groups rows (default 1,000,000)
#      grouped once by district and once by id (a group per row): the
#      difference in peak, divided by the groups, is what a group costs.
#
#   tests/bench/memory.sh [--rows N] [--groups G] [--json FILE]
#
# The CSV is generated in $BENCH_DATA (default /tmp/gigflow-bench) when
# missing and kept for the next run; outputs go to a temporary directory
# that is removed at the end. Not run in CI (the input alone is 1.5 GB).
# Exit status 1 when a target is missed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=20000000 groups=1000000 json=
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --groups) groups=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--groups G] [--json FILE]" >&2; exit 2 ;;
  esac
done
[ "$groups" -le "$rows" ] || { echo "$0: --groups must not exceed --rows" >&2; exit 2; }

need=()
for p in mawk time; do
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
if [ ! -s "$csv" ]; then
  echo "generating $rows rows into $csv ..." >&2
  mawk -v n="$rows" -f "$here/gen_members.awk" >"$csv.tmp"
  mv "$csv.tmp" "$csv"
fi
small=$data/members-$rows-first-$groups.csv
[ -s "$small" ] || head -n $((groups + 1)) "$csv" >"$small"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# peak_kb PIPELINE INPUT [BY]: run it, print "seconds peak_kb"
peak_kb() {
  BENCH_IN=$2 BENCH_OUT=$out BENCH_BY=${3:-district} \
    /usr/bin/time -f "%e %M" -o "$out/time" \
    "$gigflow" run --quiet --no-progress "$here/$1" >/dev/null
  cat "$out/time"
}

read -r s_stream kb_stream < <(peak_kb memory_stream.yaml "$csv")
n_out=$(wc -l <"$out/members.jsonl")
rm -f "$out/members.jsonl"
read -r s_few kb_few_all < <(peak_kb memory_groups.yaml "$csv" district)
read -r s_base kb_base < <(peak_kb memory_groups.yaml "$small" district)
read -r s_many kb_many < <(peak_kb memory_groups.yaml "$small" id)
n_groups=$(($(wc -l <"$out/groups.csv") - 1))

status=0
[ "$n_out" -eq "$rows" ] || { echo "streaming run wrote $n_out records, not $rows" >&2; status=1; }
[ "$n_groups" -eq "$groups" ] || { echo "group-by by id made $n_groups groups, not $groups" >&2; status=1; }
limit_kb=$((32 * 1024))
[ "$kb_stream" -le "$limit_kb" ] || { echo "streaming peak RSS $kb_stream KB is above 32 MiB" >&2; status=1; }

per_group=$(( (kb_many - kb_base) * 1024 / groups ))
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
printf '\n| run | rows | groups | seconds | peak RSS MiB |\n|---|---:|---:|---:|---:|\n'
printf '| ingest_csv -> classify_rules -> export_jsonl | %d | - | %s | %s |\n' "$rows" "$s_stream" "$(mib "$kb_stream")"
printf '| ingest_csv -> aggregate_groupby by district | %d | 8 | %s | %s |\n' "$rows" "$s_few" "$(mib "$kb_few_all")"
printf '| ingest_csv -> aggregate_groupby by district | %d | 8 | %s | %s |\n' "$groups" "$s_base" "$(mib "$kb_base")"
printf '| ingest_csv -> aggregate_groupby by id | %d | %d | %s | %s |\n' "$groups" "$groups" "$s_many" "$(mib "$kb_many")"
printf '\naggregate_groupby: about %d bytes per group (%d groups: %d KB above the 8-group run)\n' \
  "$per_group" "$groups" $((kb_many - kb_base))
printf 'streaming: peak %d KB over %d rows (limit %d KB): %s\n' "$kb_stream" "$rows" "$limit_kb" \
  "$([ "$kb_stream" -le "$limit_kb" ] && echo ok || echo TOO HIGH)"
if [ -n "$json" ]; then
  printf '{"rows":%d,"stream_peak_kb":%d,"stream_seconds":%s,"groupby_few_peak_kb":%d,"groups":%d,"groupby_base_peak_kb":%d,"groupby_many_peak_kb":%d,"bytes_per_group":%d}\n' \
    "$rows" "$kb_stream" "$s_stream" "$kb_few_all" "$groups" "$kb_base" "$kb_many" "$per_group" >"$json"
fi
exit $status

#!/usr/bin/env bash
# Database loading benchmark: the same members CSV loaded
#   - into PostgreSQL by gigflow (ingest_csv -> export_postgres, COPY) and
#     by `psql \copy` into a table of the same columns and types, on a
#     private server started here (tests/lib/pg_server.sh);
#   - into SQLite by gigflow (ingest_csv -> export_sqlite) and by the
#     sqlite3 shell's `.import --csv`.
# Each figure is the median wall time of R runs, tools interleaved; rows/s
# and the ratio gigflow/tool are printed (targets: >= 0.8x for PostgreSQL,
# >= 1x for SQLite). Row counts are checked after every load. PII masking
# is turned off (mask_pii: false) so that both sides write the same data.
#
#   tests/bench/db.sh [--rows N] [--runs R] [--smoke]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=200000 runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --smoke) rows=5000; runs=1; shift ;;
    *) echo "usage: $0 [--rows N] [--runs R] [--smoke]" >&2; exit 2 ;;
  esac
done

build=${GF_BUILD_DIR:-$root/build}
gigflow=$build/bin/gigflow
[ -x "$gigflow" ] || { echo "build gigflow first ($gigflow)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 2; }

. "$root/tests/lib/pg_server.sh"
work=$(mktemp -d /tmp/gf-dbbench-XXXXXX)
trap 'pg_stop; rm -rf "$work"' EXIT INT TERM
have_pg=1
pg_start || have_pg=0

csv=$work/members.csv
mawk -v n="$rows" -f "$here/gen_members.awk" >"$csv"
cols=$(head -1 "$csv")
cat "$csv" >/dev/null # into the page cache

cat >"$work/pg.yaml" <<EOF
name: bench-pg
stages:
  - {name: read, plugin: ingest_csv, with: {path: members.csv, encoding: utf-8}}
  - name: load
    plugin: export_postgres
    from: read
    mask_pii: false
    with: {dsn: "${GF_PG_DSN:-none}", table: gf_members}
EOF
cat >"$work/sqlite.yaml" <<EOF
name: bench-sqlite
stages:
  - {name: read, plugin: ingest_csv, with: {path: members.csv, encoding: utf-8}}
  - name: load
    plugin: export_sqlite
    from: read
    mask_pii: false
    with: {path: gf.db, table: members}
EOF

now() { date +%s.%N; }
# run_timed NAME CMD...: append the seconds to $work/NAME.times
run_timed() {
  local name=$1 t0 t1
  shift
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$work/$name.times"
}
median() { sort -g "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

gf_pg() { "$gigflow" run --quiet --no-progress "$work/pg.yaml"; }
psql_copy() {
  pg_psql -c "DROP TABLE IF EXISTS psql_members" \
    -c "CREATE TABLE psql_members (LIKE gf_members)" \
    -c "\\copy psql_members ($cols) FROM '$csv' WITH (FORMAT csv, HEADER true)"
}
gf_sqlite() { rm -f "$work/gf.db"; "$gigflow" run --quiet --no-progress "$work/sqlite.yaml"; }
sqlite_import() {
  rm -f "$work/sh.db"
  sqlite3 "$work/sh.db" ".import --csv $csv members"
}

# one untimed load first: it makes the table psql copies into
[ $have_pg = 0 ] || gf_pg
for r in $(seq 1 "$runs"); do
  if [ $have_pg = 1 ]; then
    run_timed gf_pg gf_pg
    run_timed psql psql_copy
  fi
  run_timed gf_sqlite gf_sqlite
  run_timed sqlite3 sqlite_import
done

check() { [ "$2" = "$rows" ] || { echo "$1 holds $2 rows, not $rows" >&2; exit 1; }; }
if [ $have_pg = 1 ]; then
  check gigflow/postgres "$(pg_psql -A -t -c 'SELECT count(*) FROM gf_members')"
  check psql "$(pg_psql -A -t -c 'SELECT count(*) FROM psql_members')"
fi
check gigflow/sqlite "$(sqlite3 "$work/gf.db" 'SELECT count(*) FROM members')"
check sqlite3 "$(sqlite3 "$work/sh.db" 'SELECT count(*) FROM members')"

printf '\n%d rows (%s MB of CSV), median of %d runs\n\n' "$rows" \
  "$(du -m "$csv" | cut -f1)" "$runs"
printf '| target | gigflow rows/s | tool | tool rows/s | ratio | goal |\n'
printf '|---|---:|---|---:|---:|---:|\n'
line() { # target gf-times tool tool-times goal
  local g t
  g=$(median "$work/$2.times")
  t=$(median "$work/$4.times")
  TOOL=$3 awk -v n="$rows" -v g="$g" -v t="$t" -v a="$1" -v goal="$5" \
    'BEGIN { printf "| %s | %.0f | %s | %.0f | %.2fx | >= %sx |\n",
             a, n / g, ENVIRON["TOOL"], n / t, t / g, goal }'
}
[ $have_pg = 0 ] || line PostgreSQL gf_pg 'psql \copy' psql 0.8
line SQLite gf_sqlite 'sqlite3 .import' sqlite3 1
[ $have_pg = 1 ] || echo "(PostgreSQL not available: skipped)"

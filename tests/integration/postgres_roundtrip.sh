#!/usr/bin/env bash
# PostgreSQL round trips for export_postgres and ingest_postgres against a
# private server started here: initdb in a temporary directory, a unix
# socket in that directory only (listen_addresses=''), scram-sha-256
# password authentication (the password reaches the plugins through
# PGPASSWORD only). Runs the harness-based C tests (types, COPY escaping,
# atomic runs, append/upsert, type mismatches named by table and column,
# a backend terminated mid-run with nothing lost or doubled, passwords kept
# out of messages) and, when the gigflow CLI is built, a CSV -> PostgreSQL
# -> SQLite pipeline checked with psql and sqlite3, and two aggregate
# stages into both database exports (one table per metric set, values
# computed with awk). The server is stopped
# and the directory removed on every exit path; every step has a timeout.
#
#   tests/integration/postgres_roundtrip.sh        (ctest runs it)
#   PG_KEEP=1 ...                                   keep the server for a
#                                                   shell (prints the dsn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${GF_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${GF_BUILD_DIR:-$root/build}
gigflow=${GIGFLOW:-$build/bin/gigflow}

. "$root/tests/lib/pg_server.sh"

cleanup() {
  local rc=$?
  [ -n "${PG_KEEP:-}" ] || pg_stop
  exit $rc
}
trap cleanup EXIT INT TERM

set +e
pg_start
started=$?
set -e
if [ $started = 1 ]; then
  echo "SKIP: PostgreSQL is not installed and cannot be (not root)"
  exit 77
fi
[ $started = 0 ] || exit 1
tmp=$PG_TMP
pw=$PGPASSWORD
psql_() { pg_psql "$@"; }
echo "server up: $GF_PG_DSN"
if [ -n "${PG_KEEP:-}" ]; then
  echo "PG_KEEP: stop with: ${PG_AS[*]} $PG_BIN/pg_ctl -D $PG_TMP/data stop; PGPASSWORD=$PGPASSWORD"
  exit 0
fi

fail=0
for t in test_export_postgres test_ingest_postgres; do
  if [ -x "$build/bin/$t" ]; then
    echo "== $t"
    timeout 180 "$build/bin/$t" || fail=1
  else
    echo "missing $build/bin/$t: build first" >&2
    fail=1
  fi
done

# A whole pipeline through the CLI: CSV -> PostgreSQL, then PostgreSQL ->
# SQLite, each checked by the databases' own shells.
if [ -x "$gigflow" ]; then
  echo "== gigflow CLI: CSV -> PostgreSQL -> SQLite"
  w=$tmp/cli
  mkdir -p "$w"
  {
    echo "id,name,platform,points,joined"
    for i in $(seq 1 500); do
      echo "m$i,骑手$i,美团,$((i % 37)),2024-0$((i % 9 + 1))-1$((i % 9))"
    done
  } >"$w/members.csv"
  cat >"$w/to_pg.yaml" <<EOF
name: to_pg
stages:
  - name: read
    plugin: ingest_csv
    with: {path: members.csv, kind: member}
  - name: store
    plugin: export_postgres
    from: read
    with: {dsn: "$GF_PG_DSN", table: cli_members}
EOF
  cat >"$w/from_pg.yaml" <<EOF
name: from_pg
stages:
  - name: read
    plugin: ingest_postgres
    with: {dsn: "$GF_PG_DSN", query: "SELECT * FROM cli_members ORDER BY id", kind: member, fetch: 64}
  - name: store
    plugin: export_sqlite
    from: read
    with: {path: out.db, table: members}
EOF
  if timeout 120 "$gigflow" run --quiet --no-progress "$w/to_pg.yaml" &&
     timeout 120 "$gigflow" run --quiet --no-progress "$w/from_pg.yaml"; then
    want=$(awk -F, 'NR > 1 { n++; s += $4 } END { print n "|" s }' "$w/members.csv")
    got_pg=$(psql_ -A -t -c "SELECT count(*) || '|' || sum(points) FROM cli_members")
    got_sq=$(timeout 60 sqlite3 "$w/out.db" "SELECT count(*) || '|' || sum(points) FROM members")
    echo "csv $want, postgres $got_pg, sqlite $got_sq"
    [ "$want" = "$got_pg" ] && [ "$want" = "$got_sq" ] || fail=1
  else
    echo "gigflow run failed" >&2
    fail=1
  fi
fi

# Metric rows: one table per aggregate stage (`set`), named as
# export_sqlite names them, no table `metric`. Expected groups computed
# from the CSV with awk; both databases read back with their own shells.
if [ -x "$gigflow" ]; then
  echo "== gigflow CLI: metric sets -> one table each"
  w=$tmp/sets
  mkdir -p "$w"
  {
    echo "id,platform,station,points"
    for i in $(seq 1 300); do
      case $((i % 3)) in 0) pl=美团 ;; 1) pl=顺丰 ;; *) pl=饿了么 ;; esac
      echo "m$i,$pl,S$((i % 7)),$((i * 7 % 41))"
    done
  } >"$w/members.csv"
  cat >"$w/sets.yaml" <<EOF
name: sets
stages:
  - name: read
    plugin: ingest_csv
    with: {path: members.csv, kind: member}
  - name: by_platform
    plugin: aggregate_groupby
    from: read
    with: {by: [platform], metrics: {n: count(), points: sum(points)}}
  - name: by_station
    plugin: aggregate_groupby
    from: read
    with: {by: [station], metrics: {n: count(), top: max(points)}}
  - name: pg
    plugin: export_postgres
    from: [by_platform, by_station]
    with: {dsn: "$GF_PG_DSN"}
  - name: lite
    plugin: export_sqlite
    from: [by_platform, by_station]
    with: {path: sets.db}
EOF
  psql_ -q -c 'DROP TABLE IF EXISTS metric, by_platform, by_station' >/dev/null
  if timeout 120 "$gigflow" run --quiet --no-progress "$w/sets.yaml"; then
    want_pl=$(awk -F, 'NR > 1 { n[$2]++; s[$2] += $4 }
      END { for (k in n) print k "|" n[k] "|" s[k] }' "$w/members.csv" | LC_ALL=C sort)
    want_st=$(awk -F, 'NR > 1 { n[$3]++; if (!($3 in m) || $4 + 0 > m[$3]) m[$3] = $4 + 0 }
      END { for (k in n) print k "|" n[k] "|" m[k] }' "$w/members.csv" | LC_ALL=C sort)
    q_pl='SELECT platform, n, points FROM by_platform'
    q_st='SELECT station, n, top FROM by_station'
    got_pl=$(psql_ -A -t -c "$q_pl" | LC_ALL=C sort)
    got_st=$(psql_ -A -t -c "$q_st" | LC_ALL=C sort)
    sq_pl=$(timeout 60 sqlite3 "$w/sets.db" "$q_pl" | LC_ALL=C sort)
    sq_st=$(timeout 60 sqlite3 "$w/sets.db" "$q_st" | LC_ALL=C sort)
    tables=$(psql_ -A -t -c "SELECT string_agg(table_name, ',' ORDER BY table_name COLLATE \"C\")
      FROM information_schema.tables WHERE table_name IN ('metric', 'by_platform', 'by_station')")
    sq_tables=$(timeout 60 sqlite3 "$w/sets.db" "SELECT group_concat(name, ',')
      FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")
    [ "$want_pl" = "$got_pl" ] || { echo "postgres by_platform: $got_pl, want $want_pl" >&2; fail=1; }
    [ "$want_st" = "$got_st" ] || { echo "postgres by_station: $got_st, want $want_st" >&2; fail=1; }
    [ "$want_pl" = "$sq_pl" ] || { echo "sqlite by_platform: $sq_pl, want $want_pl" >&2; fail=1; }
    [ "$want_st" = "$sq_st" ] || { echo "sqlite by_station: $sq_st, want $want_st" >&2; fail=1; }
    [ "$tables" = "by_platform,by_station" ] || { echo "postgres tables: $tables" >&2; fail=1; }
    [ "$sq_tables" = "$tables" ] || { echo "sqlite tables: $sq_tables, postgres: $tables" >&2; fail=1; }
    echo "sets: postgres tables $tables, sqlite tables $sq_tables"
  else
    echo "gigflow run (metric sets) failed" >&2
    fail=1
  fi
fi

if grep -q "$pw" "$tmp/server.log"; then
  echo "the password appears in the server log" >&2
  fail=1
fi
[ $fail = 0 ] && echo "postgres round trips: OK"
exit $fail

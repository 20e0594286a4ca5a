#!/usr/bin/env bash
# PostgreSQL round trips for export_postgres and ingest_postgres against a
# private server started here: initdb in a temporary directory, a unix
# socket in that directory only (listen_addresses=''), scram-sha-256
# password authentication (the password reaches the plugins through
# PGPASSWORD only). Runs the harness-based C tests (types, COPY escaping,
# atomic runs, append/upsert, type mismatches named by table and column,
# a backend terminated mid-run with nothing lost or doubled, passwords kept
# out of messages) and, when the gigflow CLI is built, a CSV -> PostgreSQL
# -> SQLite pipeline checked with psql and sqlite3. The server is stopped
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

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

bin=$(pg_bin || true)
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing postgresql with apt-get"
    for i in 1 2 3 4 5; do
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
        postgresql >/dev/null && break
      sleep 5 # the dpkg lock may be held by another install
    done
    bin=$(pg_bin || true)
  fi
  if [ -z "$bin" ]; then
    echo "SKIP: PostgreSQL is not installed and cannot be (not root)"
    exit 0
  fi
fi

tmp=$(mktemp -d /tmp/gf-pg-XXXXXX)
chmod 755 "$tmp"
# the server refuses to run as root: run it as `postgres` (or a user made
# for the purpose), as ourselves otherwise
as=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home gigflow-pg
  id -u "$user" >/dev/null 2>&1 || user=gigflow-pg
  chown "$user" "$tmp"
  as=(runuser -u "$user" --)
fi
port=$(( 20000 + RANDOM % 30000 ))
pw="gf-$RANDOM-$RANDOM-pw"

cleanup() {
  local rc=$?
  if [ -z "${PG_KEEP:-}" ]; then
    timeout 30 "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop \
      >/dev/null 2>&1 || true
    rm -rf "$tmp"
  fi
  exit $rc
}
trap cleanup EXIT INT TERM

printf '%s\n' "$pw" >"$tmp/pw"
chmod 644 "$tmp/pw"
timeout 120 "${as[@]}" "$bin/initdb" -D "$tmp/data" -U postgres \
  --auth=scram-sha-256 --pwfile="$tmp/pw" -E UTF8 --locale=C.UTF-8 \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; exit 1; }
rm -f "$tmp/pw"
timeout 60 "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
  -t 50 -o "-c listen_addresses='' -c unix_socket_directories='$tmp' \
  -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$tmp/server.log"; exit 1; }

export PGPASSWORD=$pw
export GF_PG_DSN="host=$tmp port=$port dbname=postgres user=postgres"
psql_() { timeout 60 psql -X -q -v ON_ERROR_STOP=1 -d "$GF_PG_DSN" "$@"; }
psql_ -c "CREATE DATABASE gigflow_test"
export GF_PG_DSN="host=$tmp port=$port dbname=gigflow_test user=postgres"
echo "server up: $GF_PG_DSN"
if [ -n "${PG_KEEP:-}" ]; then
  echo "PG_KEEP: stop with: ${as[*]} $bin/pg_ctl -D $tmp/data stop; PGPASSWORD=$pw"
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

if grep -q "$pw" "$tmp/server.log"; then
  echo "the password appears in the server log" >&2
  fail=1
fi
[ $fail = 0 ] && echo "postgres round trips: OK"
exit $fail

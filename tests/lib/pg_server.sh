# pg_server.sh - a private PostgreSQL server for tests and benchmarks,
# sourced by tests/integration/postgres_roundtrip.sh and tests/bench/db.sh.
#
#   pg_start        installs postgresql with apt-get when missing (as root),
#                   runs initdb in a fresh temporary directory and starts
#                   the server on a unix socket in that directory only
#                   (listen_addresses=''), with scram-sha-256 passwords.
#                   Sets PG_TMP, PG_BIN, PGPASSWORD (exported) and
#                   GF_PG_DSN (exported; database gigflow_test). Returns 1
#                   when PostgreSQL cannot be had (not installed, not root).
#   pg_stop         stops the server and removes the directory; call it
#                   from an EXIT trap. Safe to call twice.
#   pg_psql ARGS    psql on GF_PG_DSN, bounded in time, errors fatal.
#
# The server refuses to run as root: as root it runs as `postgres` (or a
# user `gigflow-pg` made for the purpose), otherwise as the caller.

pg_find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_start() {
  PG_BIN=$(pg_find_bin || true)
  if [ -z "$PG_BIN" ] && [ "$(id -u)" = 0 ]; then
    echo "installing postgresql with apt-get" >&2
    local i
    for i in 1 2 3 4 5; do
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
        postgresql >/dev/null && break
      sleep 5 # the dpkg lock may be held by another install
    done
    PG_BIN=$(pg_find_bin || true)
  fi
  [ -n "$PG_BIN" ] || return 1
  PG_TMP=$(mktemp -d /tmp/gf-pg-XXXXXX)
  chmod 755 "$PG_TMP"
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    if ! id -u "$user" >/dev/null 2>&1; then
      user=gigflow-pg
      id -u "$user" >/dev/null 2>&1 ||
        useradd --system --no-create-home "$user"
    fi
    chown "$user" "$PG_TMP"
    PG_AS=(runuser -u "$user" --)
  fi
  local port=$((20000 + RANDOM % 30000))
  PGPASSWORD="gf-$RANDOM-$RANDOM-$RANDOM"
  export PGPASSWORD
  printf '%s\n' "$PGPASSWORD" >"$PG_TMP/pw"
  chmod 644 "$PG_TMP/pw"
  if ! timeout 120 "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" \
      -U postgres --auth=scram-sha-256 --pwfile="$PG_TMP/pw" -E UTF8 \
      --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1; then
    cat "$PG_TMP/initdb.log" >&2
    return 2
  fi
  rm -f "$PG_TMP/pw"
  if ! timeout 60 "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" \
      -l "$PG_TMP/server.log" -w -t 50 -o "-c listen_addresses='' \
      -c unix_socket_directories='$PG_TMP' -p $port -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off" start >/dev/null; then
    cat "$PG_TMP/server.log" >&2
    return 2
  fi
  GF_PG_DSN="host=$PG_TMP port=$port dbname=postgres user=postgres"
  export GF_PG_DSN
  pg_psql -c "CREATE DATABASE gigflow_test" || return 2
  GF_PG_DSN="host=$PG_TMP port=$port dbname=gigflow_test user=postgres"
}

pg_stop() {
  [ -n "${PG_TMP:-}" ] || return 0
  timeout 30 "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate \
    stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  PG_TMP=
}

pg_psql() {
  PGOPTIONS='-c client_min_messages=warning' timeout 300 \
    psql -X -q -v ON_ERROR_STOP=1 -d "$GF_PG_DSN" "$@"
}

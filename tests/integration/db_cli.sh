#!/usr/bin/env bash
# SQLite and Excel through the gigflow CLI: a CSV fanned out to
# export_sqlite and export_xlsx, checked with the sqlite3 shell, awk and
# unzip; ingest_sqlite reading it back into a CSV; `gigflow validate`
# reporting a bad query at its file:line:col with SQLite's message; a run
# whose other export fails leaves no database and no workbook behind.
set -euo pipefail
root=${GF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GF_BUILD_DIR:-$root/build}
gigflow=${GIGFLOW:-$build/bin/gigflow}
w=$(mktemp -d /tmp/gf-dbcli-XXXXXX)
trap 'rm -rf "$w"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

{
  echo "id,name,platform,points,joined"
  for i in $(seq 1 300); do
    echo "m$i,骑手$i,$([ $((i % 3)) = 0 ] && echo 美团 || echo 顺丰),$((i % 50)),2024-0$((i % 9 + 1))-0$((i % 9 + 1))"
  done
} >"$w/members.csv"

cat >"$w/out.yaml" <<'EOF'
name: db-cli
stages:
  - {name: read, plugin: ingest_csv, with: {path: members.csv, kind: member}}
  - {name: db, plugin: export_sqlite, from: read, with: {path: out.db}}
  - {name: book, plugin: export_xlsx, from: read, with: {path: out.xlsx, sheet_by: platform}}
EOF
timeout 60 "$gigflow" run --quiet --no-progress "$w/out.yaml" || fail "run"

want=$(awk -F, 'NR > 1 { n++; s += $4 } END { print n "|" s }' "$w/members.csv")
got=$(timeout 30 sqlite3 "$w/out.db" "SELECT count(*) || '|' || sum(points) FROM member")
[ "$want" = "$got" ] || fail "sqlite: $got, want $want"
got=$(timeout 30 sqlite3 "$w/out.db" "SELECT type FROM pragma_table_info('member') WHERE name = 'points'")
[ "$got" = INTEGER ] || fail "points column is $got"

wb=$(unzip -p "$w/out.xlsx" xl/workbook.xml)
case $wb in *'<sheet name="顺丰"'*'<sheet name="美团"'*) ;; *) fail "sheets: $wb" ;; esac
# rows in the 美团 sheet (the header plus every third member)
rows=$(unzip -p "$w/out.xlsx" xl/worksheets/sheet2.xml | grep -o '<row ' | wc -l)
[ "$rows" = $((1 + 300 / 3)) ] || fail "美团 sheet has $rows rows"

cat >"$w/back.yaml" <<'EOF'
name: db-back
stages:
  - name: read
    plugin: ingest_sqlite
    with: {path: out.db, query: "SELECT id, points FROM member WHERE points >= 40 ORDER BY rowid"}
  - {name: out, plugin: export_csv, from: read, with: {path: back.csv}}
EOF
timeout 60 "$gigflow" run --quiet --no-progress "$w/back.yaml" || fail "read back"
want=$(awk -F, 'NR > 1 && $4 >= 40 { print $1 "," $4 }' "$w/members.csv")
got=$(tail -n +2 "$w/back.csv")
[ "$want" = "$got" ] || fail "read back differs"

# a bad query: a configuration error at the option, exit 2
sed 's/FROM member WHERE/FROM membr WHERE/' "$w/back.yaml" >"$w/bad.yaml"
set +e
msg=$(timeout 60 "$gigflow" validate "$w/bad.yaml" 2>&1)
rc=$?
set -e
[ $rc = 2 ] || fail "validate exit $rc: $msg"
case $msg in *"bad.yaml:5:"*"no such table: membr"*) ;; *) fail "validate said: $msg" ;; esac

# the run fails midway (a bad row past --max-rejects 0): nothing is
# committed, nothing left behind
{ cat "$w/members.csv"; echo "short,row"; } >"$w/bad-members.csv"
cat >"$w/fails.yaml" <<'EOF'
name: db-fails
stages:
  - {name: read, plugin: ingest_csv, with: {path: bad-members.csv, kind: member}}
  - {name: db, plugin: export_sqlite, from: read, with: {path: new.db}}
  - {name: book, plugin: export_xlsx, from: read, with: {path: new.xlsx}}
  - {name: csv, plugin: export_csv, from: read, with: {path: new.csv}}
EOF
set +e
timeout 60 "$gigflow" run --quiet --no-progress --max-rejects 0 "$w/fails.yaml" >/dev/null 2>&1
rc=$?
set -e
[ $rc != 0 ] || fail "the failing run succeeded"
left=$(cd "$w" && ls -A | grep -E '^(new|\.new)' || true)
[ -z "$left" ] || fail "left behind: $left"
echo "db CLI: OK"

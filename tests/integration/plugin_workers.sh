#!/usr/bin/env bash
# `workers` above 1 on a stage that must run one instance is refused by the
# runtime, at validate, with the file:line:col of the `workers` value, for
# every shipped plugin of each kind concerned: ingest (each instance would
# read the whole input), export (one output, one transaction) and an
# aggregate without partial()/merge(). The plugins no longer check it
# themselves, so this is the only guard: `validate` and `run` both exit 2
# before anything is read or written.
. "$(dirname "$0")/lib.bash"
needs sqlite3
cd "$T"
unset GIGFLOW_PLUGIN_PATH # the build's own plugins

printf 'id,name\no1,站点一\n' >in.csv
printf '{"kind":"org","id":"o1"}\n' >in.jsonl
sqlite3 in.db "CREATE TABLE org(id TEXT); INSERT INTO org VALUES ('o1');"

# ingest plugin $1 with options $2 at workers: 2 (line 5), then an export
ingest() {
    cat <<Y
name: w
stages:
  - name: src
    plugin: $1
    workers: 2
    with: {$2}
  - {name: out, plugin: export_jsonl, from: src, with: {path: out.jsonl}}
Y
}
# an ingest, then plugin $1 (kind $2) with options $3 at workers: 3 (line 7)
after() {
    cat <<Y
name: w
stages:
  - {name: src, plugin: ingest_csv, with: {path: in.csv, kind: org}}
  - name: dst
    plugin: $1
    from: src
    workers: 3
    with: {$3}
Y
}

# check NAME FILE WANT [ONLY]: validate and run exit 2 and print WANT (the
# whole of stderr when ONLY is set: no other complaint), nothing written
check() {
    local rc=0 cmd
    for cmd in validate "run --no-progress"; do
        rc=0
        # shellcheck disable=SC2086 # cmd is the subcommand and its flag
        timeout 60 "$GIGFLOW" $cmd "$2" >"$T/gf.out" 2>"$T/gf.err" || rc=$?
        [ "$rc" = 2 ] || fail "$1: $cmd exited $rc, want 2"
        grep -qxF -- "$3" "$T/gf.err" || fail "$1: $cmd did not say: $3"
        if [ -n "${4:-}" ]; then
            [ "$(wc -l <"$T/gf.err")" = 1 ] || fail "$1: $cmd said more than the workers error"
        fi
    done
    if ls | grep -q '^out'; then fail "$1: output left behind: $(ls)"; fi
}

ingest_msg() {
    echo "p.yaml:5:14: stage 'src': workers: 2 is only supported on classify and aggregate stages for now ('$1' is an ingest plugin: one instance reads its input in order); remove 'workers' or set it to 1"
}
export_msg() {
    echo "p.yaml:7:14: stage 'dst': workers: 3 is only supported on classify and aggregate stages for now ('$1' is an export plugin: one instance writes one output file); remove 'workers' or set it to 1"
}
agg_msg() {
    echo "p.yaml:7:14: stage 'dst': workers: 3 needs an aggregate plugin with partial() and merge() (ABI minor 2); '$1' has neither; remove 'workers' or set it to 1"
}

ingest ingest_csv "path: in.csv, kind: org" >p.yaml
check ingest_csv p.yaml "$(ingest_msg ingest_csv)" only
ingest ingest_jsonl "path: in.jsonl" >p.yaml
check ingest_jsonl p.yaml "$(ingest_msg ingest_jsonl)" only
ingest ingest_sqlite "path: in.db, table: org, kind: org" >p.yaml
check ingest_sqlite p.yaml "$(ingest_msg ingest_sqlite)" only
ingest ingest_synth "members: 10" >p.yaml
check ingest_synth p.yaml "$(ingest_msg ingest_synth)" only
# no server here: the plugin's own complaint about the dsn may follow
ingest ingest_postgres "dsn: 'host=/nonexistent dbname=x', table: org" >p.yaml
check ingest_postgres p.yaml "$(ingest_msg ingest_postgres)"

after export_jsonl export "path: out.jsonl" >p.yaml
check export_jsonl p.yaml "$(export_msg export_jsonl)" only
after export_csv export "path: out.csv" >p.yaml
check export_csv p.yaml "$(export_msg export_csv)" only
after export_sqlite export "path: out.db" >p.yaml
check export_sqlite p.yaml "$(export_msg export_sqlite)" only
after export_xlsx export "path: out.xlsx" >p.yaml
check export_xlsx p.yaml "$(export_msg export_xlsx)" only
after export_report export "path: out.html" >p.yaml
check export_report p.yaml "$(export_msg export_report)" only
after export_postgres export "dsn: 'host=/nonexistent dbname=x'" >p.yaml
check export_postgres p.yaml "$(export_msg export_postgres)"

after aggregate_topk aggregate "field: name" >p.yaml
check aggregate_topk p.yaml "$(agg_msg aggregate_topk)" only
after aggregate_coverage aggregate "" >p.yaml
check aggregate_coverage p.yaml "$(agg_msg aggregate_coverage)" only

# control: the same stages at workers: 1 pass validate
sed 's/workers: 3/workers: 1/' p.yaml >q.yaml
rc=0
timeout 60 "$GIGFLOW" validate q.yaml >"$T/gf.out" 2>"$T/gf.err" || rc=$?
[ "$rc" = 0 ] || fail "control: validate exited $rc"
ingest ingest_csv "path: in.csv, kind: org" | sed 's/workers: 2/workers: 1/' >q.yaml
rc=0
timeout 60 "$GIGFLOW" run --quiet --no-progress q.yaml >"$T/gf.out" 2>"$T/gf.err" || rc=$?
[ "$rc" = 0 ] || fail "control: run exited $rc"
[ "$(wc -l <out.jsonl)" = 1 ] || fail "control: out.jsonl has $(wc -l <out.jsonl) lines, want 1"
echo ok

#!/usr/bin/env bash
# Failures: a plugin's error stops the run with "stage NAME: message" and
# exit 1, leaving no output; a config error or a missing plugin exits 2
# before anything runs; a failing commit exits 1.
. "$(dirname "$0")/runtime_lib.bash"

pipeline() { # $1 gen options, $2 mid options, $3 sink options
    cat <<Y
name: errors
stages:
  - name: gen
    plugin: t_gen
    with: {$1}
  - name: mid
    plugin: t_fail
    workers: 2
    from: gen
    with: {$2}
  - name: out
    plugin: t_sink
    from: mid
    with: {path: out.jsonl${3:+, $3}}
Y
}
no_output() {
    if ls | grep -q '^out\.jsonl'; then fail "output left behind: $(ls)"; fi
}

# ingest fails at record 700
pipeline "count: 5000, fail_at: 700" "" "" >p.yaml
gf run p.yaml --no-progress
expect_rc 1 "ingest failure"
expect_err "stage gen: failing at record 700 as asked"
no_output

# classify fails at its 300th record (each worker counts its own)
pipeline "count: 50000" "fail_at: 300" "" >p.yaml
gf run p.yaml --no-progress
expect_rc 1 "classify failure"
expect_err "stage mid: failing at record 300 as asked"
[ "$(grep -c '^stage ' "$ERR")" -ge 1 ] || fail "no stage line"
no_output

# commit fails: exit 1, the temporary file removed
pipeline "count: 50" "" "fail_commit: true" >p.yaml
gf run p.yaml --no-progress
expect_rc 1 "commit failure"
expect_err "stage out: commit fails as asked"
no_output

# the same pipeline succeeds without the failures
pipeline "count: 50" "" "" >p.yaml
gf run p.yaml --quiet
expect_rc 0 "control run"
[ "$(lines out.jsonl)" = 50 ] || fail "control output"
rm out.jsonl

# config errors exit 2 before running: an unknown option, a bad type
pipeline "count: 50, colour: red" "" "" >p.yaml
gf run p.yaml
expect_rc 2 "unknown option"
grep -q '^p.yaml:[0-9]*:[0-9]*: .*colour' "$ERR" || fail "unknown option position"
no_output
pipeline "count: many" "" "" >p.yaml
gf run p.yaml
expect_rc 2 "bad int"
grep -q '^p.yaml:[0-9]*:[0-9]*: ' "$ERR" || fail "bad int position"

# a plugin that is not there is named
sed 's/plugin: t_fail/plugin: t_nonesuch/' <(pipeline "count: 5" "" "") >p.yaml
gf run p.yaml
expect_rc 2 "missing plugin"
expect_err "t_nonesuch"
no_output

# no such pipeline file
gf run nope.yaml
expect_rc 2 "missing file"
expect_err "nope.yaml"
echo ok

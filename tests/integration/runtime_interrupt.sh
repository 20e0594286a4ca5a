#!/usr/bin/env bash
# SIGINT/SIGTERM mid-run: ingest stops, the rest drains, nothing is
# committed (no output file, no temporary file), "interrupted", exit 130.
# A second signal aborts at once.
. "$(dirname "$0")/runtime_lib.bash"

pid=
cleanup_run() { if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi; }
trap 'cleanup_run; rm -rf "$T"' EXIT

# start gigflow in the background (stdout/stderr to $OUT/$ERR)
start() {
    "$GIGFLOW" "$@" >"$OUT" 2>"$ERR" &
    pid=$!
}
# wait_for SECONDS CMD...: poll CMD until it succeeds or the deadline
wait_for() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || fail "timed out waiting for: $*"
        kill -0 "$pid" 2>/dev/null || fail "gigflow ended early: $(cat "$ERR")"
        sleep 0.05
    done
}
# finish SECONDS: wait for gigflow to end within the deadline; sets rc
finish() {
    local end=$((SECONDS + $1))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -lt "$end" ] || fail "gigflow did not stop within $1 s"
        sleep 0.05
    done
    rc=0
    wait "$pid" || rc=$?
    pid=
}
tmp_has_data() { # the sink's temporary file exists and holds records
    local f
    for f in out.jsonl.tmp-*; do [ -s "$f" ] && return 0; done
    return 1
}
no_output() {
    if ls | grep -q '^out\.jsonl'; then fail "output left behind: $(ls)"; fi
}

pipeline() { # $1 gen options, $2 sink options
    cat <<Y
name: interrupt
stages:
  - name: gen
    plugin: t_gen
    with: {$1}
  - name: mid
    plugin: t_count
    from: gen
  - name: pass
    plugin: t_fail
    workers: 2
    from: gen
  - name: out
    plugin: t_sink
    from: [pass, mid]
    with: {path: out.jsonl${2:+, $2}}
Y
}

# 1. a slow ingest, SIGINT
pipeline "count: 1000000, delay_us: 200" "" >slow_in.yaml
start run slow_in.yaml --no-progress
wait_for 20 tmp_has_data
kill -INT "$pid"
finish 20
expect_rc 130 "SIGINT, slow ingest"
expect_err "interrupted"
no_output

# 2. a slow export, SIGTERM: what is queued drains without processing
pipeline "count: 2000000" "delay_us: 2000, delay_every: 50" >slow_out.yaml
start run slow_out.yaml --no-progress
wait_for 20 tmp_has_data
kill -TERM "$pid"
finish 20
expect_rc 130 "SIGTERM, slow export"
expect_err "interrupted"
no_output

# 3. a second signal while a stage is stuck in a slow record: at once
pipeline "count: 100" "delay_us: 30000000" >stuck.yaml
start run stuck.yaml --no-progress
wait_for 20 eval 'ls out.jsonl.tmp-* >/dev/null 2>&1'
kill -INT "$pid"
# signals do not queue: send the second once the first was taken
wait_for 10 grep -q "signal again to abort" "$ERR"
kill -INT "$pid"
finish 10
expect_rc 130 "second SIGINT"
expect_err "aborting"
echo ok

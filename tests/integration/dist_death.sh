#!/usr/bin/env bash
# Death of a stateful instance (ingest, aggregate, export), each in its own
# process: every other process of the run exits non-zero within the
# heartbeat bound, no output file appears (a killed export may leave its
# own temporary file, never the target), and running again gives the
# one-process result.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

HBMS=$(hb 2000)
BOUND=$((HBMS / 1000 + 2)) # seconds: detection, then the abort spreading at once
P=$(pick_port)
cat >d.yaml <<Y
name: death
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20000, per_call: 50, delay_us: $((150 * SLOW))}
  - name: mid
    plugin: t_fail
    workers: 2
    from: gen
    listen: [tcp://127.0.0.1:$((P+1)), tcp://127.0.0.1:$((P+2))]
  - name: agg
    plugin: t_count
    from: mid
    listen: tcp://127.0.0.1:$((P+3))
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    listen: tcp://127.0.0.1:$((P+4))
    with: {path: result.jsonl}
Y
gf run d.yaml --quiet --set gen.delay_us=0 --set out.path=one.jsonl
expect_rc 0 "one-process run"

start_all() {
    GF_PIDS=() GF_NAMES=()
    for s in gen mid#0 mid#1 agg out; do
        bg "${s/\#/}" run d.yaml --stage "$s" --heartbeat $HBMS --quiet
    done
}

# wait until NAME's stderr says it connected somewhere (the run is up)
wait_up() {
    local deadline=$((SECONDS + 20 * SLOW))
    until grep -q "connected" "$1.err" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || dfail "$1 never connected"
        sleep 0.05
    done
}

for victim in agg gen out; do
    start_all
    wait_up gen
    wait_up agg
    sleep 0.5 # records flowing
    v="pid_$victim"
    kill -9 "$(child_of "${!v}")"
    t0=$(date +%s.%N)
    others=()
    for n in gen mid0 mid1 agg out; do [ "$n" = "$victim" ] || others+=("$n"); done
    all_fail_within "$victim killed" "$t0" $BOUND "${others[@]}"
    wait_rc "$victim" 2>/dev/null
    [ ! -e result.jsonl ] || dfail "$victim killed: result.jsonl exists"
    if [ "$victim" != out ]; then
        ls result.jsonl.tmp-* >/dev/null 2>&1 && dfail "$victim killed: temporary file left"
    fi
    rm -f result.jsonl.tmp-*
    echo "killed $victim: every process exited non-zero, the last ${worst}s after the kill (bound ${BOUND}s)"
done

# the same run, undisturbed, gives the one-process result
start_all
for n in gen mid0 mid1 agg out; do
    wait_rc "$n"
    [ "$rc" -eq 0 ] || dfail "re-run: $n exited $rc"
done
cmp one.jsonl result.jsonl || dfail "re-run output differs from the one-process run"
echo ok

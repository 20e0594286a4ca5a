#!/usr/bin/env bash
# An aggregate stage with several workers across processes: each instance
# takes its share of the batches (routed by batch id), instances 1..N-1
# send their partial states to instance 0, which merges them. Checked:
#  1. real plugins (ingest_csv -> classify_rules x2 -> aggregate_groupby x3
#     with every kind of metric -> export_jsonl) over tcp in five
#     processes, two aggregate instances sharing one process:
#     byte-identical to the one-process run with workers: 1; each instance
#     took a fair share, together exactly the input; the same with CURVE
#     (the stage's own key is on its default allow-list);
#  2. kill -9 of two of three classify workers at random points while the
#     aggregate has three instances: a batch redone by another worker comes
#     to the same aggregate instance (recognised there), output identical;
#  3. kill -9 of the process of two aggregate instances: every other
#     process exits non-zero within the heartbeat bound, no output file.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

SRC=${GF_SOURCE_DIR:-$here/../..}
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:${GF_BUILD_DIR:-$SRC/build}/lib/gigflow/plugins"
cp "$SRC/pipelines/distributed/sector_rules.yaml" .
mawk -v n=40000 -f "$SRC/tests/bench/gen_members.awk" >members.csv
P=$(pick_port)
HBMS=$(hb 2000)
BOUND=$((HBMS / 1000 + 2))

# ---------------------------------------------------- 1. real plugins --
real() { # $1 aggregate workers
    cat <<Y
name: dist-agg
dead_letters: dead.jsonl
stages:
  - name: members
    plugin: ingest_csv
    with: {path: members.csv, kind: member, encoding: utf-8}
  - name: sector
    plugin: classify_rules
    from: members
    workers: 2
    listen: [tcp://127.0.0.1:$((P+1)), tcp://127.0.0.1:$((P+2))]
    with: {rules: sector_rules.yaml}
  - name: groups
    plugin: aggregate_groupby
    from: sector
    workers: $1
    listen: [tcp://127.0.0.1:$((P+3)), tcp://127.0.0.1:$((P+4)), tcp://127.0.0.1:$((P+5))]
    with:
      by: [district, sector]
      metrics:
        workers: count()
        party: count_if(party)
        points: sum(points)
        low: min(age)
        high: max(points)
        avg_age: avg(age)
        stations: distinct(station)
        median_days: median(active_days)
  - name: out
    plugin: export_jsonl
    from: groups
    listen: tcp://127.0.0.1:$((P+6))
    with: {path: result.jsonl}
Y
}
real 1 | sed '/listen: \[tcp:\/\/127.0.0.1:'$((P+3))'/d' >one.yaml
gf run one.yaml --quiet --set out.path=one.jsonl
expect_rc 0 "one-process run, workers 1"
[ "$(lines one.jsonl)" -gt 30 ] || fail "one-process output too small"
real 3 >split.yaml

run_real() { # $1 label, $2 pipeline
    rm -f result.jsonl
    GF_PIDS=() GF_NAMES=()
    local X=(--heartbeat "$HBMS")
    GIGFLOW_DEBUG=1 bg D run "$2" --stage 'groups#0' --stage 'groups#1' "${X[@]}"
    GIGFLOW_DEBUG=1 bg E run "$2" --stage 'groups#2' --stage out "${X[@]}"
    bg B run "$2" --stage 'sector#0' --quiet "${X[@]}"
    bg C run "$2" --stage 'sector#1' --quiet "${X[@]}"
    bg A run "$2" --stage members --quiet "${X[@]}"
    for h in A B C D E; do
        wait_rc $h
        [ "$rc" -eq 0 ] || dfail "$1: process $h exited $rc"
    done
    cmp one.jsonl result.jsonl || dfail "$1: output differs from the one-process run"
    # each aggregate instance took a fair share of the records, together
    # exactly the input (its debug line: "input complete: N records")
    local sum=0 k n
    for k in 0 1 2; do
        n=$(sed -n "s/^stage groups: instance $k: input complete: \([0-9]*\) records$/\1/p" D.err E.err | head -1)
        [ -n "$n" ] || dfail "$1: groups#$k said nothing of its input"
        [ "$n" -gt 8000 ] || dfail "$1: groups#$k took only $n of 40000 records"
        sum=$((sum + n))
    done
    [ "$sum" = 40000 ] || dfail "$1: the instances took $sum records, want 40000"
    grep -q "instance 1: connected to groups#0" D.err || dfail "$1: groups#1 never reached groups#0"
    grep -q "instance 2: connected to groups#0" E.err || dfail "$1: groups#2 never reached groups#0"
    grep -q "instance 1: partial state sent: [1-9][0-9]* batches" D.err ||
        dfail "$1: groups#1 sent no partial state"
    echo "$1: same output"
}
run_real "tcp, aggregate x3" split.yaml

for s in members sector groups out; do gf keygen $s --dir keys; expect_rc 0 "keygen $s"; done
sed -e 's|^stages:|security:\n  keys: keys/\nstages:|' split.yaml >curve.yaml
run_real "tcp with CURVE, aggregate x3" curve.yaml

# ------------------------------------------- 2. classify workers killed --
N=60000
fx() { # $1 aggregate workers
    cat <<Y
name: dist-agg-kill
stages:
  - name: gen
    plugin: t_gen
    with: {count: $N, per_call: 500}
  - name: mid
    plugin: t_fail
    workers: 3
    from: gen
    listen: [tcp://127.0.0.1:$((P+11)), tcp://127.0.0.1:$((P+12)), tcp://127.0.0.1:$((P+13))]
    with: {tag: w, delay_us: 150}
  - name: agg
    plugin: aggregate_groupby
    from: mid
    workers: $1
    listen: [tcp://127.0.0.1:$((P+14)), tcp://127.0.0.1:$((P+15)), tcp://127.0.0.1:$((P+16))]
    with:
      by: [group]
      metrics: {n: count(), total: sum(seq), low: min(seq), high: max(seq),
                names: distinct(name), mid: median(seq)}
  - name: out
    plugin: t_sink
    from: agg
    listen: tcp://127.0.0.1:$((P+17))
    with: {path: agg.jsonl}
Y
}
fx 1 | sed '/listen: \[tcp:\/\/127.0.0.1:'$((P+14))'/d' >fx1.yaml
gf run fx1.yaml --quiet --set mid.delay_us=0 --set out.path=fxone.jsonl
expect_rc 0 "fixture one-process run"
grep -qF "\"n\":$((N / 5))," fxone.jsonl || fail "fixture reference: $(head -2 fxone.jsonl)"
fx 3 >fx3.yaml
start_fx() {
    GF_PIDS=() GF_NAMES=()
    bg gen run fx3.yaml --stage gen "${X[@]}"
    for i in 0 1 2; do bg "mid$i" run fx3.yaml --stage "mid#$i" "${X[@]}"; done
    bg agg run fx3.yaml --stage 'agg#0' --stage 'agg#1' "${X[@]}"
    bg agg2 run fx3.yaml --stage 'agg#2' --stage out "${X[@]}"
}
X=(--heartbeat "$HBMS" --quiet)
start_fx
deadline=$((SECONDS + 60 * SLOW))
until [ "$(grep -c 'connected to mid#' gen.err 2>/dev/null)" = 3 ]; do
    [ $SECONDS -lt $deadline ] || dfail "the workers never all connected"
    sleep 0.05
done
for i in 0 1; do
    d=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + (r % 50) / 100 }')
    sleep "$d" # a random point of the run, not a wait for something
    v="pid_mid$i"
    c=$(child_of "${!v}")
    [ -n "$c" ] || dfail "worker $i ended before it could be killed (run too short?)"
    kill -9 "$c"
done
for n in gen mid2 agg agg2; do
    wait_rc $n
    [ "$rc" -eq 0 ] || dfail "classify workers killed: $n exited $rc"
done
grep -q "taken as dead" gen.err || dfail "the ingest never noticed a dead worker"
cmp fxone.jsonl agg.jsonl || dfail "classify workers killed: output differs"
echo "two of three classify workers killed: same output"

# ------------------------------------------ 3. an aggregate instance dies --
rm -f agg.jsonl
start_fx
deadline=$((SECONDS + 60 * SLOW))
until grep -q "connected to agg#2" mid0.err 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || dfail "mid#0 never reached agg#2"
    sleep 0.05
done
sleep 0.4 # records flowing
kill -9 "$(child_of "$pid_agg")"
all_fail_within "agg#0/#1 killed" "$(date +%s.%N)" $BOUND gen mid0 mid1 mid2 agg2
[ ! -e agg.jsonl ] || dfail "an aggregate instance killed: agg.jsonl exists"
ls agg.jsonl.tmp-* >/dev/null 2>&1 && dfail "an aggregate instance killed: temporary file left"
echo "an aggregate instance killed: every process exited non-zero within ${BOUND}s"

# ---------------------- 4. processes that disagree about the workers --
# the classify workers' file says 2 aggregate workers, the others' 3: a
# batch arrives at an instance whose share it is not; the run fails,
# saying so, instead of stalling its producer
fx 2 | sed -e "s|, tcp://127.0.0.1:$((P+16))]|]|" >fx2.yaml
gf validate fx2.yaml
expect_rc 0 "fx2.yaml (2 aggregate workers)"
GF_PIDS=() GF_NAMES=()
for i in 0 1 2; do bg "a$i" run fx3.yaml --stage "agg#$i" "${X[@]}"; done
for i in 0 1 2; do bg "m$i" run fx2.yaml --stage "mid#$i" "${X[@]}"; done
bg o run fx3.yaml --stage out "${X[@]}"
bg g run fx3.yaml --stage gen "${X[@]}"
wait_rc g
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || dfail "workers disagree: the ingest exited $rc"
for n in a0 a1 a2 m0 m1 m2 o; do
    wait_rc "$n"
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || dfail "workers disagree: $n exited $rc"
done
grep -h "do all processes run the same pipeline file" a*.err >/dev/null ||
    dfail "workers disagree: no instance said why"
echo "processes disagreeing about the workers: the run fails, saying why"
echo ok

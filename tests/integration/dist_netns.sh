#!/usr/bin/env bash
# Three "hosts" made of network namespaces (created here, joined by a
# bridge in a fourth namespace, addresses 10.199.0.0/24 only inside them):
#  1. the shipped example (pipelines/distributed) with ingest, aggregate
#     and export on A and a classify worker on each of B and C: the output
#     is byte-identical to the one-process run;
#  2. host C's link taken down for 5 s mid-run (default 3 s heartbeat):
#     C's worker is taken as dead, its batches are redone on B, the run
#     completes on A and B with the one-process output (C's worker, cut off
#     from its producer, exits non-zero: that is the documented behaviour).
# Needs root and `ip netns`; exits 77 (skipped) where namespaces cannot be
# made, and says so.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

id=$$
NS_A=gfa$id NS_B=gfb$id NS_C=gfc$id NS_S=gfs$id
made=()
dist_extra_cleanup() {
    for ns in "${made[@]}"; do ip netns del "$ns" || true; done
}
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
    ! ip netns add "$NS_S" 2>/dev/null; then
    echo "SKIP: network namespaces cannot be created here (needs root and ip netns)"
    exit 77
fi
made+=("$NS_S")
ip netns exec "$NS_S" ip link add br0 type bridge
ip netns exec "$NS_S" ip link set br0 up
n=1
for h in A B C; do
    v="NS_$h"
    ns=${!v}
    ip netns add "$ns"
    made+=("$ns")
    ip link add "gfv$h$id" type veth peer name "gfs$h$id"
    ip link set "gfv$h$id" netns "$ns"
    ip link set "gfs$h$id" netns "$NS_S"
    ip netns exec "$ns" ip link set "gfv$h$id" name eth0
    ip netns exec "$ns" ip addr add "10.199.0.$n/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$NS_S" ip link set "gfs$h$id" master br0
    ip netns exec "$NS_S" ip link set "gfs$h$id" up
    n=$((n + 1))
done
export HOST_A=10.199.0.1 HOST_B=10.199.0.2 HOST_C=10.199.0.3

# bgns NAME HOST ARGS...: gigflow ARGS in HOST's namespace
bgns() {
    local name=$1 h=$2
    shift 2
    local v="NS_$h"
    ip netns exec "${!v}" timeout $((120 * SLOW)) "$GIGFLOW" "$@" --heartbeat "$(hb 3000)" >"$name.out" 2>"$name.err" &
    GF_PIDS+=($!)
    GF_NAMES+=("$name")
    eval "pid_$name=$!"
}

# 1. the shipped example over three hosts
SRC=${GF_SOURCE_DIR:-$here/../..}
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:${GF_BUILD_DIR:-$SRC/build}/lib/gigflow/plugins"
cp "$SRC/pipelines/distributed/pipeline.yaml" "$SRC/pipelines/distributed/sector_rules.yaml" .
mawk -v n=30000 -f "$SRC/tests/bench/gen_members.awk" >members.csv
export MEMBERS_CSV=$T/members.csv
mkdir -p one split
GIGFLOW_OUT=one HOST_A=127.0.0.1 HOST_B=127.0.0.1 HOST_C=127.0.0.1 gf run pipeline.yaml --quiet
expect_rc 0 "one-process run"
export GIGFLOW_OUT=split
bgns B B run pipeline.yaml --stage 'sector#0' --quiet
bgns C C run pipeline.yaml --stage 'sector#1' --quiet
bgns A A run pipeline.yaml --stage members --stage groups --stage out --quiet
for h in A B C; do
    wait_rc $h
    [ "$rc" -eq 0 ] || dfail "example: host $h exited $rc"
done
cmp one/groups.csv split/groups.csv || dfail "example: output differs from the one-process run"
grep -q "from 10.199.0.2" A.err || dfail "example: B's worker did not reach A over the namespaces"
echo "example over three namespaces: same output"

# 2. a link down for 5 s
N=40000
cat >l.yaml <<Y
name: linkdown
stages:
  - name: gen
    plugin: t_gen
    with: {count: $N, per_call: 100, delay_us: 150}
  - name: mid
    plugin: t_fail
    workers: 2
    from: gen
    listen: [tcp://$HOST_B:7201, tcp://$HOST_C:7202]
    with: {tag: w}
  - name: agg
    plugin: t_count
    from: mid
    listen: tcp://$HOST_A:7203
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    with: {path: agg.jsonl}
  - name: raw
    plugin: t_sink
    from: mid
    listen: tcp://$HOST_A:7204
    with: {path: raw.jsonl}
Y
sed -e "s|$HOST_B|127.0.0.1|; s|$HOST_C|127.0.0.1|; s|$HOST_A:7203|127.0.0.1:7203|; s|$HOST_A:7204|127.0.0.1:7204|" l.yaml >l1.yaml
gf run l1.yaml --quiet --set gen.delay_us=0 --set out.path=one.jsonl --set raw.path=oneraw.jsonl
expect_rc 0 "linkdown: one-process run"
GF_PIDS=() GF_NAMES=()
bgns LA A run l.yaml --stage gen --stage agg --stage out --stage raw --quiet
bgns LB B run l.yaml --stage 'mid#0' --quiet
bgns LC C run l.yaml --stage 'mid#1' --quiet
deadline=$((SECONDS + 20 * SLOW))
until grep -q "producer 1 connected" LC.err 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || dfail "linkdown: C's worker never connected"
    sleep 0.05
done
sleep 1 # records flowing to both workers
ip netns exec "$NS_C" ip link set eth0 down
sleep $((5 * SLOW)) # the outage itself (longer than the heartbeat), not a wait for an event
ip netns exec "$NS_C" ip link set eth0 up
for h in LA LB; do
    wait_rc $h
    [ "$rc" -eq 0 ] || dfail "linkdown: $h exited $rc"
done
wait_rc LC
echo "linkdown: C's worker exited $rc: $(grep -m1 -o 'lost .*' LC.err || true)"
grep -q "mid#1 at tcp://$HOST_C:7202: no message" LA.err || dfail "linkdown: A did not notice C's silence"
cmp one.jsonl agg.jsonl || dfail "linkdown: aggregate differs from the one-process run"
cmp <(sort oneraw.jsonl) <(sort raw.jsonl) || dfail "linkdown: record stream differs (sorted)"
diff <(seqs raw.jsonl) <(upto $N) >/dev/null || dfail "linkdown: seqs 1..$N not exactly once each"
echo ok

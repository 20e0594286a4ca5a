#!/usr/bin/env bash
# The end of a run across processes (gf_link.h: HEARTBEAT "done" and
# "ok"): no process ends with success before everything after it has
# committed its outputs. Five processes: gen -> mid x2 -> agg -> out, the
# export slow (about 0.75 s for its 5 records).
#  1. an undisturbed run: the ingest has finished its part (its end of
#     stream acknowledged) while the export still works; it is still
#     running then, and when it exits 0 the export's file exists;
#  2. the aggregate killed after the ingest finished its part: every
#     process exits non-zero within the heartbeat bound, the ingest too;
#  3. the export's commit() fails in its own process: every other process
#     exits non-zero too, and no output file exists;
#  4. a plugin callback longer than the heartbeat (the export's process()
#     of one batch sleeps 1.5 heartbeats): the process's keeper thread
#     keeps its links alive, nobody is taken as dead, the run completes;
#  5. "done" and "ok" also cross an inproc edge: gen -> mid -inproc-> agg
#     in one process -> out in another whose commit fails late (a slow
#     side branch there): the ingest does not exit 0;
#  6. the export's process is interrupted while its process() sleeps for
#     5 heartbeats: the keeper tells the peers at once (it never vouches
#     for a failed run), they exit within the heartbeat bound.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

HBMS=$(hb 2000)
BOUND=$((HBMS / 1000 + 2))
P=$(pick_port)
cat >e.yaml <<Y
name: end
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20000, per_call: 500}
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
    with: {path: result.jsonl, delay_us: $((150000 * SLOW))}
Y
gf run e.yaml --quiet --set out.delay_us=0 --set out.path=one.jsonl
expect_rc 0 "one-process run"

start_all() { # extra options for out
    rm -f result.jsonl
    GF_PIDS=() GF_NAMES=()
    GIGFLOW_DEBUG=1 bg gen run e.yaml --stage gen --heartbeat "$HBMS"
    for s in mid#0 mid#1 agg; do
        bg "${s/\#/}" run e.yaml --stage "$s" --heartbeat "$HBMS" --quiet
    done
    bg out run e.yaml --stage out --heartbeat "$HBMS" --quiet "$@"
}

# until the ingest's end of stream was acknowledged: its part is done
wait_gen_part() {
    local deadline=$((SECONDS + 30 * SLOW))
    until grep -q "end of stream acknowledged" gen.err 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || dfail "the ingest never finished its part"
        sleep 0.02
    done
}

# every process but $1 exits non-zero within the bound (from t0)
all_fail() {
    local n others=()
    for n in gen mid0 mid1 agg out; do [ "$n" = "$1" ] || others+=("$n"); done
    all_fail_within "$2" "$t0" $BOUND "${others[@]}"
}

# 1. the ingest waits for the export's commit
start_all
wait_gen_part
[ ! -e result.jsonl ] || dfail "the export finished before the ingest's part (no window)"
kill -0 "$(child_of "$pid_gen")" 2>/dev/null || dfail "the ingest ended before the export committed"
wait_rc gen
[ "$rc" -eq 0 ] || dfail "undisturbed: gen exited $rc"
[ -e result.jsonl ] || dfail "the ingest exited 0 before the export's file existed"
for n in mid0 mid1 agg out; do
    wait_rc "$n"
    [ "$rc" -eq 0 ] || dfail "undisturbed: $n exited $rc"
done
cmp one.jsonl result.jsonl || dfail "undisturbed: output differs from the one-process run"
echo "undisturbed: the ingest stayed until the export had committed"

# 2. the aggregate dies after the ingest's part is done
start_all
wait_gen_part
kill -9 "$(child_of "$pid_agg")"
t0=$(date +%s.%N)
all_fail agg "agg killed after the ingest's part"
wait_rc agg 2>/dev/null
[ ! -e result.jsonl ] || dfail "agg killed: result.jsonl exists"
echo "agg killed after the ingest's part: every process exited non-zero within ${BOUND}s"

# 3. the export's commit fails
start_all --set out.fail_commit=true
wait_rc out
t0=$(date +%s.%N)
[ "$rc" -eq 1 ] || dfail "failing commit: out exited $rc, want 1"
grep -q "commit fails as asked" out.err || dfail "failing commit: out did not say why"
all_fail out "failing commit"
[ ! -e result.jsonl ] || dfail "failing commit: result.jsonl exists"
echo "the export's commit failed: every process exited non-zero"

# 4. one process() call of the export takes 1.5 heartbeats
start_all --set out.delay_us=$((HBMS * 1500)) --set out.delay_every=5
for n in gen mid0 mid1 agg out; do
    wait_rc "$n"
    [ "$rc" -eq 0 ] || dfail "slow export: $n exited $rc"
done
! grep -q "taken as dead" ./*.err || dfail "slow export: a live peer was taken as dead"
cmp one.jsonl result.jsonl || dfail "slow export: output differs"
echo "a plugin call of 1.5 heartbeats: nobody taken as dead, same output"

# 5. mid -> agg inproc in process M; out's process commits late and fails
cat >i.yaml <<Y
name: inproc-end
stages:
  - name: gen
    plugin: t_gen
    with: {count: 2000, per_call: 500}
  - name: mid
    plugin: t_fail
    from: gen
    listen: tcp://127.0.0.1:$((P+11))
  - name: agg
    plugin: t_count
    from: mid
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    listen: tcp://127.0.0.1:$((P+12))
    with: {path: result.jsonl, fail_commit: true}
  - name: gen2
    plugin: t_gen
    with: {count: 10, per_call: 1}
  - name: slow
    plugin: t_sink
    from: gen2
    with: {path: slow.jsonl, delay_us: $((200000 * SLOW))}
Y
rm -f result.jsonl slow.jsonl
GF_PIDS=() GF_NAMES=()
bg M run i.yaml --stage mid --stage agg --heartbeat "$HBMS" --quiet
bg O run i.yaml --stage out --stage gen2 --stage slow --heartbeat "$HBMS" --quiet
bg G run i.yaml --stage gen --heartbeat "$HBMS" --quiet
for n in G M O; do
    wait_rc "$n"
    [ "$rc" -ne 0 ] || dfail "inproc edge, late failing commit: $n exited 0"
    [ "$rc" -ne 124 ] || dfail "inproc edge, late failing commit: $n hung"
done
[ ! -e result.jsonl ] || dfail "inproc edge: result.jsonl exists"
echo "done/ok across an inproc edge: a late failing commit fails the ingest too"

# 6. SIGINT to the export's process in the middle of a 5-heartbeat call
start_all --set out.delay_us=$((HBMS * 5000)) --set out.delay_every=5
wait_gen_part
sleep 0.5 # the export is in its long process() now
kill -INT "$(child_of "$pid_out")"
t0=$(date +%s.%N)
all_fail out "export interrupted in a long call"
grep -q "was interrupted: the run stops" agg.err ||
    dfail "export interrupted in a long call: agg was not told"
kill -INT "$(child_of "$pid_out")" 2>/dev/null || true # the second: at once
wait_rc out
[ "$rc" -eq 130 ] || dfail "export interrupted in a long call: it exited $rc, want 130"
[ ! -e result.jsonl ] || dfail "export interrupted: result.jsonl exists"
echo "interrupted inside a long plugin call: the peers were told at once"
echo ok

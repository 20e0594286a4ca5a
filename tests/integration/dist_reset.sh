#!/usr/bin/env bash
# TCP connections reset under a running distributed pipeline (ss -K kills
# the sockets, as a middlebox or a peer's kernel would): ZeroMQ reconnects
# by itself, but what was on a broken connection - batches, their
# acknowledgements, ends of stream - is gone while both ends stay alive.
# The producers send again what stays unacknowledged for a heartbeat, the
# consumers drop copies of what they hold and acknowledge again what they
# had acknowledged. Five resets while the records flow: every process
# exits 0, the aggregate's output is byte-identical to the one-process run
# and the record stream holds every record exactly once.
# Skipped (77) where the kernel cannot kill sockets (no INET_DIAG_DESTROY).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

N=100000
P=$(pick_port)
HBMS=$(hb 3000) # the default: a storm of resets must not look like deaths
cat >r.yaml <<Y
name: reset
stages:
  - name: gen
    plugin: t_gen
    with: {count: $N, per_call: 100, delay_us: $((40 * SLOW))}
  - name: mid
    plugin: t_fail
    workers: 2
    from: gen
    listen: [tcp://127.0.0.1:$((P+1)), tcp://127.0.0.1:$((P+2))]
    with: {tag: w}
  - name: agg
    plugin: t_count
    from: mid
    listen: tcp://127.0.0.1:$((P+3))
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    with: {path: agg.jsonl}
  - name: raw
    plugin: t_sink
    from: mid
    listen: tcp://127.0.0.1:$((P+4))
    with: {path: raw.jsonl}
Y
gf run r.yaml --quiet --set gen.delay_us=0 --set out.path=one.jsonl --set raw.path=oneraw.jsonl
expect_rc 0 "one-process run"

X=(--heartbeat "$HBMS" --quiet)
GIGFLOW_DEBUG=1 bg gen run r.yaml --stage gen --heartbeat "$HBMS"
for i in 0 1; do bg "mid$i" run r.yaml --stage "mid#$i" "${X[@]}"; done
bg agg run r.yaml --stage agg --stage out "${X[@]}"
bg raw run r.yaml --stage raw "${X[@]}"
deadline=$((SECONDS + 30 * SLOW))
until [ "$(grep -c 'connected to mid#' gen.err 2>/dev/null)" = 2 ]; do
    [ $SECONDS -lt $deadline ] || dfail "the workers never connected"
    sleep 0.05
done

ports="( dport = :$((P+1)) or dport = :$((P+2)) or dport = :$((P+3)) or dport = :$((P+4)) )"
killed=0
for i in $(seq 5); do
    sleep 0.6 # records flowing; a moment of the run, not a wait for it
    out=$(ss -K dst 127.0.0.1 "$ports" 2>&1) || true
    if grep -qi "not supported\|invalid argument" <<<"$out" && [ $killed = 0 ] &&
        ! grep -q ESTAB <<<"$out"; then
        echo "SKIP: this kernel cannot kill sockets (ss -K: $out)"
        exit 77
    fi
    killed=$((killed + $(grep -c ESTAB <<<"$out" || true)))
done
[ "$killed" -gt 0 ] || dfail "no connection was reset (run too short?)"

for n in gen mid0 mid1 agg raw; do
    wait_rc $n
    [ "$rc" -eq 0 ] || dfail "connections reset: $n exited $rc"
done
cmp one.jsonl agg.jsonl || dfail "connections reset: aggregate output differs"
cmp <(sort oneraw.jsonl) <(sort raw.jsonl) || dfail "connections reset: record stream differs (sorted)"
diff <(seqs raw.jsonl) <(upto $N) >/dev/null || dfail "seqs 1..$N not exactly once each"
resent=$(grep -c "unacknowledged for a heartbeat: sent again" gen.err || true)
echo "$killed connections reset: same output, every record once ($resent batches of the ingest sent again)"
echo ok

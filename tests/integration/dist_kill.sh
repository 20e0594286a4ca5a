#!/usr/bin/env bash
# kill -9 of classify workers at 5 random points of a distributed run,
# with thousands of records in flight: the run completes, the aggregate's
# output is byte-identical to the one-process run, and the record stream
# (sorted) holds every record exactly once. The workers reject every
# record whose seq is a multiple of 97: each process writes its own
# dead-letter file (dead.mid.I.jsonl), a worker writes a batch's rejects
# only once its outputs were acknowledged, and together the files hold
# every reject exactly once (by batch id: the lines of a batch redone
# after its worker died are recognisable copies).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

N=60000
P=$(pick_port)
cat >k.yaml <<Y
name: kill
dead_letters: dead.jsonl
stages:
  - name: gen
    plugin: t_gen
    with: {count: $N, per_call: 500}
  - name: mid
    plugin: t_fail
    workers: 6
    from: gen
    listen: [tcp://127.0.0.1:$((P+1)), tcp://127.0.0.1:$((P+2)), tcp://127.0.0.1:$((P+3)),
             tcp://127.0.0.1:$((P+4)), tcp://127.0.0.1:$((P+5)), tcp://127.0.0.1:$((P+6))]
    with: {tag: w, delay_us: 200, reject_seq_mod: 97}
  - name: agg
    plugin: t_count
    from: mid
    listen: tcp://127.0.0.1:$((P+7))
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    with: {path: agg.jsonl}
  - name: raw
    plugin: t_sink
    from: mid
    listen: tcp://127.0.0.1:$((P+8))
    with: {path: raw.jsonl}
Y

# the reference: one process, no delay
gf run k.yaml --quiet --set mid.delay_us=0 --set out.path=one.jsonl --set raw.path=oneraw.jsonl
expect_rc 0 "one-process run"
[ "$(lines dead.jsonl)" = $((N / 97)) ] || fail "one-process run: $(lines dead.jsonl) dead letters, want $((N / 97))"
grep -q '"batch"' dead.jsonl && fail "a one-process dead letter names a batch"
rm dead.jsonl

HB=(--heartbeat "$(hb 2000)" --quiet)
bg gen run k.yaml --stage gen "${HB[@]}"
for i in 0 1 2 3 4 5; do bg "mid$i" run k.yaml --stage "mid#$i" "${HB[@]}"; done
bg agg run k.yaml --stage agg --stage out "${HB[@]}"
bg raw run k.yaml --stage raw "${HB[@]}"

# the run is up when the ingest reached all six workers
deadline=$((SECONDS + 60 * SLOW))
until [ "$(grep -c 'connected to mid#' gen.err 2>/dev/null)" = 6 ]; do
    [ $SECONDS -lt $deadline ] || dfail "the workers never all connected"
    sleep 0.05
done

# five kills at random moments while the records flow (workers 0..4;
# worker 5 survives to finish the work)
for i in 0 1 2 3 4; do
    d=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (r % 60) / 100 }')
    sleep "$d"   # a random point of the run, not a wait for something
    v="pid_mid$i"
    c=$(child_of "${!v}")
    [ -n "$c" ] || dfail "worker $i ended before it could be killed (run too short?)"
    kill -9 "$c"
done

for n in gen agg raw; do
    wait_rc $n
    [ "$rc" -eq 0 ] || dfail "$n exited $rc"
done
wait_rc mid5
[ "$rc" -eq 0 ] || dfail "the surviving worker exited $rc"

grep -q "taken as dead" gen.err || dfail "the ingest never noticed a dead worker"
cmp one.jsonl agg.jsonl || dfail "aggregate output differs from the one-process run"
cmp <(sort oneraw.jsonl) <(sort raw.jsonl) || dfail "record stream differs (sorted)"
want=$(upto $N | awk '$1 % 97 != 0')
diff <(seqs raw.jsonl) <(echo "$want") >/dev/null || dfail "seqs 1..$N (less the rejected) not exactly once each"

# dead letters: one file per process, none shared
[ -e dead.mid.5.jsonl ] || dfail "the surviving worker wrote no dead.mid.5.jsonl"
[ ! -e dead.jsonl ] || dfail "a process wrote the unsuffixed dead.jsonl"
cat dead.mid.*.jsonl >all-dead.jsonl
# complete lines only (a process killed while writing may leave half a
# line: that batch was not acknowledged, so it was redone elsewhere)
grep -E '^\{.*\}$' all-dead.jsonl |
    sed -n 's/.*"batch":{"origin":\([0-9]*\),"seq":\([0-9]*\),"reject":\([0-9]*\)},"record":{[^}]*"seq":\([0-9]*\).*/\1 \2 \3 \4/p' >ids.txt
[ "$(lines ids.txt)" -ge $((N / 97)) ] || dfail "only $(lines ids.txt) dead letters with a batch id"
sort -u -k1,1n -k2,2n -k3,3n ids.txt | awk '{print $4}' | sort -n >rejected.txt
diff rejected.txt <(upto $N | awk '$1 % 97 == 0') >/dev/null ||
    dfail "the rejects (unique by batch id) are not exactly the multiples of 97"
# a batch id always carries the same record
[ "$(sort -u ids.txt | awk '{print $1, $2, $3}' | uniq -d | wc -l)" = 0 ] ||
    dfail "one batch id with two different records"
copies=$(($(lines ids.txt) - $(lines rejected.txt)))
echo "dead letters: $(lines rejected.txt) rejects, each once by batch id ($copies copies of redone batches)"
echo ok

#!/usr/bin/env bash
# Rejected records go to the dead letters (the pipeline's file, else
# stderr) with stage and reason, the run goes on; --max-rejects N fails
# the run once more than N were rejected; drops are counted.
. "$(dirname "$0")/runtime_lib.bash"

pipeline() { # $1 extra top-level line
    cat <<Y
name: rejects
$1
stages:
  - name: gen
    plugin: t_gen
    with: {count: 1000}
  - name: mid
    plugin: t_fail
    from: gen
    with: {reject_every: 10, drop_every: 7}
  - name: out
    plugin: t_sink
    from: mid
    with: {path: out.jsonl}
Y
}
# By hand: mid sees seq 1..1000 in order; multiples of 10 are rejected
# (100), of the others multiples of 7 are dropped, the rest pass.
want_rej=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) if (i % 10 == 0) n++; print n }')
want_drop=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) if (i % 10 && i % 7 == 0) n++; print n }')
want_out=$((1000 - want_rej - want_drop))

pipeline "dead_letters: dead.jsonl" >p.yaml
gf run p.yaml --no-progress
expect_rc 0 "rejects run"
[ "$(lines dead.jsonl)" = "$want_rej" ] || fail "dead letters: $(lines dead.jsonl), want $want_rej"
[ "$(grep -c '"stage":"mid"' dead.jsonl)" = "$want_rej" ] || fail "dead letter stage"
[ "$(grep -c '"reason":"every 10th record is rejected"' dead.jsonl)" = "$want_rej" ] ||
    fail "dead letter reason"
diff <(seqs dead.jsonl) <(awk 'BEGIN { for (i = 10; i <= 1000; i += 10) print i }') >/dev/null ||
    fail "dead letters hold the rejected records"
[ "$(lines out.jsonl)" = "$want_out" ] || fail "output: $(lines out.jsonl), want $want_out"
awk -v r="$want_rej" -v d="$want_drop" -v o="$want_out" \
    '$1 == "mid" && $2 == 1000 && $3 == o && $4 == r && $5 == d { ok = 1 }
     END { exit !ok }' "$ERR" || fail "summary row of mid"

# no dead_letters file: the lines go to stderr
rm -f out.jsonl dead.jsonl
pipeline "" >p.yaml
gf run p.yaml --quiet
expect_rc 0 "rejects to stderr"
[ "$(grep -c '"reason":"every 10th record is rejected"' "$ERR")" = "$want_rej" ] ||
    fail "dead letters on stderr"

# --max-rejects: exactly the count passes, one less fails
pipeline "dead_letters: dead.jsonl" >p.yaml
gf run p.yaml --quiet --max-rejects "$want_rej"
expect_rc 0 "max-rejects equal"
rm -f out.jsonl
gf run p.yaml --quiet --max-rejects $((want_rej - 1))
expect_rc 1 "max-rejects exceeded"
expect_err "more than --max-rejects $((want_rej - 1))"
grep -q "^stage mid: " "$ERR" || fail "names the stage"
if [ -e out.jsonl ]; then fail "output left after a failed run"; fi
gf run p.yaml --max-rejects=lots
expect_rc 2 "bad --max-rejects"
echo ok

#!/usr/bin/env bash
# workers: N spreads records over N instances without losing or doubling
# any: the multiset of output records equals that of workers: 1, also
# with two classify stages of several workers in a row.
# (Ingest and export stages run one instance for now: the loader refuses
# workers > 1 there; tests/unit/test_exec.c covers the executor with them.)
. "$(dirname "$0")/runtime_lib.bash"

pipeline() { # $1 mid workers, $2 second workers, $3 output
    cat <<Y
name: workers
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20000, per_call: 101}
  - name: mid
    plugin: t_fail
    workers: $1
    from: gen
    with: {tag: w}
  - name: second
    plugin: t_fail
    workers: $2
    from: mid
  - name: out
    plugin: t_sink
    from: second
    with: {path: $3}
Y
}
pipeline 1 1 one.jsonl >one.yaml
pipeline 4 1 four.jsonl >four.yaml
pipeline 4 3 split.jsonl >split.yaml
gf run one.yaml --quiet --batch-bytes 2k
expect_rc 0 "workers 1"
gf run four.yaml --quiet --batch-bytes 2k
expect_rc 0 "workers 4"
gf run split.yaml --quiet --batch-bytes 2k
expect_rc 0 "workers 4 then 3"

[ "$(lines one.jsonl)" = 20000 ] || fail "one: $(lines one.jsonl)"
diff <(sort one.jsonl) <(sort four.jsonl) >/dev/null || fail "workers 4 differs from workers 1"
diff <(sort one.jsonl) <(sort split.jsonl) >/dev/null || fail "4 then 3 workers differ from 1"
diff <(seqs four.jsonl) <(upto 20000) >/dev/null || fail "seqs 1..20000 once each"
# with small batches and 4 workers, records interleave: the order differs

# the load is spread: every one of 4 workers passes some records on
cat >mark.yaml <<'Y'
name: mark
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20000}
  - name: mid
    plugin: t_fail
    workers: 4
    from: gen
    with: {mark_instance: true}
  - name: out
    plugin: t_sink
    from: mid
    with: {path: mark.jsonl}
Y
gf run mark.yaml --quiet --batch-bytes 1k
expect_rc 0 "mark run"
used=$(sed -n 's/.*"instance":\([0-9]*\).*/\1/p' mark.jsonl | sort -u | tr '\n' ' ')
[ "$used" = "0 1 2 3 " ] || fail "workers used: [$used], want all of 0 1 2 3"
diff <(seqs mark.jsonl) <(upto 20000) >/dev/null || fail "mark seqs"
echo ok

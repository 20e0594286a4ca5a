#!/usr/bin/env bash
# A linear pipeline ingest -> classify -> export moves every record once;
# an aggregate after it sees all of them; the summary counts them.
. "$(dirname "$0")/runtime_lib.bash"

cat >linear.yaml <<'Y'
name: linear
stages:
  - name: gen
    plugin: t_gen
    with: {count: 5000, per_call: 37}
  - name: mid
    plugin: t_fail
    from: gen
    with: {tag: seen}
  - name: out
    plugin: t_sink
    from: mid
    with: {path: out/linear.jsonl}
Y
mkdir out
gf run linear.yaml --no-progress
expect_rc 0 "linear run"
[ "$(lines out/linear.jsonl)" = 5000 ] || fail "expected 5000 lines"
diff <(seqs out/linear.jsonl) <(upto 5000) >/dev/null || fail "seqs are not 1..5000 once each"
[ "$(grep -c '"tag":"seen"' out/linear.jsonl)" = 5000 ] || fail "every record tagged"
if ls out | grep -q tmp; then fail "temporary file left behind"; fi
# the summary: one row per stage with in/out counts
awk '$1 == "gen" && $2 == 0 && $3 == 5000 { g = 1 }
     $1 == "mid" && $2 == 5000 && $3 == 5000 { m = 1 }
     $1 == "out" && $2 == 5000 && $3 == 0 { o = 1 }
     END { exit !(g && m && o) }' "$ERR" || fail "summary table counts"
grep -q "records/s" "$ERR" || fail "summary header"

# --quiet: no summary
gf run linear.yaml --quiet
expect_rc 0 "quiet run"
if [ -s "$ERR" ]; then fail "--quiet still printed: $(cat "$ERR")"; fi

# an aggregate: 5000 seqs, group g(seq % 5): 1000 per group, sorted
cat >count.yaml <<'Y'
name: count
stages:
  - name: gen
    plugin: t_gen
    with: {count: 5000}
  - name: spread
    plugin: t_fail
    workers: 3
    from: gen
  - name: cnt
    plugin: t_count
    from: spread
  - name: out
    plugin: t_sink
    from: cnt
    with: {path: out/count.jsonl}
Y
gf run count.yaml --quiet
expect_rc 0 "count run"
want=$(awk 'BEGIN { for (i = 1; i <= 5000; i++) c["g" (i % 5)]++
                    for (k in c) print k, c[k] }' | sort)
got=$(sed 's/.*"group":"\([^"]*\)","count":\([0-9]*\).*/\1 \2/' out/count.jsonl)
[ "$got" = "$want" ] || fail "group counts: got [$got] want [$want]"
echo ok

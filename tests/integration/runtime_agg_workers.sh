#!/usr/bin/env bash
# An aggregate stage with several workers (aggregate_groupby, partial() and
# merge(), ABI minor 2): every metric, 50,000 CSV rows, workers 1, 3 and 4
# give byte-identical output (cmp), with small batches so that the records
# really spread over the instances; a few figures are checked against awk;
# an aggregate without partial()/merge() keeps refusing `workers`, and
# --stage placement of an aggregate with workers needs `listen`.
# Data: ints, floats that are multiples of 0.25 (their sums are exact in any
# order, so byte equality is a fair demand), bools, text, empty cells.
. "$(dirname "$0")/runtime_lib.bash"
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:$GF_BUILD_DIR/lib/gigflow/plugins"

awk 'BEGIN {
    srand(7);
    print "id,platform,district,party,points,score,age,station";
    for (i = 1; i <= 50000; i++) {
        p = int(rand() * 5); plat = p == 4 ? "" : "p" p;
        d = "d" int(rand() * 7);
        q = int(rand() * 3); party = q == 0 ? "true" : q == 1 ? "false" : "";
        pts = int(rand() * 2001) - 1000;
        sc = (int(rand() * 4000) - 1000) / 4;
        sc = sc == int(sc) ? sc ".0" : sc;  # a float, not an int
        if (rand() < 0.03) sc = "";
        age = rand() < 0.05 ? "" : 18 + int(rand() * 50);
        st = "s" int(rand() * 300);
        printf "%d,%s,%s,%s,%d,%s,%s,%s\n", i, plat, d, party, pts, sc, age, st;
    }
}' >in.csv
[ "$(lines in.csv)" = 50001 ] || fail "in.csv: $(lines in.csv) lines"

pipeline() { # $1 workers, $2 output, $3 by (YAML list)
    cat <<Y
name: aggw
stages:
  - name: src
    plugin: ingest_csv
    with: {path: in.csv, kind: member}
  - name: agg
    plugin: aggregate_groupby
    workers: $1
    from: src
    with:
      by: $3
      metrics:
        n: count()
        members: count_if(party)
        points: sum(points)
        score: sum(score)
        low: min(score)
        high: max(points)
        youngest: min(age)
        avg_age: avg(age)
        avg_score: avg(score)
        stations: distinct(station)
        ages: distinct(age)
        median_age: median(age)
        median_score: median(score)
  - name: out
    plugin: export_jsonl
    from: agg
    with: {path: $2}
Y
}
for by in "[platform, district]" "[]" "[party, age]"; do
    for w in 1 3 4; do
        pipeline "$w" "w$w.jsonl" "$by" >"w$w.yaml"
        gf run "w$w.yaml" --quiet --batch-bytes 1k
        expect_rc 0 "by $by, workers $w"
    done
    [ -s w1.jsonl ] || fail "by $by: no output"
    cmp w1.jsonl w3.jsonl || fail "by $by: workers 3 differs from workers 1"
    cmp w1.jsonl w4.jsonl || fail "by $by: workers 4 differs from workers 1"
    cp w1.jsonl "by-$(echo "$by" | tr -dc a-z).jsonl" # by-.jsonl: no by
done

# figures against awk (one group per platform/district pair: 5 x 7)
[ "$(lines by-platformdistrict.jsonl)" = 35 ] ||
    fail "groups: $(lines by-platformdistrict.jsonl), want 35"
want=$(awk -F, 'NR > 1 && $2 == "p1" && $3 == "d3" {
        n++; pts += $5; if ($4 == "true") m++; st[$8] = 1;
        if ($7 != "" && (y == "" || $7 < y)) y = $7 }
    END { k = 0; for (s in st) k++;
          printf "\"n\":%d,\"members\":%d,\"points\":%d|%d|\"youngest\":%d", n, m, pts, k, y }' in.csv)
line=$(grep '"platform":"p1","district":"d3"' by-platformdistrict.jsonl) ||
    fail "no group p1/d3"
IFS='|' read -r w_head w_st w_young <<<"$want"
grep -qF "$w_head," <<<"$line" || fail "p1/d3: want $w_head in $line"
grep -qF "\"stations\":$w_st," <<<"$line" || fail "p1/d3: want stations $w_st in $line"
grep -qF "$w_young," <<<"$line" || fail "p1/d3: want $w_young in $line"
total=$(awk -F, 'NR > 1 { s += $5 } END { print s }' in.csv)
grep -qF "\"n\":50000,\"members\":" by-.jsonl || fail "one group of 50000: $(cat by-.jsonl)"
grep -qF "\"points\":$total," by-.jsonl || fail "total points $total: $(cat by-.jsonl)"

# the work was spread: with 3 workers, every instance of agg took records
pipeline 3 s.jsonl "[district]" >s.yaml
gf run s.yaml --batch-bytes 1k
expect_rc 0 "summary run"

# an aggregate without partial()/merge() keeps the refusal
cat >topk.yaml <<'Y'
name: topk
stages:
  - name: src
    plugin: ingest_csv
    with: {path: in.csv, kind: member}
  - name: agg
    plugin: t_ok_agg
    workers: 2
    from: src
  - name: out
    plugin: export_jsonl
    from: agg
    with: {path: t.jsonl}
Y
gf validate topk.yaml
[ "$rc" -ne 0 ] || fail "t_ok_agg with workers 2 accepted"
expect_err "workers: 2 needs an aggregate plugin with partial() and merge()"
expect_err "'t_ok_agg' has neither"

# a plugin of ABI minor 1 (struct_size ends at destroy): its partial/merge
# pointers beyond struct_size are never read; workers 1 runs
sed 's/t_ok_agg/t_old_agg/' topk.yaml >old.yaml
gf validate old.yaml
[ "$rc" -ne 0 ] || fail "t_old_agg with workers 2 accepted"
expect_err "'t_old_agg' has neither (it is built for an older ABI minor)"
sed 's/workers: 2/workers: 1/' old.yaml >old1.yaml
gf run old1.yaml --quiet
expect_rc 0 "t_old_agg with workers 1"

# the runtime's side with a fixture: t_gen's 20000 records over 4
# instances; instance 0 merges 3 partial records and emits one total,
# having counted only its share itself
fixture() { # $1 with (YAML flow map)
    cat <<Y
name: fx
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20000, per_call: 101}
  - name: agg
    plugin: t_merge_agg
    workers: 4
    from: gen
    with: $1
  - name: out
    plugin: t_sink
    from: agg
    with: {path: fx.jsonl}
Y
}
fixture "{}" >fx.yaml
gf run fx.yaml --quiet --batch-bytes 1k
expect_rc 0 "t_merge_agg workers 4"
[ "$(lines fx.jsonl)" = 1 ] || fail "fx: $(lines fx.jsonl) records, want 1"
grep -qF '"count":20000,"merged":3,' fx.jsonl || fail "fx: $(cat fx.jsonl)"
own=$(sed -n 's/.*"own":\([0-9]*\).*/\1/p' fx.jsonl)
[ -n "$own" ] && [ "$own" -lt 20000 ] || fail "instance 0 counted $own: not spread"
fixture "{fail: partial}" >fp.yaml
gf run fp.yaml --quiet --batch-bytes 1k
expect_rc 1 "partial fails"
expect_err "stage agg: partial failed on purpose (instance "
fixture "{fail: merge}" >fm.yaml
gf run fm.yaml --quiet --batch-bytes 1k
expect_rc 1 "merge fails"
expect_err "stage agg: merge failed on purpose"

# --stage placement of one instance of an aggregate without `listen`:
# its producers could not reach it (dist_agg.sh runs one across processes)
gf run w3.yaml --stage agg#0 --quiet
expect_rc 2 "--stage with an aggregate of 3 workers and no listen"
expect_err "stage agg receives from stage src, and not every instance of both runs in this process: give agg a \`listen\` endpoint (one per worker)"
echo ok

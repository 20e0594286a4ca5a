#!/usr/bin/env bash
# Source positions travel with records: a classify stage two stages after
# the ingest (t_fail reject_seq_mod, behind a tagging t_fail that makes new
# records from the ingest's) rejects records, and each dead letter names
# the file and the line its CSV row (or JSON line) starts on. Two inputs,
# rows with quoted line breaks, CRLF, blank lines and a bad row shift the
# lines away from the row numbers; small batches, two workers of the
# rejecting stage and a fan-out to two stages move the positions across
# many batches and edges. Expected lines come from awk reading the inputs
# themselves (a row starts on a line read outside quotes), not from gigflow.
# A group an aggregate emits at flush, rejected downstream, names none.
. "$(dirname "$0")/runtime_lib.bash"
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:$GF_BUILD_DIR/lib/gigflow/plugins"

# members.csv: seq 1..3000; every 5th row's note spans 2 or 3 lines, every
# 50th line ends in CRLF, a blank line after every 97th row, and one row
# with too few fields (an ingest reject with its own line)
awk 'BEGIN {
    print "seq,name,note";
    for (i = 1; i <= 3000; i++) {
        eol = i % 50 == 0 ? "\r\n" : "\n";
        if (i % 5 == 0)
            note = "\"first line\nsecond, \"\"quoted\"\"" (i % 10 == 0 ? "\nthird" : "") "\"";
        else
            note = "plain " i;
        printf "%d,name %d,%s%s", i, i, note, eol;
        if (i % 97 == 0)
            printf "\n";
        if (i == 1234)
            printf "short row\n";
    }
}' >members.csv
# demands.jsonl: seq 5001..5600, blank lines now and then, one broken line
awk 'BEGIN {
    for (i = 5001; i <= 5600; i++) {
        printf "{\"seq\":%d,\"text\":\"d%d\"}\n", i, i;
        if (i % 41 == 0)
            printf "\n";
        if (i == 5300)
            printf "{\"seq\": broken\n";
    }
}' >demands.jsonl

cat >p.yaml <<'Y'
name: positions
dead_letters: dead.jsonl
stages:
  - name: csv
    plugin: ingest_csv
    with: {path: members.csv, kind: member}
  - name: jsonl
    plugin: ingest_jsonl
    with: {path: demands.jsonl, kind: demand}
  - name: tag
    plugin: t_fail
    from: [csv, jsonl]
    with: {tag: seen}
  - name: chk
    plugin: t_fail
    from: tag
    workers: 2
    with: {reject_seq_mod: 7}
  - name: all
    plugin: t_sink
    from: tag
    with: {path: all.jsonl}
  - name: out
    plugin: t_sink
    from: chk
    with: {path: out.jsonl}
  - name: agg
    plugin: t_ok_agg
    from: tag
  - name: rej
    plugin: t_fail
    from: agg
    with: {reject_every: 1}
Y
gf run p.yaml --no-progress --batch-bytes 2k
expect_rc 0 "positions run"

# expected: seq, file, line of every record whose seq is a multiple of 7.
# A CSV row starts on a line read while no quote is open; an odd number of
# quotes on a line opens or closes one. A JSON line is its own line.
awk -F, -v f="$T/members.csv" '
    NR == 1 { next }
    !open && $0 != "" && $0 != "\r" && NF >= 3 && $1 % 7 == 0 {
        print $1 "\t" f "\t" NR }
    { q = gsub(/"/, "\""); if (q % 2) open = !open }' members.csv >want.txt
awk -v f="$T/demands.jsonl" 'match($0, /"seq":[0-9]+/) {
        s = substr($0, RSTART + 6, RLENGTH - 6); if (s % 7 == 0) print s "\t" f "\t" NR }' \
    demands.jsonl >>want.txt
sort -n want.txt -o want.txt
[ "$(wc -l <want.txt)" = $((3000 / 7 + (5600 / 7 - 5000 / 7))) ] ||
    fail "the expectation is off: $(wc -l <want.txt) records"

python3 - dead.jsonl >got.txt <<'PY' || fail "dead.jsonl: not JSON lines"
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(l)
    if d["stage"] == "chk":
        print(f'{d["record"]["seq"]}\t{d.get("file", "-")}\t{d.get("line", "-")}')
PY
sort -n got.txt -o got.txt
diff want.txt got.txt >diff.txt || fail "dead letters of chk differ from the rows' lines: $(head -5 diff.txt)"
# the records rejected are those made by `tag` (begin_copy): they kept it
[ "$(grep -c '"stage":"chk".*"tag":"seen"' dead.jsonl)" = "$(wc -l <want.txt)" ] ||
    fail "chk rejected records without the tag"

# the ingest's own rejects keep their own lines (counted by awk too)
short=$(awk '$0 == "short row" { print NR }' members.csv)
broken=$(awk '/broken/ { print NR }' demands.jsonl)
grep -q "\"stage\":\"csv\",.*\"file\":\"$T/members.csv\",\"line\":$short," dead.jsonl ||
    fail "no dead letter of csv for line $short"
grep -q "\"stage\":\"jsonl\",.*\"file\":\"$T/demands.jsonl\",\"line\":$broken," dead.jsonl ||
    fail "no dead letter of jsonl for line $broken"
# a group an aggregate emits at flush comes from no one row: rejected
# downstream, it names no file and no line (not those of the last input)
grep '"stage":"rej"' dead.jsonl >rej.jsonl || fail "no dead letter of rej"
[ "$(lines rej.jsonl)" = 1 ] && grep -q '"count":3600' rej.jsonl ||
    fail "rej: $(cat rej.jsonl)"
! grep -q '"file"\|"line"' rej.jsonl || fail "a group has a position: $(cat rej.jsonl)"
[ "$(lines dead.jsonl)" = $(($(wc -l <want.txt) + 3)) ] || fail "dead letters: $(lines dead.jsonl)"
# and the fan-out lost nothing
[ "$(lines all.jsonl)" = $((3000 + 600)) ] || fail "all.jsonl: $(lines all.jsonl)"
[ "$(lines out.jsonl)" = $((3000 + 600 - $(wc -l <want.txt))) ] || fail "out.jsonl: $(lines out.jsonl)"
echo "runtime_positions: ok"

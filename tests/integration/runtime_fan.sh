#!/usr/bin/env bash
# Fan-out: every downstream stage receives every record. Fan-in: a stage
# reading several stages receives all of theirs. A diamond combines both.
. "$(dirname "$0")/runtime_lib.bash"

cat >fan.yaml <<'Y'
name: fan
stages:
  - name: members
    plugin: t_gen
    with: {count: 3000, kind: member}
  - name: orgs
    plugin: t_gen
    with: {count: 1200, kind: org}
  - name: left
    plugin: t_fail
    from: [members]
    with: {tag: left}
  - name: right
    plugin: t_fail
    workers: 3
    from: [members, orgs]
    with: {tag: right}
  - name: sink_left
    plugin: t_sink
    from: left
    with: {path: left.jsonl}
  - name: sink_all
    plugin: t_sink
    from: [left, right, orgs]
    with: {path: all.jsonl}
Y
gf run fan.yaml --quiet
expect_rc 0 "fan run"

# left gets every member; sink_left gets what left emitted
[ "$(lines left.jsonl)" = 3000 ] || fail "left: $(lines left.jsonl) lines"
diff <(seqs left.jsonl) <(upto 3000) >/dev/null || fail "left seqs"

# sink_all: members via left (3000), members and orgs via right
# (3000 + 1200), orgs directly (1200)
[ "$(lines all.jsonl)" = 8400 ] || fail "all: $(lines all.jsonl) lines"
count() { awk -v k="$1" -v t="$2" 'index($0, "\"kind\":\"" k "\"") &&
    (t == "" ? !index($0, "\"tag\"") : index($0, "\"tag\":\"" t "\"")) { n++ }
    END { print n + 0 }' all.jsonl; }
[ "$(count member left)" = 3000 ] || fail "members via left"
[ "$(count member right)" = 3000 ] || fail "members via right"
[ "$(count org right)" = 1200 ] || fail "orgs via right"
[ "$(count org '')" = 1200 ] || fail "orgs direct"
# each org seq exactly twice (via right and direct), each member twice
diff <(grep '"kind":"org"' all.jsonl | seqs) \
     <(upto 1200 | awk '{ print; print }') >/dev/null || fail "org seqs"
diff <(grep '"kind":"member"' all.jsonl | seqs) \
     <(upto 3000 | awk '{ print; print }') >/dev/null || fail "member seqs"
echo ok

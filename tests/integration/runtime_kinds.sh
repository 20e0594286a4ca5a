#!/usr/bin/env bash
# A stage's `kinds` key: only records of those kinds reach its plugin; the
# others pass by it (they are not dropped, not rejected, not counted out).
. "$(dirname "$0")/runtime_lib.bash"

cat >kinds.yaml <<'Y'
name: kinds
stages:
  - name: members
    plugin: t_gen
    with: {count: 700, kind: member}
  - name: orgs
    plugin: t_gen
    with: {count: 300, kind: org}
  - name: only_orgs
    plugin: t_sink
    from: [members, orgs]
    kinds: org
    with: {path: orgs.jsonl}
  - name: both
    plugin: t_sink
    from: [members, orgs]
    kinds: [member, org]
    with: {path: both.jsonl}
  - name: none
    plugin: t_sink
    from: [members, orgs]
    kinds: [project]
    with: {path: none.jsonl}
Y
gf run kinds.yaml
expect_rc 0 "kinds run"
# the summary counts in `in` only what reached the plugin
grep -E '^only_orgs +300 ' "$ERR" >/dev/null || fail "only_orgs in count"
grep -E '^none +0 ' "$ERR" >/dev/null || fail "none in count"
[ "$(lines orgs.jsonl)" = 300 ] || fail "only_orgs got $(lines orgs.jsonl)"
[ "$(grep -c '"kind":"org"' orgs.jsonl)" = 300 ] || fail "only_orgs kinds"
[ "$(lines both.jsonl)" = 1000 ] || fail "both got $(lines both.jsonl)"
[ ! -s none.jsonl ] || fail "none got records"

# a bad `kinds` is a config error at its position
cat >bad.yaml <<'Y'
name: bad-kinds
stages:
  - name: members
    plugin: t_gen
    with: {count: 1}
  - name: sink
    plugin: t_sink
    from: members
    kinds: {member: 1}
    with: {path: x.jsonl}
Y
gf validate bad.yaml
expect_rc 2 "bad kinds"
expect_err "bad.yaml:9:12: stage 'sink': 'kinds' must be a record kind or a list of them"
echo ok

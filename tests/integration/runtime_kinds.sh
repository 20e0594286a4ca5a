#!/usr/bin/env bash
# A stage's `kinds` key: only records of those kinds reach its plugin; the
# others are not counted in its `in`, not dropped, not rejected; a classify
# stage passes them on unchanged. Unknown kinds are config errors.
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

# a classify stage with `kinds` passes the other kinds on, byte for byte
cat >pass.yaml <<'Y'
name: kinds-pass
stages:
  - name: members
    plugin: t_gen
    with: {count: 700, kind: member}
  - name: orgs
    plugin: t_gen
    with: {count: 300, kind: org}
  - name: tag
    plugin: t_fail
    from: [members, orgs]
    kinds: member
    with: {tag: seen}
  - name: sink
    plugin: t_sink
    from: tag
    with: {path: pass.jsonl}
Y
gf run pass.yaml
expect_rc 0 "classify kinds run"
[ "$(lines pass.jsonl)" = 1000 ] || fail "classify kinds lost records: $(lines pass.jsonl)"
[ "$(grep -c '"tag":"seen"' pass.jsonl)" = 700 ] || fail "members not tagged"
[ "$(grep '"kind":"org"' pass.jsonl | grep -c '"tag"')" = 0 ] || fail "orgs tagged"
grep -E '^tag +700 +1000 ' "$ERR" >/dev/null || fail "tag in/out counts"

# an unknown kind is a config error with a hint
sed 's/kinds: member/kinds: [membr]/' pass.yaml >typo.yaml
gf validate typo.yaml
expect_rc 2 "kinds typo"
expect_err "typo.yaml:12:13: stage 'tag': 'kinds': 'membr' is not a record kind (org, member, project, demand, metric); did you mean 'member'?"

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

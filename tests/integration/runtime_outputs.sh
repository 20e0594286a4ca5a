#!/usr/bin/env bash
# Export paths: missing directories are created; a path that exists and is
# not a regular file (a device, a directory) is refused before anything runs.
. "$(dirname "$0")/runtime_lib.bash"

cat >nested.yaml <<'Y'
name: nested
stages:
  - {name: gen, plugin: t_gen, with: {count: 10}}
  - {name: sink, plugin: t_sink, from: gen, with: {path: a/b/c/out.jsonl}}
Y
gf run nested.yaml --quiet
expect_rc 0 "nested dirs"
[ "$(lines a/b/c/out.jsonl)" = 10 ] || fail "nested output"

for target in /dev/null "$T/a"; do
    sed "s#a/b/c/out.jsonl#$target#" nested.yaml >bad.yaml
    gf run bad.yaml --quiet
    expect_rc 1 "export to $target"
    expect_err "$target exists and is not a regular file"
done
[ -c /dev/null ] || fail "/dev/null is no longer a device"
echo ok

#!/usr/bin/env bash
# Export paths: missing directories are created; a path that exists and is
# not a regular file (a device, a directory) is refused before anything runs.
# The runtime's atomic outputs (export_jsonl through gf_host.output_open):
# a run that fails at commit (t_sink fail_commit, a minor-0 plugin beside
# it) leaves the old target and no temporary file; a good run replaces it.
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

: "${GF_BUILD_DIR:?set GF_BUILD_DIR to the build tree}"
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:$GF_BUILD_DIR/lib/gigflow/plugins"
mkdir atomic
echo old >atomic/out.jsonl
atomic() { # $1: true to make the run fail at commit
    cat <<Y
name: atomic
stages:
  - {name: gen, plugin: t_gen, with: {count: 5}}
  - {name: jl, plugin: export_jsonl, from: gen, with: {path: atomic/out.jsonl}}
  - {name: sink, plugin: t_sink, from: gen,
     with: {path: atomic/sink.jsonl, fail_commit: $1}}
Y
}
atomic true >atomic.yaml
gf run atomic.yaml --quiet
expect_rc 1 "a failed commit"
[ "$(cat atomic/out.jsonl)" = old ] || fail "the old target was replaced"
[ "$(ls -A atomic)" = out.jsonl ] || fail "left behind: $(ls -A atomic)"
atomic false >atomic.yaml
gf run atomic.yaml --quiet
expect_rc 0 "a good run"
[ "$(seqs atomic/out.jsonl | tr '\n' ' ')" = "1 2 3 4 5 " ] ||
    fail "the target was not replaced: $(cat atomic/out.jsonl)"
[ "$(ls -A atomic)" = "out.jsonl
sink.jsonl" ] || fail "left behind: $(ls -A atomic)"
echo ok

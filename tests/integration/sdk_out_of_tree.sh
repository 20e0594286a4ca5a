#!/usr/bin/env bash
# The SDK as a plugin developer meets it: install gigflow into a fresh
# prefix, build the example plugin of docs/plugins.md out of tree with
# `pkg-config gigflow` only, and run it in a pipeline with the installed
# gigflow. Expected values are written here by hand.
set -euo pipefail
: "${GF_SOURCE_DIR:?}" "${GF_BUILD_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$GF_BUILD_DIR" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name gigflow.pc)")
pkg-config --exists gigflow

mkdir -p "$work/plugins"
cc -shared -fPIC -Wall -Wextra -Werror $(pkg-config --cflags gigflow) \
   "$GF_SOURCE_DIR/examples/classify_cohort/classify_cohort.c" \
   -o "$work/plugins/classify_cohort.so"

gigflow=$work/prefix/bin/gigflow
export GIGFLOW_PLUGIN_PATH=$work/plugins

# the installed runtime finds its own plugins and the new one
"$gigflow" inspect | grep -q '^classify_cohort'
"$gigflow" inspect | grep -q '^ingest_jsonl'
"$gigflow" inspect classify_cohort | grep -q 'max_age'

cat >"$work/in.jsonl" <<'JSON'
{"kind":"member","id":"m1","age":22}
{"kind":"member","id":"m2","age":35}
{"kind":"member","id":"m3","age":36}
{"kind":"member","id":"m4"}
{"kind":"member","id":"m5","age":"old"}
JSON
cat >"$work/p.yaml" <<'YAML'
name: sdk-example
dead_letters: dead.jsonl
stages:
  - name: read
    plugin: ingest_jsonl
    with: {path: in.jsonl}
  - name: cohort
    plugin: classify_cohort
    from: read
    with: {max_age: 35}
  - name: write
    plugin: export_jsonl
    from: cohort
    with: {path: out.jsonl}
YAML
"$gigflow" validate "$work/p.yaml"
"$gigflow" run --no-progress "$work/p.yaml"

# m1, m2 youth; m3 adult; m4 unchanged; m5 a dead letter
test "$(grep -c '"cohort":"youth"' "$work/out.jsonl")" = 2
grep '"id":"m3"' "$work/out.jsonl" | grep -q '"cohort":"adult"'
grep '"id":"m4"' "$work/out.jsonl" | grep -vq cohort
test "$(wc -l <"$work/out.jsonl")" = 4
test "$(wc -l <"$work/dead.jsonl")" = 1
grep -q 'not an integer' "$work/dead.jsonl"

# a bad option is reported at its position in the pipeline file
sed -i 's/max_age: 35/max_age: 200/' "$work/p.yaml"
set +e
"$gigflow" validate "$work/p.yaml" 2>"$work/err"
rc=$?
set -e
test "$rc" = 2
grep -q 'p.yaml:[0-9]*:[0-9]*: .*max_age.*between 0 and 150' "$work/err"
echo "sdk_out_of_tree: ok"

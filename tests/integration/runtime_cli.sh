#!/usr/bin/env bash
# The command line: validate, inspect, version, help, --help on each
# command, --set, and the exit codes 0 / 2.
. "$(dirname "$0")/runtime_lib.bash"

cat >good.yaml <<'Y'
name: good
stages:
  - name: gen
    plugin: t_gen
    with: {count: 20}
  - name: mid
    plugin: t_fail
    from: gen
  - name: out
    plugin: t_sink
    from: mid
    with: {path: out.jsonl}
Y

# validate: ok line on stdout, exit 0, nothing run
gf validate good.yaml
expect_rc 0 "validate good"
[ "$(cat "$OUT")" = "good.yaml: ok (3 stages)" ] || fail "validate output: $(cat "$OUT")"
if [ -e out.jsonl ]; then fail "validate ran the pipeline"; fi

# validate: every problem listed with its position, exit 2
cat >bad.yaml <<'Y'
name: bad
stages:
  - name: gen
    plugin: t_gen
    with: {count: lots, colour: red}
  - name: out
    plugin: t_sink
    from: nowhere
Y
gf validate bad.yaml
expect_rc 2 "validate bad"
[ ! -s "$OUT" ] || fail "validate bad printed on stdout"
grep -q '^bad.yaml:5:[0-9]*: .*lots' "$ERR" || fail "bad int not reported at line 5"
grep -q '^bad.yaml:5:[0-9]*: .*colour' "$ERR" || fail "unknown key not reported at line 5"
grep -q '^bad.yaml:8:[0-9]*: .*nowhere' "$ERR" || fail "unknown from not reported at line 8"
grep -q '^bad.yaml:[0-9]*:[0-9]*: .*path' "$ERR" || fail "missing required path not reported"
[ "$(wc -l <"$ERR")" -ge 4 ] || fail "not every problem listed"

# validate with --set: an override fixes, another breaks
gf validate bad.yaml --set gen.count=5
expect_rc 2 "still bad"
if grep -q 'lots' "$ERR"; then fail "--set did not override count"; fi
gf validate good.yaml --set gen.count=x
expect_rc 2 "--set to a bad value"
gf validate good.yaml --set nosuch.count=1
expect_rc 2 "--set on an unknown stage"
expect_err "nosuch"
gf validate good.yaml --set oops
expect_rc 2 "--set syntax"
expect_err "STAGE.OPTION=VALUE"
# a plugin's own check(): the error at the option's position
gf validate good.yaml --set gen.per_call=0
expect_rc 2 "check() refuses per_call 0"
expect_err "per_call"
expect_err "must be at least 1"
gf run good.yaml --set gen.per_call=0
expect_rc 2 "run validates first"
if [ -e out.jsonl ]; then fail "run went on after a check() error"; fi
gf validate
expect_rc 2 "validate without file"
gf validate a.yaml b.yaml
expect_rc 2 "validate two files"

# run with --set: count 20 -> 7
gf run good.yaml --set gen.count=7 --set mid.tag=t --quiet
expect_rc 0 "run with --set"
[ "$(lines out.jsonl)" = 7 ] || fail "--set count: $(lines out.jsonl) lines"
[ "$(grep -c '"tag":"t"' out.jsonl)" = 7 ] || fail "--set tag"
gf run good.yaml --frobnicate
expect_rc 2 "unknown run option"
expect_err "--frobnicate"
gf run good.yaml --batch-bytes 0
expect_rc 2 "bad batch size"

# inspect: every plugin with kind, version, description, file; bad files
# with their reason; exit 0
gf inspect
expect_rc 0 "inspect"
awk '$1 == "t_gen" && $2 == "ingest" && $3 == "1.0.0" && /t_gen\.so$/ { g = 1 }
     $1 == "t_sink" && $2 == "export" { s = 1 }
     $1 == "t_count" && $2 == "aggregate" { c = 1 }
     $1 == "t_fail" && $2 == "classify" && /test classify/ { f = 1 }
     END { exit !(g && s && c && f) }' "$OUT" || fail "inspect listing"
grep -q 'bad_magic.so: .*magic' "$OUT" || fail "bad_magic not listed with its reason"
grep -q 'bad_major.so: .*ABI' "$OUT" || fail "bad_major not listed with its reason"
expect_out "Search path: $GF_TEST_PLUGIN_DIR"
# a file that is not a shared object at all is listed, not fatal
mkdir plugdir
echo "not an ELF" >plugdir/junk.so
cp "$GF_TEST_PLUGIN_DIR/t_gen.so" plugdir/
GIGFLOW_PLUGIN_PATH="$T/plugdir" gf inspect
expect_rc 0 "inspect with junk"
grep -q 'junk.so: ' "$OUT" || fail "junk.so not listed"
grep -q '^t_gen ' "$OUT" || fail "t_gen not listed beside junk"

# inspect NAME: options with type, default, required, help
gf inspect t_gen
expect_rc 0 "inspect t_gen"
expect_out "Kind:        ingest"
awk '$1 == "count" && $2 == "int" && $3 == "10" && $4 == "no" && /records to generate/ { c = 1 }
     $1 == "pii" && $2 == "bool" && $3 == "false" { p = 1 }
     END { exit !(c && p) }' "$OUT" || fail "inspect t_gen options"
gf inspect t_sink
awk '$1 == "path" && $2 == "path" && $3 == "-" && $4 == "yes" { ok = 1 } END { exit !ok }' "$OUT" ||
    fail "inspect t_sink: required path"
gf inspect t_nonesuch
expect_rc 2 "inspect unknown"
expect_err "t_nonesuch"
gf inspect bad_magic
expect_rc 2 "inspect a bad plugin"
expect_err "magic"

# version, help
gf version
expect_rc 0 version
grep -Eq '^gigflow [0-9]+\.[0-9]+\.[0-9]+ ' "$OUT" || fail "version line"
gf --version
expect_rc 0 "--version"
for cmd in run validate inspect; do
    gf "$cmd" --help
    expect_rc 0 "$cmd --help"
    grep -q "^Usage: gigflow $cmd" "$OUT" || fail "$cmd --help"
    gf help "$cmd"
    expect_rc 0 "help $cmd"
    grep -q "^Usage: gigflow $cmd" "$OUT" || fail "help $cmd"
done
gf help
expect_rc 0 help
expect_out "Commands:"
gf --help
expect_rc 0 "--help"
gf
expect_rc 2 "no command"
gf frobnicate
expect_rc 2 "unknown command"
expect_err "unknown command 'frobnicate'"
gf help frobnicate
expect_rc 2 "help on an unknown command"
echo ok

#!/usr/bin/env bash
# The shipped three-host example (pipelines/distributed) split over three
# processes on this machine, over tcp and over ipc, started in different
# orders (the last one seconds after the first): the output is
# byte-identical to the one-process run of the same file. Also the
# placement errors: an unknown stage or instance, a stage of several
# workers without #I, an inproc edge between processes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

SRC=${GF_SOURCE_DIR:-$here/../..}
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:${GF_BUILD_DIR:-$SRC/build}/lib/gigflow/plugins"
cp "$SRC/pipelines/distributed/pipeline.yaml" "$SRC/pipelines/distributed/sector_rules.yaml" .
mawk -v n=30000 -f "$SRC/tests/bench/gen_members.awk" >members.csv
export MEMBERS_CSV=$T/members.csv
mkdir -p one
GIGFLOW_OUT=one gf run pipeline.yaml --quiet
expect_rc 0 "one-process run"
[ "$(lines one/groups.csv)" -gt 10 ] || fail "one-process output too small"

P=$(pick_port)
GF_EXTRA=(--heartbeat "$(hb 3000)")
export PORT_A=$((P+1)) PORT_B=$((P+2)) PORT_C=$((P+3))

run_split() { # $1 label, then the order of the three processes
    local label=$1
    shift
    rm -rf split && mkdir split
    GF_PIDS=() GF_NAMES=()
    for host in "$@"; do
        case $host in
        A) GIGFLOW_OUT=split bg A run pipeline.yaml --stage members --stage groups --stage out --quiet ;;
        B) GIGFLOW_OUT=split bg B run pipeline.yaml --stage 'sector#0' --quiet ;;
        C) GIGFLOW_OUT=split bg C run pipeline.yaml --stage sector --instance 1 --quiet ;;
        esac
        sleep 0.7 # a later start, on purpose: any order must work
    done
    for host in A B C; do
        wait_rc $host
        [ "$rc" -eq 0 ] || dfail "$label: host $host exited $rc"
    done
    cmp one/groups.csv split/groups.csv || dfail "$label: output differs from the one-process run"
    echo "$label: same output"
}

run_split "tcp, consumers first" C B A
run_split "tcp, ingest first" A B C
grep -q "waiting for consumers: sector#" A.err || dfail "the ingest did not say whom it waits for"

# a worker that never comes: after --wait the ingest goes on without it
rm -rf split && mkdir split
GF_PIDS=() GF_NAMES=()
GIGFLOW_OUT=split bg B run pipeline.yaml --stage 'sector#0' --quiet
GIGFLOW_OUT=split bg A run pipeline.yaml --stage members --stage groups --stage out --quiet --wait $((2 * SLOW))
for host in A B; do
    wait_rc $host
    [ "$rc" -eq 0 ] || dfail "one worker missing: host $host exited $rc"
done
grep -q "going on without sector#1" A.err || dfail "the ingest did not say it goes on without sector#1"
cmp one/groups.csv split/groups.csv || dfail "one worker missing: output differs"
echo "one worker never started: same output"

# tcp with CURVE: keys for every stage, the same file with a security
# section; every process authenticates its peers
for s in members sector groups out; do gf keygen $s --dir keys; expect_rc 0 "keygen $s"; done
cp pipeline.yaml plain.yaml
sed -e 's|^stages:|security:\n  keys: keys/\nstages:|' plain.yaml >pipeline.yaml
grep -q "^security:" pipeline.yaml || fail "no security section"
run_split "tcp with CURVE" B C A
# an impostor worker (other keys at sector#0's address) is never answered
mkdir -p other && for s in members sector groups out; do gf keygen $s --dir other; done
sed -e 's|keys: keys/|keys: other/|' pipeline.yaml >impostor.yaml
GF_PIDS=() GF_NAMES=()
GIGFLOW_OUT=split bg X run impostor.yaml --stage 'sector#0' --quiet --wait $((3 * SLOW))
GIGFLOW_OUT=split bg M run pipeline.yaml --stage members --quiet --wait $((3 * SLOW))
wait_rc M
[ "$rc" -eq 1 ] || dfail "CURVE impostor: the ingest exited $rc, want 1"
grep -q "consumers did not answer within $((3 * SLOW)) s: sector#0" M.err ||
    dfail "CURVE impostor: the ingest did not refuse sector#0"
wait_rc X
cp plain.yaml pipeline.yaml

# ipc endpoints, same file with the endpoints replaced
sed -e "s|tcp://\${HOST_B:-127.0.0.1}:\${PORT_B:-7101}|ipc://$T/b.sock|" \
    -e "s|tcp://\${HOST_C:-127.0.0.1}:\${PORT_C:-7102}|ipc://$T/c.sock|" \
    -e "s|tcp://\${HOST_A:-127.0.0.1}:\${PORT_A:-7103}|ipc://$T/a.sock|" \
    pipeline.yaml >ipc.yaml
grep -q "ipc://" ipc.yaml || fail "ipc.yaml has no ipc endpoint"
cp ipc.yaml pipeline.yaml
run_split "ipc" B A C

# placement errors: exit 2, a clear message
gf run pipeline.yaml --stage nosuch
expect_rc 2 "unknown stage"
expect_err "no stage named 'nosuch'"
gf run pipeline.yaml --stage sector
expect_rc 2 "several workers without #I"
expect_err "name one instance, --stage sector#I"
gf run pipeline.yaml --stage 'sector#2'
expect_rc 2 "instance out of range"
expect_err "the instance is 0 to 1"
gf run pipeline.yaml --stage groups
expect_rc 2 "an inproc edge to another process"
expect_err "give out a \`listen\` endpoint"
cat >badlisten.yaml <<'Y'
name: bad
stages:
  - name: gen
    plugin: t_gen
  - name: mid
    plugin: t_fail
    from: gen
    workers: 2
    listen: [tcp://127.0.0.1:1, tcp://127.0.0.1:2, tcp://127.0.0.1:3]
  - name: out
    plugin: t_sink
    from: mid
    with: {path: x.jsonl}
Y
gf validate badlisten.yaml
expect_rc 2 "listen list longer than workers"
expect_err "badlisten.yaml:9:13: stage 'mid': 'listen' lists 3 endpoints for 2 workers"
# two paths from one producer into a stage fed over links (a diamond):
# the batches keep their ids, so the second copy would look like a
# duplicate; refused in every process before anything runs
cat >diamond.yaml <<'Y'
name: diamond
stages:
  - name: gen
    plugin: t_gen
  - name: a
    plugin: t_fail
    from: gen
    listen: tcp://127.0.0.1:1
  - name: b
    plugin: t_fail
    from: gen
    listen: tcp://127.0.0.1:2
  - name: out
    plugin: t_sink
    from: [a, b]
    listen: tcp://127.0.0.1:3
    with: {path: x.jsonl}
Y
for s in gen a out; do
    gf run diamond.yaml --stage $s --quiet
    expect_rc 2 "a diamond into a listening stage (--stage $s)"
    expect_err "stage out receives the batches of stage gen along two paths (through a and through b)"
done
gf run diamond.yaml --quiet
expect_rc 0 "the same diamond in one process"
[ "$(lines x.jsonl)" = 20 ] || fail "diamond in one process: $(lines x.jsonl) records, want 2 x 10"
echo ok

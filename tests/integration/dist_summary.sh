#!/usr/bin/env bash
# What each process of a distributed run reports about itself: the summary
# table of a --stage process has rows only for the instances it ran, with
# their real figures, and one "elsewhere" line naming the rest; its
# --metrics-addr has no samples for stages that run elsewhere. The shipped
# three-host example (pipelines/distributed) on loopback: A runs members,
# groups and out, B sector#0, C sector#1. Expected figures come from the
# input CSV through awk, never from gigflow.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

SRC=${GF_SOURCE_DIR:-$here/../..}
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR:${GF_BUILD_DIR:-$SRC/build}/lib/gigflow/plugins"
cp "$SRC/pipelines/distributed/pipeline.yaml" "$SRC/pipelines/distributed/sector_rules.yaml" .
N=20000
mawk -v n=$N -f "$SRC/tests/bench/gen_members.awk" >members.csv
export MEMBERS_CSV=$T/members.csv GIGFLOW_OUT=split
mkdir -p split

# independently of gigflow: data rows, and the (district, sector) groups
# the rules of sector_rules.yaml make of them
ROWS=$(awk 'NR > 1' members.csv | wc -l | tr -d ' ')
[ "$ROWS" -eq $N ] || fail "generated $ROWS rows, want $N"
NGROUPS=$(awk -F, 'NR > 1 {
    s = ""
    if ($4 == "美团" || $4 == "饿了么") s = "food_delivery"
    else if ($4 ~ /^(顺丰|韵达|申通|中通|圆通|闪送)$/) s = "express"
    else if ($4 == "滴滴") s = "ride_hailing"
    else if ($4 == "叮咚买菜" || $4 == "盒马") s = "grocery"
    else if ($4 == "货拉拉") s = "freight"
    g[$5 "," s] = 1
} END { n = 0; for (k in g) n++; print n }' members.csv)
[ "$NGROUPS" -gt 10 ] || fail "only $NGROUPS groups in the input"

P=$(pick_port)
export PORT_A=$((P+1)) PORT_B=$((P+2)) PORT_C=$((P+3))
GF_EXTRA=(--heartbeat "$(hb 3000)" --no-progress)

# table NAME: the summary rows in NAME.err ("stage in out rejected dropped
# seconds rate"), without the header
table() {
    awk '/^stage +in +out +rejected +dropped +seconds +records\/s$/ { on = 1; next }
         on && /^elsewhere/ { exit }
         on && NF == 7 { print }' "$1.err"
}
# field NAME STAGE COLUMN: one figure of STAGE's row (2 in, 3 out, 4 rejected)
field() {
    table "$1" | awk -v s="$2" -v c="$3" '$1 == s { print $c }'
}
# expect_rows NAME ROW...: NAME's table has exactly these rows, in order
expect_rows() {
    local name=$1 got
    shift
    got=$(table "$name" | awk '{ printf "%s%s", sep, $1; sep = " " }')
    [ "$got" = "$*" ] || dfail "$name: summary rows '$got', want '$*'"
}
expect_elsewhere() { # NAME TEXT
    local got
    got=$(grep '^elsewhere' "$1.err" || true)
    [ "$got" = "elsewhere (other processes): $2" ] ||
        dfail "$1: elsewhere line '$got', want '$2'"
}

# no_sanitizer_report: no process reported a sanitizer error (in a
# -DGF_SANITIZE=ON build an ASan error exits 1, which a peer's expected
# status would hide)
no_sanitizer_report() {
    local f
    for f in *.err; do
        if grep -q "Sanitizer\|runtime error:" "$f"; then
            dfail "${f%.err}: a sanitizer report"
        fi
    done
}

# metrics_port FILE: the port a run announced in its stderr FILE, or
# nothing (FILE may not exist yet: bg redirects in the background)
metrics_port() {
    sed -n 's/^gigflow: metrics on port \([0-9]*\).*/\1/p' "$1" 2>/dev/null || true
}

# B first, with its metrics: it waits for its consumer (on A), and its
# endpoint reports only sector, one instance of it
bg B run pipeline.yaml --stage 'sector#0' --metrics-addr 127.0.0.1:0
port=
deadline=$((SECONDS + 20 * SLOW))
until [ -n "$port" ]; do
    [ $SECONDS -lt $deadline ] || dfail "B announced no metrics port"
    kill -0 "$pid_B" 2>/dev/null || dfail "B ended early"
    port=$(metrics_port B.err)
    sleep 0.05
done
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
tr -d '\r' <&3 >metrics_B.txt
exec 3<&-
grep -q '^HTTP/1.[01] 200' metrics_B.txt || dfail "B: /metrics not 200"
grep -q '^gigflow_stage_instances{stage="sector"} 1$' metrics_B.txt ||
    dfail "B: gigflow_stage_instances of sector is not 1 (it runs one of two)"
grep -q '^gigflow_records_in_total{stage="sector"} ' metrics_B.txt ||
    dfail "B: no records_in sample for sector"
for s in members groups out; do
    if grep -q "stage=\"$s\"" metrics_B.txt; then
        dfail "B: /metrics reports stage $s, which runs elsewhere"
    fi
done

bg C run pipeline.yaml --stage 'sector#1'
bg A run pipeline.yaml --stage members --stage groups --stage out
for host in A B C; do
    wait_rc $host
    [ "$rc" -eq 0 ] || dfail "host $host exited $rc"
done
[ "$(lines split/groups.csv)" -eq $((NGROUPS + 1)) ] ||
    dfail "groups.csv has $(lines split/groups.csv) lines, want $((NGROUPS + 1))"

# A: its three stages with their figures, sector elsewhere
expect_rows A members groups out
[ "$(field A members 3)" = "$ROWS" ] || dfail "A: members out $(field A members 3), want $ROWS"
[ "$(field A members 2)" = 0 ] || dfail "A: members in $(field A members 2), want 0"
[ "$(field A groups 2)" = "$ROWS" ] || dfail "A: groups in $(field A groups 2), want $ROWS"
[ "$(field A groups 3)" = "$NGROUPS" ] || dfail "A: groups out $(field A groups 3), want $NGROUPS"
[ "$(field A out 2)" = "$NGROUPS" ] || dfail "A: out in $(field A out 2), want $NGROUPS"
expect_elsewhere A "sector"

# B and C: their instance of sector, in = out (every platform has a rule),
# the two together the whole input
expect_rows B 'sector#0'
expect_rows C 'sector#1'
expect_elsewhere B "members, sector#1, groups, out"
expect_elsewhere C "members, sector#0, groups, out"
b_in=$(field B 'sector#0' 2) c_in=$(field C 'sector#1' 2)
[ "$(field B 'sector#0' 3)" = "$b_in" ] || dfail "B: sector#0 in $b_in, out $(field B 'sector#0' 3)"
[ "$(field C 'sector#1' 3)" = "$c_in" ] || dfail "C: sector#1 in $c_in, out $(field C 'sector#1' 3)"
[ $((b_in + c_in)) -eq "$ROWS" ] || dfail "sector#0 took $b_in, sector#1 $c_in: not $ROWS in all"
for h in A B C; do
    if table $h | awk '$2 == 0 && $3 == 0 && $4 == 0 && $5 == 0 { bad = 1 } END { exit !bad }'; then
        dfail "$h: a summary row of zeros: $(table $h)"
    fi
done
no_sanitizer_report
echo "A: members out $ROWS, groups $ROWS -> $NGROUPS; B took $b_in, C $c_in"
echo ok

#!/usr/bin/env bash
# SIGINT/SIGTERM to one process of a distributed run (ingest / classify /
# aggregate+export, three processes on loopback), mid-run: that process
# exits 130 like a one-process run (runtime_interrupt.sh) and says
# "interrupted"; it tells its peers, which exit 1 (not 0, not 130) within
# the heartbeat bound and say a peer failed; no output file and no
# temporary file is left. Victims: the classify (SIGINT), the
# aggregate+export process (SIGTERM), the ingest (SIGINT). And a process
# that had failed before the signal came keeps exit 1.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

HBMS=$(hb 2000)
BOUND=$((HBMS / 1000 + 2)) # seconds: as dist_death.sh, for every process
P=$(pick_port)
# 200000 records at 200 us each: at least 40 s, far longer than the test
# waits before its signal
cat >i.yaml <<Y
name: interrupt
stages:
  - name: gen
    plugin: t_gen
    with: {count: 200000, per_call: 50, delay_us: 200}
  - name: mid
    plugin: t_fail
    from: gen
    listen: tcp://127.0.0.1:$((P+1))
  - name: agg
    plugin: t_count
    from: mid
    listen: tcp://127.0.0.1:$((P+2))
    with: {by: group}
  - name: out
    plugin: t_sink
    from: agg
    with: {path: result.jsonl}
Y

# http PORT PATH: the body and headers of GET PATH on 127.0.0.1:PORT
http() {
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    tr -d '\r' <&3
    exec 3<&-
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

# records the classify process took so far (its /metrics), or nothing
mid_in() {
    local port
    port=$(metrics_port mid.err)
    [ -n "$port" ] || return 0
    http "$port" /metrics 2>/dev/null |
        sed -n 's/^gigflow_records_in_total{stage="mid"} //p'
}

start_all() {
    rm -f result.jsonl result.jsonl.tmp-*
    GF_PIDS=() GF_NAMES=()
    bg gen run i.yaml --stage gen --heartbeat "$HBMS" --no-progress
    bg mid run i.yaml --stage mid --heartbeat "$HBMS" --no-progress \
        --metrics-addr 127.0.0.1:0
    bg aggout run i.yaml --stage agg --stage out --heartbeat "$HBMS" --no-progress
    # mid-run: records went through the classify, and it has not ended
    local deadline=$((SECONDS + 30 * SLOW)) n
    until n=$(mid_in) && [ "${n:-0}" -gt 1000 ] 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || dfail "records never reached the classify"
        for p in gen mid aggout; do
            v="pid_$p"
            kill -0 "${!v}" 2>/dev/null || dfail "$p ended before the signal"
        done
        sleep 0.05
    done
}

# interrupt SIGNAL VICTIM: send SIGNAL to VICTIM's gigflow mid-run, check
# every exit status, how soon, and that no output is left
interrupt() {
    local sig=$1 victim=$2 v t0 t1 late worst=0
    start_all
    v="pid_$victim"
    local c
    c=$(child_of "${!v}" || true)
    [ -n "$c" ] || dfail "$victim: no gigflow process under its timeout"
    kill "-$sig" "$c"
    t0=$(date +%s.%N)
    for n in "$victim" gen mid aggout; do # the victim first
        v="pid_$n"
        [ -n "${!v}" ] || continue
        wait_rc "$n"
        eval "pid_$n="
        t1=$(date +%s.%N)
        late=$(awk -v a="$t0" -v b="$t1" -v m=$BOUND 'BEGIN { print (b - a > m) }')
        [ "$late" = 0 ] || dfail "SIG$sig to $victim: $n took more than ${BOUND}s to exit (status $rc)"
        worst=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        if [ "$n" = "$victim" ]; then
            [ "$rc" -eq 130 ] || dfail "SIG$sig to $victim: it exited $rc, want 130"
            grep -q "^interrupted$" "$n.err" || dfail "SIG$sig to $victim: no 'interrupted' line"
            grep -q "signal again to abort at once" "$n.err" ||
                dfail "SIG$sig to $victim: the signal was not taken"
        else
            [ "$rc" -ne 0 ] || dfail "SIG$sig to $victim: $n exited 0"
            [ "$rc" -ne 130 ] || dfail "SIG$sig to $victim: $n exited 130 (it was not interrupted)"
            [ "$rc" -ne 124 ] || dfail "SIG$sig to $victim: $n hung until its timeout"
            [ "$rc" -eq 1 ] || dfail "SIG$sig to $victim: $n exited $rc, want 1"
            grep -qE "(failed|was interrupted): the run stops" "$n.err" ||
                dfail "SIG$sig to $victim: $n does not say a peer failed"
            if grep -q "^interrupted$" "$n.err"; then
                dfail "SIG$sig to $victim: $n says it was interrupted"
            fi
        fi
    done
    # the victim's neighbours say why: it was interrupted
    grep -l "was interrupted: the run stops" ./*.err >/dev/null 2>&1 ||
        dfail "SIG$sig to $victim: no peer says it was interrupted"
    [ ! -e result.jsonl ] || dfail "SIG$sig to $victim: result.jsonl exists"
    if ls result.jsonl.tmp-* >/dev/null 2>&1; then
        dfail "SIG$sig to $victim: temporary file left: $(ls result.jsonl.tmp-*)"
    fi
    no_sanitizer_report
    echo "SIG$sig to $victim: it exited 130, the others 1, the last ${worst}s after the signal (bound ${BOUND}s)"
}

interrupt INT mid
interrupt TERM aggout
interrupt INT gen

# What came first decides: a run that had already failed when the signal
# came exits 1, not 130. One process, two independent branches (no
# backpressure between them): the export `slow` takes its first record and
# sleeps 6 s in it; meanwhile `bad` fails at its record 1500 (about 1.5 s
# in); once /health says the run is failing, SIGINT.
cat >f.yaml <<Y
name: fail-then-signal
stages:
  - name: gen1
    plugin: t_gen
    with: {count: 100000}
  - name: slow
    plugin: t_sink
    from: gen1
    with: {path: slow.jsonl, delay_us: $((6000000 * SLOW))}
  - name: gen2
    plugin: t_gen
    with: {count: 100000, delay_us: 1000}
  - name: bad
    plugin: t_fail
    from: gen2
    with: {fail_at: 1500}
  - name: good
    plugin: t_sink
    from: bad
    with: {path: good.jsonl}
Y
GF_PIDS=() GF_NAMES=()
bg failing run f.yaml --no-progress --metrics-addr 127.0.0.1:0
port=
# poll_metrics WHAT CMD...: until CMD succeeds (failing's port in $port)
poll_metrics() {
    local what=$1 deadline=$((SECONDS + 20 * SLOW))
    shift
    until [ -n "$port" ] && "$@"; do
        [ $SECONDS -lt $deadline ] || dfail "failure, then SIGINT: timed out waiting: $what"
        kill -0 "$pid_failing" 2>/dev/null || dfail "failure, then SIGINT: the run ended early ($what)"
        port=$(metrics_port failing.err)
        sleep 0.05
    done
}
slow_busy() {
    local n
    n=$(http "$port" /metrics 2>/dev/null |
        sed -n 's/^gigflow_records_in_total{stage="slow"} //p')
    [ "${n:-0}" -gt 0 ]
}
failing() { http "$port" /health 2>/dev/null | grep -q '^HTTP/1.[01] 503'; }
poll_metrics "slow took a record" slow_busy
poll_metrics "the run says it is failing" failing
c=$(child_of "$pid_failing" || true)
[ -n "$c" ] || dfail "failure, then SIGINT: no gigflow process under its timeout"
kill -INT "$c"
wait_rc failing
[ "$rc" -eq 1 ] || dfail "failure, then SIGINT: exit $rc, want 1"
grep -q "signal again to abort at once" failing.err || dfail "failure, then SIGINT: the signal was not taken"
grep -q "^stage bad: failing at record 1500" failing.err || dfail "failure, then SIGINT: the failure is not reported"
if grep -q "^interrupted$" failing.err; then
    dfail "failure, then SIGINT: reported as interrupted"
fi
[ ! -e good.jsonl ] && [ ! -e slow.jsonl ] || dfail "failure, then SIGINT: an output exists"
no_sanitizer_report
echo "a failure, then SIGINT: exit 1"
echo ok

# Shared set-up of the dist_*.sh tests (sourced after runtime_lib.bash):
# start gigflow processes in the background, each bounded by `timeout`,
# remember their pids, and kill whatever is left on exit.
# Ports: each test picks a free base port range from its own pid so that
# tests running side by side do not collide.

GF_PIDS=()
GF_NAMES=()
# Sanitizer builds run slower: GF_TEST_SLOW=N stretches heartbeats and
# waits N times (tests/CMakeLists.txt sets 5 for ThreadSanitizer).
SLOW=${GF_TEST_SLOW:-1}
hb() { echo $(($1 * SLOW)); }
GF_EXTRA=() # options added to every bg run
dist_cleanup() {
    exec 2>/dev/null # bash's "Killed" notices of the workers killed on purpose
    for pid in "${GF_PIDS[@]}"; do
        kill -9 "$pid" || true
    done
    wait || true
    if declare -F dist_extra_cleanup >/dev/null; then dist_extra_cleanup; fi
    [ -n "${GF_KEEP:-}" ] || rm -rf "$T"
}
trap dist_cleanup EXIT

# A base TCP port with the 20 after it all free on this machine (not
# listening, not in any connection), from a range that depends on the
# test's pid so that tests running side by side rarely pick the same one.
pick_port() {
    local p used
    used=$(ss -tan 2>/dev/null | awk 'NR > 1 { n = split($4, a, ":"); print a[n] }' | sort -u)
    for _ in $(seq 100); do
        # below the kernel's ephemeral range (32768-60999), where an
        # outgoing connection's local port could take ours
        p=$((20000 + ((RANDOM + $$) % 600) * 20))
        if ! awk -v lo="$p" -v hi=$((p + 19)) '$1 >= lo && $1 <= hi { f = 1 } END { exit !f }' <<<"$used"; then
            echo "$p"
            return
        fi
    done
    echo 23000
}

# bg NAME ARGS...: start `gigflow ARGS` (stderr in NAME.err); its pid goes
# to GF_PIDS and to variable pid_NAME.
bg() {
    local name=$1
    shift
    timeout "${GF_TIMEOUT:-$((120 * SLOW))}" "$GIGFLOW" "$@" ${GF_EXTRA[@]+"${GF_EXTRA[@]}"} >"$name.out" 2>"$name.err" &
    GF_PIDS+=($!)
    GF_NAMES+=("$name")
    eval "pid_$name=$!"
}

# The real gigflow pid under a `timeout` wrapper pid.
child_of() {
    pgrep -P "$1" | head -1
}

# wait_rc NAME: wait for background process NAME, its status in $rc.
wait_rc() {
    local v="pid_$1"
    rc=0
    wait "${!v}" || rc=$?
}

# all_fail_within LABEL T0 BOUND NAME...: each background process NAME
# exits non-zero, not hung (124), at most BOUND seconds after T0 (from
# `date +%s.%N`); $worst is then the last exit's delay.
all_fail_within() {
    local label=$1 t0=$2 bound=$3 n t1 late
    shift 3
    worst=0
    for n in "$@"; do
        wait_rc "$n"
        t1=$(date +%s.%N)
        [ "$rc" -ne 0 ] || dfail "$label: $n exited 0"
        [ "$rc" -ne 124 ] || dfail "$label: $n hung until its timeout"
        late=$(awk -v a="$t0" -v b="$t1" -v m="$bound" 'BEGIN { print (b - a > m) }')
        [ "$late" = 0 ] || dfail "$label: $n took more than ${bound}s to exit"
        worst=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    done
}

show_errs() {
    for n in "${GF_NAMES[@]}"; do
        [ -s "$n.err" ] && { echo "--- $n.err" >&2; tail -n 15 "$n.err" >&2; }
    done
    return 0
}

dfail() {
    echo "FAIL: $*" >&2
    show_errs
    exit 1
}

# Shared set-up of the runtime_*.sh integration tests (sourced, not run).
# Needs GIGFLOW (the binary) and GF_TEST_PLUGIN_DIR (the t_* plugins);
# ctest sets both. Each test works in its own temporary directory, removed
# on exit, and bounds every gigflow call with `timeout`.
set -euo pipefail
: "${GIGFLOW:?set GIGFLOW to the gigflow binary}"
: "${GF_TEST_PLUGIN_DIR:?set GF_TEST_PLUGIN_DIR to the test plugins}"
export GIGFLOW_PLUGIN_PATH="$GF_TEST_PLUGIN_DIR"
export LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/gf-rt.XXXXXX")
trap 'rm -rf "$T"' EXIT
OUT="$T/gf.stdout"
ERR="$T/gf.stderr"
cd "$T"

fail() {
    echo "FAIL: $*" >&2
    for f in "$OUT" "$ERR"; do
        if [ -s "$f" ]; then echo "--- ${f##*/}:" >&2; head -40 "$f" >&2; fi
    done
    exit 1
}

# gf ARGS...: run gigflow (60 s at most); stdout in $OUT, stderr in $ERR,
# exit status in $rc. Never fails by itself.
gf() {
    rc=0
    timeout 60 "$GIGFLOW" "$@" >"$OUT" 2>"$ERR" || rc=$?
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "expected exit $1, got $rc (${2:-})"
}

expect_err() {
    grep -qF -- "$1" "$ERR" || fail "stderr lacks: $1"
}

expect_out() {
    grep -qF -- "$1" "$OUT" || fail "stdout lacks: $1"
}

# The seq fields of a JSON-lines file, one per line, sorted numerically.
seqs() {
    sed -n 's/.*"seq":\([0-9]*\).*/\1/p' "$@" | sort -n
}

# 1..N, one per line (the expected seqs of t_gen count: N).
upto() {
    awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) print i }'
}

lines() {
    wc -l <"$1" | tr -d ' '
}

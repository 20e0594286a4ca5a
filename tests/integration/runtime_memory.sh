#!/usr/bin/env bash
# Bounded memory: 1,000,000 records from a fast ingest into a slow export.
# High-water marks of a few batches per edge make ingest wait for the
# export, so peak RSS stays small and does not grow with the input.
. "$(dirname "$0")/runtime_lib.bash"

cat >mem.yaml <<'Y'
name: memory
stages:
  - name: gen
    plugin: t_gen
    with: {count: 1000000}
  - name: mid
    plugin: t_fail
    workers: 2
    from: gen
  - name: out
    plugin: t_sink
    from: mid
    with: {path: mem.jsonl, delay_us: 200, delay_every: 500}
Y
# ASan keeps freed memory in quarantine (256 MB by default): keep it small
# so that the peak measures what the run holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
rc=0
timeout 120 /usr/bin/time -f "maxrss_kb %M" -o rss.txt \
    "$GIGFLOW" run mem.yaml --no-progress >"$OUT" 2>"$ERR" || rc=$?
expect_rc 0 "memory run"
[ "$(lines mem.jsonl)" = 1000000 ] || fail "1000000 records expected"
rss=$(awk '/maxrss_kb/ { print $2 }' rss.txt)
echo "peak RSS: $rss KB"
# The records take about 50 MB as MessagePack (~50 bytes each), so a run
# that queued them would exceed 32 MB. Sanitizer builds use a few times
# more memory for the same work: allow them 4x.
limit=32768
if ldd "$GIGFLOW" 2>/dev/null | grep -Eq 'lib(a|t)san'; then limit=$((limit * 4)); fi
[ "$rss" -lt "$limit" ] || fail "peak RSS $rss KB is not bounded (limit $limit KB)"
# and the export was the bottleneck: ingest waited for it
awk '$1 == "gen" { g = $6 } $1 == "out" { o = $6 }
     END { exit !(g > 0.5 * o) }' "$ERR" || fail "ingest did not wait for the export"
echo ok

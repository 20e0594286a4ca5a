#!/usr/bin/env bash
# 10,000 malformed messages mixed at random with 10,000 valid batches, sent
# by a hostile producer (tests/tools/gf_sendframes.c) to a listening
# stage: the stage does not crash, rejects and counts every malformed one,
# delivers every valid record exactly once, and then survives a message
# beyond ZMQ_MAXMSGSIZE (the connection is dropped, the producer comes
# back).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/runtime_lib.bash"
. "$here/dist_lib.bash"

SEND=${GF_BUILD_DIR:?}/bin/gf_sendframes
[ -x "$SEND" ] || fail "no $SEND: build the tests"
NV=10000
NB=10000
P=$(pick_port)
cat >b.yaml <<Y
name: badframes
stages:
  - name: gen
    plugin: t_gen
  - name: sink
    plugin: t_sink
    from: gen
    listen: tcp://127.0.0.1:$((P+1))
    with: {path: got.jsonl}
Y

bg sink run b.yaml --stage sink --heartbeat "$(hb 20000)"
rc=0
timeout 120 "$SEND" "tcp://127.0.0.1:$((P+1))" 1 $NV $NB $RANDOM --oversize \
    >send.out 2>send.err || rc=$?
[ "$rc" -eq 0 ] || { cat send.err >&2; dfail "the sender exited $rc"; }
wait_rc sink
[ "$rc" -eq 0 ] || dfail "the listening stage exited $rc"

[ "$(lines got.jsonl)" = $NV ] || dfail "got $(lines got.jsonl) records, want $NV"
diff <(seqs got.jsonl) <(upto $NV) >/dev/null || dfail "seqs 1..$NV not exactly once each"
grep -q "$NB bad frames were rejected" sink.err ||
    dfail "the stage did not count $NB rejected frames"
grep -q "rejected a frame from 127.0.0.1" sink.err ||
    dfail "rejections are not logged with the sender's address"
# a few lines, not 10,000
[ "$(grep -c 'rejected a frame' sink.err)" -lt 50 ] || dfail "rejections flood the log"
echo ok

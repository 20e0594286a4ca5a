#!/usr/bin/env bash
# gigflow keygen (files, modes, no overwrite, no key on the terminal), the
# `security` section through validate, and --metrics-addr during a run:
# /metrics and /health scraped with bash's /dev/tcp while records flow.
. "$(dirname "$0")/runtime_lib.bash"

pid=
cleanup_run() { if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi; }
trap 'cleanup_run; rm -rf "$T"' EXIT

# 1. keygen
gf keygen ingest --dir keys
expect_rc 0 "keygen"
expect_out "wrote keys/ingest.key (secret"
expect_out "wrote keys/ingest.pub (public"
[ "$(stat -c %a keys)" = 700 ] || fail "keys/ is $(stat -c %a keys), want 700"
[ "$(stat -c %a keys/ingest.key)" = 600 ] || fail "ingest.key not 0600"
[ "$(stat -c %a keys/ingest.pub)" = 644 ] || fail "ingest.pub not 0644"
secret=$(sed -n 's/^ *secret-key = "\(.*\)"$/\1/p' keys/ingest.key)
public=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' keys/ingest.key)
[ "${#secret}" -eq 40 ] || fail "no 40-character secret-key line"
[ "${#public}" -eq 40 ] || fail "no 40-character public-key line"
grep -qF "public-key = \"$public\"" keys/ingest.pub || fail ".pub differs"
grep -q secret-key keys/ingest.pub && fail ".pub holds a secret key"
grep -qF -- "$secret" "$OUT" "$ERR" && fail "the secret key was printed"
cp keys/ingest.key before.key

# twice: refused, files untouched (under a permissive umask as well)
(umask 0; gf keygen ingest --dir keys; echo "$rc" >rc2)
rc=$(cat rc2)
expect_rc 1 "keygen over existing keys"
expect_err "refusing to overwrite keys"
cmp -s before.key keys/ingest.key || fail "the key was changed"
(umask 0; gf keygen classify --dir keys)
[ "$(stat -c %a keys/classify.key)" = 600 ] || fail "umask 0: key not 0600"
gf keygen
expect_rc 2 "keygen without a name"
gf keygen 'a b'
expect_rc 1 "keygen with a bad name"
expect_err "'a b' is not a stage name"
gf help
expect_out "keygen NAME"
gf help keygen
expect_rc 0 "help keygen"
expect_out "Usage: gigflow keygen NAME [--dir DIR]"

# 2. the security section through validate
gf keygen out --dir keys
cat >secure.yaml <<'Y'
name: secure
security:
  keys: keys/
stages:
  - name: ingest
    plugin: t_gen
  - name: out
    plugin: t_sink
    from: ingest
    with: {path: out.jsonl}
Y
gf validate secure.yaml
expect_rc 0 "validate with security"
sed 's/keys: keys\//kyes: keys\//' secure.yaml >typo.yaml
gf validate typo.yaml
expect_rc 2 "validate with a typo in security"
expect_err "typo.yaml:3:3: security: unknown key 'kyes' (did you mean 'keys'?)"

# 3. metrics while a run lasts
cat >slow.yaml <<'Y'
name: slow
stages:
  - name: gen
    plugin: t_gen
    with: {count: 1000000, delay_us: 200}
  - name: out
    plugin: t_sink
    from: gen
    with: {path: out.jsonl}
Y
gf run slow.yaml --metrics-addr nonsense
expect_rc 2 "a malformed --metrics-addr"
expect_err "--metrics-addr nonsense: expected HOST:PORT"

"$GIGFLOW" run slow.yaml --no-progress --metrics-addr 127.0.0.1:0 \
    >"$OUT" 2>"$ERR" &
pid=$!
port=
end=$((SECONDS + 20))
until [ -n "$port" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "no metrics port announced"
    port=$(sed -n 's/^gigflow: metrics on port \([0-9]*\).*/\1/p' "$ERR")
    sleep 0.05
done
# http PATH: the response of GET PATH (headers and body) on stdout
http() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    tr -d '\r' <&3
    exec 3<&-
}
gen_out() { http /metrics | sed -n 's/^gigflow_records_out_total{stage="gen"} //p'; }
end=$((SECONDS + 20))
until [ "$(gen_out)" -gt 0 ] 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "gen's records never showed in /metrics"
    sleep 0.05
done
http /metrics >m.txt
grep -q '^HTTP/1.[01] 200' m.txt || fail "/metrics not 200"
grep -qi '^Content-Type: text/plain; version=0.0.4' m.txt || fail "content type"
for fam in records_in_total records_out_total records_rejected_total \
           records_dropped_total batches_sent_total batches_received_total \
           batches_acked_total batches_resent_total duplicates_dropped_total \
           frames_rejected_total; do
    grep -q "^# TYPE gigflow_$fam counter$" m.txt || fail "no counter $fam"
done
for fam in peers_connected credit stage_instances stage_running \
           stage_seconds run_healthy run_seconds; do
    grep -q "^# TYPE gigflow_$fam gauge$" m.txt || fail "no gauge $fam"
done
grep -q '^gigflow_stage_running{stage="gen"} 1$' m.txt || fail "gen not running"
grep -q '^gigflow_run_healthy 1$' m.txt || fail "not healthy"
# exactly one HELP and TYPE per family
[ "$(grep -c '^# TYPE' m.txt)" -eq "$(grep '^# TYPE' m.txt | sort -u | wc -l)" ] ||
    fail "a family's TYPE repeats"
http /health >h.txt
grep -q '^HTTP/1.[01] 200' h.txt || fail "/health not 200"
[ "$(tail -n 1 h.txt)" = ok ] || fail "/health body: $(tail -n 1 h.txt)"
kill -INT "$pid"
end=$((SECONDS + 20))
while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "gigflow did not stop"
    sleep 0.05
done
rc=0
wait "$pid" || rc=$?
pid=
expect_rc 130 "SIGINT"
# the endpoint went with the run
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "the metrics port is still open after the run"
fi
echo ok

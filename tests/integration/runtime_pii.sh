#!/usr/bin/env bash
# Export stages see personal data masked by the runtime (phone: first 3
# and last 4 kept; id_number: first 6 and last 4), unless the stage says
# mask_pii: false; other stages see it as it is.
. "$(dirname "$0")/runtime_lib.bash"

cat >pii.yaml <<'Y'
name: pii
stages:
  - name: gen
    plugin: t_gen
    with: {count: 200, pii: true}
  - name: masked
    plugin: t_sink
    from: gen
    with: {path: masked.jsonl}
  - name: plain
    plugin: t_sink
    from: gen
    mask_pii: false
    with: {path: plain.jsonl}
Y
gf run pii.yaml --quiet
expect_rc 0 "pii run"
[ "$(lines masked.jsonl)" = 200 ] && [ "$(lines plain.jsonl)" = 200 ] || fail "200 each"
# t_gen: phone "138" + seq as 8 digits; id_number "11010119900101" + seq%10000 as 4
awk 'BEGIN { for (i = 1; i <= 200; i++)
               printf "%d 138****%04d 110101********%04d\n", i, i % 10000, i % 10000 }' >want
sed 's/.*"seq":\([0-9]*\).*"phone":"\([^"]*\)","id_number":"\([^"]*\)".*/\1 \2 \3/' masked.jsonl |
    sort -n >got
diff got want >/dev/null || fail "masked values differ: $(diff got want | head -3)"
awk 'BEGIN { for (i = 1; i <= 200; i++)
               printf "%d 138%08d 11010119900101%04d\n", i, i, i % 10000 }' >want
sed 's/.*"seq":\([0-9]*\).*"phone":"\([^"]*\)","id_number":"\([^"]*\)".*/\1 \2 \3/' plain.jsonl |
    sort -n >got
diff got want >/dev/null || fail "mask_pii: false changed values"
echo ok

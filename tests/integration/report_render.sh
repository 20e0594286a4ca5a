#!/usr/bin/env bash
# The district report rendered by a real browser: export_report writes the
# page from tests/data/report/district_metrics.jsonl (through the plugin
# harness: test_export_report --write-sample), headless Chromium renders it
# to a PNG and dumps its DOM. Checks: the PNG is not blank (many colours,
# the bars' red present), the headings are there, and figures computed here
# with python3 from the raw counts appear formatted as the office reads them.
# Exit 77 (skipped) only when chromium is not installed.
set -euo pipefail

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$CHROMIUM" ]]; then
    echo "SKIP: chromium is not installed"
    exit 77
fi
: "${GF_BUILD_DIR:?GF_BUILD_DIR must point at the build tree}"
: "${GF_SOURCE_DIR:?GF_SOURCE_DIR must point at the source tree}"
DRIVER="$GF_BUILD_DIR/bin/test_export_report"
DATA="$GF_SOURCE_DIR/tests/data/report/district_metrics.jsonl"

tmp=$(mktemp -d /tmp/gf_report_render.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
report="$tmp/district report.html"   # a space in the name, on purpose

fail() { echo "report_render: $*" >&2; exit 1; }

"$DRIVER" --write-sample "$report" || fail "the driver could not write the report"
[[ -s "$report" ]] || fail "no report written"
# nothing left beside it: the temporary file was renamed
[[ $(find "$tmp" -maxdepth 1 -name '.*' -type f | wc -l) -eq 0 ]] ||
    fail "a temporary file was left in $tmp"

url="file://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$report")"
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$tmp/profile" --hide-scrollbars "$@" 2>>"$tmp/chromium.log"
}
chrome --dump-dom "$url" >"$tmp/dom.html" || fail "chromium --dump-dom failed: $(tail -3 "$tmp/chromium.log")"
chrome --screenshot="$tmp/shot.png" --window-size=1200,2000 "$url" >/dev/null ||
    fail "chromium --screenshot failed: $(tail -3 "$tmp/chromium.log")"
[[ -s "$tmp/shot.png" ]] || fail "no screenshot"

# Headings and figures, computed from the raw counts, not from the report.
python3 - "$tmp/dom.html" "$DATA" <<'EOF'
import json, sys
dom = open(sys.argv[1], encoding="utf-8").read()
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
problems = []
def need(text, why):
    if text not in dom:
        problems.append(f"missing {why}: {text!r}")

need("<h1>示范区新就业群体党建工作数据报告</h1>", "the title")
for t in ["各街道站点党组织覆盖率", "每千名从业人员中的党员数",
          "关爱项目：支出与受益人数（按类别）", "需求反馈：数量与解决时长（按层级）",
          "流动党员（按流出地）", "组织生活积分排行（前10名）"]:
    need(f"</span>{t}</h2>", "a section heading")
need("死信记录", "the dead-letter count")
need("生成时间", "the generation time")

for r in rows:
    s = r["set"]
    if s == "coverage":   # percentage with one decimal, from the counts
        need(f">{r['covered_stations'] * 100 / r['stations']:.1f}%<", "a coverage percentage")
    if s == "density":    # thousands separators
        need(f">{r['workers']:,}<", "a worker count")
        need(f">{r['party_members'] * 1000 / r['workers']:.1f}<", "a density")
    if s == "projects":   # decimals=0 on this section
        need(f">{r['spend']:,.0f}<", "a spend figure")
        need(f">{r['beneficiaries']:,}<", "a beneficiaries figure")
    if s == "demands":
        need(f">{r['demands']:,}<", "a demand count")
        need(f">{r['overdue']}<", "an overdue count")

# the leaderboard: the ten highest, highest first
pts = sorted((r for r in rows if r["set"] == "points"), key=lambda r: -r["points"])
pos = [dom.find(f'<th scope="row">{r["name"]}</th>') for r in pts[:10]]
if -1 in pos or pos != sorted(pos):
    problems.append(f"leaderboard order wrong: {pos}")
if f'<th scope="row">{pts[10]["name"]}</th>' in dom:
    problems.append("leaderboard shows more than ten")
# one chart per charted metric: 1 + 1 + 2 + 2 + 1
if dom.count("<svg ") != 7:
    problems.append(f"expected 7 charts, found {dom.count('<svg ')}")
if problems:
    print("\n".join(problems)); sys.exit(1)
print("dom ok")
EOF

# The screenshot: decode the PNG (zlib + scanline filters) and look at it.
python3 - "$tmp/shot.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), f"unexpected PNG format {depth}/{ctype}"
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, red, dark = set(), 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 2:
        continue
    for x in range(0, stride, bpp * 2):
        px = bytes(line[x:x + 3])
        colours.add(px)
        if px == b"\xb8\x32\x2a":
            red += 1
        if sum(px) < 200:
            dark += 1
print(f"screenshot {w}x{h}: {len(colours)} colours, {red} bar-red samples, {dark} dark samples")
assert (w, h) == (1200, 2000), "unexpected size"
assert len(colours) > 64, "the page looks blank"
assert red > 1000, "no chart bars visible"
assert dark > 500, "no text visible"
EOF
echo "report_render: ok"

#!/usr/bin/env bash
# The district report rendered by a real browser: export_report writes the
# page from tests/data/report/district_metrics.jsonl (through the plugin
# harness: test_export_report --write-sample), headless Chromium renders it
# to a PNG and dumps its DOM. Checks: the PNG is not blank (many colours,
# the bars' red present), the headings are there, columns carry labels and
# not field names, codes read as their Chinese names (docs/records.md), and
# figures computed here with python3 from the raw counts appear formatted as
# the office reads them (shares as percentages). Then the shipped
# pipelines/district-overview.yaml runs end to end: its report must count
# the lines of the dead-letter file and name it, and show platform and
# category codes by name.
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
python3 - "$tmp/dom.html" "$DATA" "$GF_SOURCE_DIR/docs/records.md" <<'EOF'
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
# code -> Chinese label, from the enumeration tables of docs/records.md
zh = {}
for m in re.finditer(r"^\| `([a-z_0-9]+)` \| ([^|]+?) \|", open(sys.argv[3], encoding="utf-8").read(), re.M):
    zh.setdefault(m.group(1), m.group(2))
problems = []
def need(text, why):
    if text not in dom:
        problems.append(f"missing {why}: {text!r}")

need("<h1>示范区新就业群体党建工作数据报告</h1>", "the title")
for t in ["各街道站点党组织覆盖率与党员密度", "各平台覆盖与党员密度",
          "关爱项目：支出与受益人数（按类别）", "需求反馈：数量与解决时长（按层级）",
          "流动党员（按流出地党组织）", "组织生活积分排行（前10名）"]:
    need(f"</span>{t}</h2>", "a section heading")
need("未入统计记录", "the dead-letter count")
need("生成时间", "the generation time")
# labels, not field names, head the columns
for label in ["站点数", "有党组织的站点数", "站点覆盖率", "从业人员数", "党员数",
              "流动党员数", "党员密度（每千人）", "已联系组织人数", "联系组织比例",
              "平台", "类别", "项目数", "支出（元）", "受益人数", "人均支出（元）",
              "层级", "需求数", "已解决", "解决时长中位数（小时）", "超期数",
              "流出地党组织", "平均组织生活积分", "近30天平均活跃天数",
              "名次", "姓名", "站点", "组织生活积分"]:
    need(f">{label}</th>", "a column label")
for r in rows:
    for k in r:
        if f">{k}</th>" in dom:
            problems.append(f"raw field name as a column header: {k}")

for r in rows:
    s = r["set"]
    if s in ("coverage", "platforms"):  # shares as percentages, from the counts
        need(f">{r['stations_covered'] * 100 / r['stations']:.1f}%<", "a coverage percentage")
        if r["workers"]:
            need(f">{r['attached'] * 100 / r['workers']:.1f}%<", "an attached share")
            need(f">{r['party_members'] * 1000 / r['workers']:.1f}<", "a density")
        need(f">{r['workers']:,}<", "a worker count")
    if s == "platforms":  # codes read as their Chinese names
        name = zh[r["platform"]] if r["platform"] else "（未填写）"
        need(f"{name}</th>", "a platform name")
        need(f"<title>{name}: {r['stations_covered'] * 100 / r['stations']:.1f}%</title>",
             "a platform bar")
    if s == "projects":   # decimals=0 on this section
        need(f'<th scope="row">{zh[r["category"]]}</th>', "a category name")
        need(f">{r['spend']:,.0f}<", "a spend figure")
        need(f">{r['beneficiaries']:,}<", "a beneficiaries figure")
    if s == "demands":
        need(f">{r['demands']:,}<", "a demand count")
        need(f">{r['overdue']}<", "an overdue count")
need('<th scope="row">3 支部</th>', "a level with its name")
need("5 行业综合党委/<tspan", "a long column label on two lines")

# the leaderboard: the ten highest, highest first, platforms by name
pts = sorted((r for r in rows if r["set"] == "points"), key=lambda r: -r["points"])
pos = [dom.find(f'<th scope="row">{r["name"]}</th>') for r in pts[:10]]
if -1 in pos or pos != sorted(pos):
    problems.append(f"leaderboard order wrong: {pos}")
if f'<th scope="row">{pts[10]["name"]}</th>' in dom:
    problems.append("leaderboard shows more than ten")
need(f'<th scope="row">{pts[0]["name"]}</th><td class="short">{zh[pts[0]["platform"]]}</td>',
     "the leader's platform name")
# one chart per charted metric: 2 + 1 + 2 + 2 + 1
if dom.count("<svg ") != 8:
    problems.append(f"expected 8 charts, found {dom.count('<svg ')}")
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
# The shipped district pipeline, end to end: its report names the
# dead-letter file and counts its lines, and shows codes as names.
: "${GIGFLOW:?GIGFLOW must point at the gigflow binary}"
out="$tmp/district"
GIGFLOW_OUT="$out" "$GIGFLOW" run "$GF_SOURCE_DIR/pipelines/district-overview.yaml" \
    >"$tmp/run.log" 2>&1 || fail "the district pipeline failed: $(tail -5 "$tmp/run.log")"
[[ -s "$out/report.html" ]] || fail "the district pipeline wrote no report"
chrome --dump-dom "file://$out/report.html" >"$tmp/district.html" ||
    fail "chromium --dump-dom failed on the district report"
python3 - "$tmp/district.html" "$out" "$GF_SOURCE_DIR/docs/records.md" <<'EOF'
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
out = sys.argv[2]
zh = {}
for m in re.finditer(r"^\| `([a-z_0-9]+)` \| ([^|]+?) \|", open(sys.argv[3], encoding="utf-8").read(), re.M):
    zh.setdefault(m.group(1), m.group(2))
problems = []
def need(text, why):
    if text not in dom:
        problems.append(f"missing {why}: {text!r}")
dead = sum(1 for l in open(f"{out}/dead-letters.jsonl", encoding="utf-8") if l.strip())
need(f"{dead} 条记录因格式或内容问题未进入统计", "the dead-letter count")
need(f'<span class="path">{out}/dead-letters.jsonl</span>', "the dead-letter file")
recs = [json.loads(l) for l in open(f"{out}/records.jsonl", encoding="utf-8")]
for code in sorted({r["platform"] for r in recs if r.get("kind") == "member" and r.get("platform")}):
    need(f'<th scope="row">{zh[code]}</th>', f"platform {code} by name")
    if f'<th scope="row">{code}</th>' in dom:
        problems.append(f"platform code {code} shown as a row name")
for code in sorted({r["category"] for r in recs if r.get("kind") == "project"}):
    need(f'<th scope="row">{zh[code]}</th>', f"category {code} by name")
need('<th scope="row" class="na">（未填写）</th>', "the group without a platform")
for raw in ["coverage", "stations_covered", "mobile_party_members", "density",
            "attached", "attached_share", "per_capita", "median_resolution_hours",
            "overdue", "active_days", "points", "rank", "origin"]:
    if f">{raw}</th>" in dom:
        problems.append(f"raw field name as a column header: {raw}")
if problems:
    print("\n".join(problems)); sys.exit(1)
print("district pipeline report ok")
EOF

echo "report_render: ok"

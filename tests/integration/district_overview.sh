#!/usr/bin/env bash
# The shipped default pipeline (pipelines/district-overview.yaml) run the way
# an operator runs it, from another working directory, and every figure it
# writes checked against an independent computation made here from the
# INPUT files (never from gigflow's outputs):
#
#   orgs.csv     decoded with iconv -f GB18030, CRLF dropped
#   members.csv  BOM and CRLF dropped
#   projects.csv, demands.jsonl as they are
#
# loaded into sqlite3, the deliberately bad rows of pipelines/data/README.md
# left out by the lines that README lists, Chinese labels turned into codes
# with the enumeration tables of docs/records.md, and the metrics computed
# by the rules of docs/plugins/*.md (coverage, density, projects, demands,
# overdue at as_of 2025-06-30 with the default limits, mobile members by
# origin, the points leaderboard with its id tie-break). Then:
#   - metrics-<set>.csv equal the expected tables (floats within 1e-9);
#   - dead-letters.jsonl holds exactly the README's bad rows, each with its
#     stage, reason, and the file and line the README lists (ingest rejects
#     with the raw row; schema rejects, made after the ingest, with
#     the record that sits on that line);
#   - one feedback file per origin, rows = its mobile party members, phones
#     masked 3 digits + **** + 4 digits, equal to the input's phone masked;
#   - no phone or ID number of the input anywhere in records.jsonl, the
#     CSVs or report.html, and no 11-digit/18-character number at all;
#   - the numbers of report.html, as headless Chromium renders it, match
#     the metrics CSVs (to the decimals shown; %, thousands separators and
#     units and the labels of docs/records.md tolerated), table by table,
#     rows paired by their names (the report may move a row, e.g. the group
#     without a platform last); each chart's bars (title and visible texts)
#     show one metric of the rows they name, its "highest" that maximum;
#     the overview's dead-letter count is the file's.
. "$(dirname "$0")/lib.bash"
needs sqlite3 iconv python3
DATA="$SRC/pipelines/data"

# --- run it from elsewhere: a relative pipeline path, output in $T --------
mkdir "$T/cwd"
cd "$T/cwd"
rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' \
    "$SRC/pipelines/district-overview.yaml")
O="$T/out" # not created beforehand: the exports create it
rc=0
GIGFLOW_OUT="$O" timeout 60 "$GIGFLOW" run "$rel" >"$T/gf.out" 2>"$T/gf.err" || rc=$?
[ "$rc" -eq 0 ] || fail "gigflow run $rel exited $rc"
[ -z "$(ls -A "$T/cwd")" ] || fail "the run wrote into the working directory: $(ls -A "$T/cwd")"
for f in report.html records.jsonl dead-letters.jsonl; do
    [ -s "$O/$f" ] || fail "no $f in GIGFLOW_OUT"
done
for s in coverage platforms projects_by_category demands_by_level mobile_by_origin leaderboard; do
    [ -s "$O/metrics-$s.csv" ] || fail "no metrics-$s.csv"
done

# --- gigflow.db: the embedded database beside the report ------------------
# rows per table: the good rows of pipelines/data/README.md ("Facts"), and
# one table per metric set holding exactly its CSV's rows
DB="$O/gigflow.db"
[ -s "$DB" ] || fail "no gigflow.db"
for kt in org:39 member:195 project:30 demand:120; do
    got=$(sqlite3 "$DB" "SELECT count(*) FROM ${kt%%:*};")
    [ "$got" = "${kt#*:}" ] || fail "gigflow.db: ${kt%%:*} has $got rows, not ${kt#*:}"
done
for s in coverage platforms projects_by_category demands_by_level mobile_by_origin leaderboard; do
    want=$(($(wc -l <"$O/metrics-$s.csv") - 1))
    got=$(sqlite3 "$DB" "SELECT count(*) FROM $s;")
    [ "$got" = "$want" ] || fail "gigflow.db: $s has $got rows, metrics-$s.csv $want"
done
[ "$(sqlite3 "$DB" "SELECT count(*) FROM member WHERE phone NOT GLOB '[0-9][0-9][0-9][*][*][*][*][0-9][0-9][0-9][0-9]';")" = 0 ] ||
    fail "gigflow.db: a member phone is not masked"

# --- the inputs, decoded, each row with its physical line -----------------
W="$T/work"
mkdir "$W"
# line,<fields>: CSV rows here span one line each (no quoted line breaks)
numbered() { awk 'NR > 1 { print NR "," $0 }'; }
iconv -f GB18030 -t UTF-8 "$DATA/orgs.csv" | tr -d '\r' | numbered >"$W/orgs.csv"
sed '1s/^\xEF\xBB\xBF//' "$DATA/members.csv" | tr -d '\r' | numbered >"$W/members.csv"
numbered <"$DATA/projects.csv" >"$W/projects.csv"
# demands: one SQL row per line, text quoted for SQL
awk '{ gsub(/\x27/, "\x27\x27"); printf "insert into dj values (%d, \x27%s\x27);\n", NR, $0 }' \
    "$DATA/demands.jsonl" >"$W/demands.sql"
# the bad rows of the data README: file|line|what gigflow says
awk -F'|' '/^## Deliberately bad rows/ { on = 1; next } /^## / { on = 0 }
    on && $2 ~ /`/ && $3 ~ /[0-9]/ {
        f = $2; gsub(/[ `]/, "", f); l = $3; gsub(/ /, "", l)
        m = $5; sub(/^ +/, "", m); sub(/ +$/, "", m); print f "|" l "|" m }' \
    "$DATA/README.md" >"$W/bad.txt"
[ "$(wc -l <"$W/bad.txt")" -ge 10 ] || fail "could not read the bad rows of $DATA/README.md"
awk -F'|' '{ printf "insert into bad values (\x27%s\x27, %d);\n", $1, $2 }' "$W/bad.txt" >"$W/bad.sql"
# enumerations of docs/records.md: section|code|label (the code itself too)
awk '/^\*\*[a-z ]+\*\*$/ { sec = $0; gsub(/\*/, "", sec); next }
    /^## / { sec = "" }
    sec != "" && /^\| `/ {
        split($0, c, "|"); code = c[2]; gsub(/[ `]/, "", code)
        print sec "|" code "|" code
        l = c[3]; gsub(/^ +| +$/, "", l); print sec "|" code "|" l
        a = c[4]; gsub(/^ +| +$/, "", a); n = split(a, al, ", ")
        for (i = 1; i <= n; i++) if (al[i] != "") print sec "|" code "|" al[i] }' \
    "$SRC/docs/records.md" >"$W/enum.txt"

cd "$W"
{
    cat <<'SQL'
create table o_raw(line int, id, name, type, parent_id, platform, district, node,
                   station, established);
create table m_raw(line int, id, name, phone, id_number, platform, form, district,
                   station, org_id, party, rel, origin, age, joined, points, roles,
                   active_days);
create table p_raw(line int, id, name, category, org_id, district, year, budget,
                   beneficiaries, status);
create table dj(line int, j text);
create table bad(file text, line int);
create table enum(sec text, code text, label text);
.mode csv
.import orgs.csv o_raw
.import members.csv m_raw
.import projects.csv p_raw
.separator |
.import enum.txt enum
.read demands.sql
.read bad.sql
.mode csv
-- a label (or a code in any case) -> its code; NULL for empty text
create view lookup as select sec, code, label from enum
  union select sec, code, lower(code) from enum;
create table o as select line, id, nullif(district, '') district,
  nullif(station, '') station,
  (select code from lookup where sec = 'platform' and label = nullif(platform, '')) platform,
  nullif(platform, '') platform_text
  from o_raw where line not in (select line from bad where file = 'orgs.csv');
create table m as select line, id, name,
  replace(replace(replace(phone, ' ', ''), '-', ''), '+86', '') phone, id_number,
  (select code from lookup where sec = 'platform' and label = nullif(platform, '')) platform,
  nullif(platform, '') platform_text,
  nullif(district, '') district, nullif(station, '') station, nullif(org_id, '') org_id,
  lower(party) in ('中共党员', '党员', '中共预备党员', '预备党员', '是', '有',
                   'true', 'yes', 'y', 't', '1') party,
  (select code from lookup where sec = 'rel' and label = nullif(rel, '')) rel,
  nullif(origin, '') origin, cast(nullif(points, '') as int) points,
  cast(nullif(active_days, '') as int) active_days
  from m_raw where line not in (select line from bad where file = 'members.csv');
create table p as select line, id,
  (select code from lookup where sec = 'project category' and label = category) category,
  category category_text, cast(nullif(budget, '') as real) budget,
  cast(nullif(beneficiaries, '') as int) beneficiaries
  from p_raw where line not in (select line from bad where file = 'projects.csv');
create table d0 as select line, json_extract(j, '$.id') id,
  (select cast(code as int) from lookup where sec = 'demand level'
     and label = cast(json_extract(j, '$.level') as text)) lvl,
  json_extract(j, '$.level') level_text,
  json_extract(j, '$.raised') raised, json_extract(j, '$.resolved') resolved
  from dj where line not in (select line from bad where file = 'demands.jsonl');
-- minutes, not fractions of days: a limit met exactly is not exceeded
create table d as select *,
  (strftime('%s', resolved) - strftime('%s', raised)) / 60 minutes,
  case lvl when 1 then 24 when 2 then 48 when 3 then 72 when 4 then 120
           when 5 then 168 end limit_h from d0;
-- labels the lookups did not know, facts that do not hold: the test's own
-- fault, said loudly
.output problems.txt
select 'org ' || id || ': platform ' || platform_text from o
  where platform is null and platform_text is not null;
select 'member ' || id || ': platform ' || platform_text from m
  where platform is null and platform_text is not null;
select 'project ' || id || ': category ' || category_text from p where category is null;
select 'demand ' || id || ': level ' || level_text from d where lvl is null;
select 'demand ' || id || ': raised ' || raised from d where strftime('%s', raised) is null;
-- the generator's facts of the data README hold for the rows loaded here
-- (its stations are the members' stations; aggregate_coverage also counts
-- a station only an organisation names)
select 'README facts differ: ' || x from (
  select (select count(*) from o) || ' orgs' x where x <> '39 orgs'
  union all select s || ' member stations' from (select count(distinct station) s from m)
    where s <> 21
  union all select c || ' covered' from (select count(distinct station) c from m
    where station in (select station from o)) where c <> 14
  union all select n || ' members' from (select count(*) || ',' || sum(party) || ','
    || sum(party and rel = 'mobile') || ',' || count(org_id) n from m) where n <> '195,22,9,143'
  union all select n || ' projects' from (select count(*) n from p) where n <> 30
  union all select n || ' demands' from (select group_concat(c) n from (select count(*) c
    from d group by lvl order by lvl)) where n <> '36,30,27,16,11'
  union all select n || ' open' from (select count(*) - count(resolved) n from d) where n <> 33);
.headers on
SQL
    coverage_sql district coverage
    coverage_sql platform platforms
    cat <<'SQL'
.output expect-projects_by_category.csv
select 'projects_by_category' "set", category, count(*) projects, sum(budget) spend,
  sum(beneficiaries) beneficiaries,
  avg(case when beneficiaries > 0 then budget / beneficiaries end) per_capita
  from p group by category order by category;
.output expect-demands_by_level.csv
with r as (select lvl, minutes / 60.0 h,
             row_number() over (partition by lvl order by minutes) rn,
             count(*) over (partition by lvl) n
           from d where resolved is not null),
     med as (select lvl, avg(h) h from r where rn in ((n + 1) / 2, (n + 2) / 2)
             group by lvl)
select 'demands_by_level' "set", d.lvl level, count(*) demands,
  count(resolved) resolved, med.h median_resolution_hours,
  sum(case when resolved is not null then minutes > limit_h * 60
           else strftime('%s', '2025-06-30') - strftime('%s', raised) > limit_h * 3600
      end) overdue
  from d left join med on med.lvl = d.lvl group by d.lvl order by d.lvl;
.output expect-mobile_by_origin.csv
select 'mobile_by_origin' "set", origin, count(*) mobile_party_members,
  avg(points) points, avg(active_days) active_days
  from m where party and rel = 'mobile' and origin is not null
  group by origin order by origin;
.output expect-leaderboard.csv
select 'leaderboard' "set", row_number() over (order by points desc, id) rank,
  name, district, platform, station, points
  from m where points is not null order by points desc, id limit 10;
.output feedback.csv
select origin, id, phone from m where party and rel = 'mobile' and origin is not null;
.output pii.csv
select phone, id_number from m_raw;
.output ids.csv
select 'orgs.csv' f, line, id from o_raw union all select 'members.csv', line, id from m_raw
  union all select 'projects.csv', line, id from p_raw
  union all select 'demands.jsonl', line, json_extract(j, '$.id') from dj where json_valid(j);
SQL
} >compute.sql
sqlite3 -batch db.sqlite <compute.sql >/dev/null 2>sqlite.err || fail "sqlite3: $(cat sqlite.err)"
[ ! -s problems.txt ] || fail "the computation here is off: $(head -5 problems.txt)"

# --- the report as a browser renders it ------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || fail "chromium is needed to render report.html"
timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$T/profile" --dump-dom "file://$O/report.html" \
    >"$W/dom.html" 2>"$W/chromium.log" ||
    fail "chromium --dump-dom failed: $(tail -3 "$W/chromium.log")"

python3 - "$O" "$W" "$SRC" <<'PY' || fail "see above"
import csv, glob, html, json, os, re, sys
out, work, src = sys.argv[1:4]
problems = []
def bad(msg):
    problems.append(msg)

def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))

def same(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-9 * max(1.0, abs(x))

SETS = ["coverage", "platforms", "projects_by_category", "demands_by_level",
        "mobile_by_origin", "leaderboard"]
files = sorted(os.path.basename(f) for f in glob.glob(f"{out}/metrics-*.csv"))
if files != sorted(f"metrics-{s}.csv" for s in SETS):
    bad(f"metrics files {files}, expected one per set of {SETS}")
metrics = {}
for s in SETS:
    want = read_csv(f"{work}/expect-{s}.csv")
    got = read_csv(f"{out}/metrics-{s}.csv")
    metrics[s] = got
    if len(got) != len(want):
        bad(f"metrics-{s}.csv: {len(got)} rows, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g.get("kind") != "metric":
            bad(f"metrics-{s}.csv row {i + 1}: kind {g.get('kind')!r}")
        for col, v in w.items():
            if col not in g:
                bad(f"metrics-{s}.csv: no column {col}")
            elif not same(g[col], v):
                bad(f"metrics-{s}.csv row {i + 1} {col}: {g[col]!r}, expected {v!r}")
    print(f"{s}: {len(want)} rows checked")

# --- dead letters: exactly the README's bad rows ---------------------------
ids = {(r["f"], int(r["line"])): r["id"] for r in read_csv(f"{work}/ids.csv")}
dls = [json.loads(l) for l in open(f"{out}/dead-letters.jsonl", encoding="utf-8")]
listed = [l.rstrip("\n").split("|", 2) for l in open(f"{work}/bad.txt", encoding="utf-8")]
if len(dls) != len(listed):
    bad(f"dead-letters.jsonl: {len(dls)} lines, the data README lists {len(listed)}")
used = set()
for f, line, says in listed:
    line = int(line)
    who, _, msg = says.partition(":")
    hit = None
    for i, d in enumerate(dls):
        if i in used or not d.get("stage") or not d.get("reason"):
            continue
        if who.startswith("ingest"):
            if d.get("file", "").endswith("/" + f) and d.get("line") == line \
                    and d["reason"].startswith(f"line {line}:") and "raw" in d:
                hit = i
        elif d["stage"] == "schema" and d["reason"] == msg.strip() \
                and d.get("file", "").endswith("/" + f) and d.get("line") == line \
                and d.get("record", {}).get("id") == ids.get((f, line)):
            hit = i  # the record that sits on the listed line, and says so
        if hit is not None:
            break
    if hit is None:
        bad(f"dead letters: nothing for {f}:{line} ({says})")
    else:
        used.add(hit)
print(f"dead letters: {len(used)} of {len(listed)} listed rows found")

# --- feedback: one file per origin, its mobile party members, masked ------
want = {}
for r in read_csv(f"{work}/feedback.csv"):
    origin, mid, phone = r["origin"], r["id"], r["phone"]
    want.setdefault(origin, {})[mid] = phone[:3] + "****" + phone[-4:]
files = sorted(glob.glob(f"{out}/feedback/*.csv"))
names = sorted(f"{out}/feedback/origin-{o}.csv" for o in want)
if files != names:
    bad(f"feedback files {files}, expected {names}")
for o, members in want.items():
    p = f"{out}/feedback/origin-{o}.csv"
    if not os.path.exists(p):
        continue
    rows = read_csv(p)
    if sorted(r["id"] for r in rows) != sorted(members):
        bad(f"{p}: members {sorted(r['id'] for r in rows)}, expected {sorted(members)}")
    for r in rows:
        if r["origin"] != o:
            bad(f"{p}: a row of origin {r['origin']}")
        if not re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) or \
                r["phone"] != members.get(r["id"]):
            bad(f"{p}: phone {r['phone']!r} of {r['id']}, expected {members.get(r['id'])!r}")
print(f"feedback: {len(want)} origins, {sum(map(len, want.values()))} members")

# --- no personal data in the outputs ----------------------------------------
secrets = set()
for r in read_csv(f"{work}/pii.csv"):
    phone, idn = r["phone"], r["id_number"]
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 7:
        secrets.add(digits)
    if idn:
        secrets.add(idn)
outputs = [f"{out}/records.jsonl", f"{out}/report.html", f"{work}/dom.html"] + \
    glob.glob(f"{out}/*.csv") + glob.glob(f"{out}/feedback/*.csv")
for p in outputs:
    text = open(p, encoding="utf-8").read()
    for s in secrets:
        if s in text:
            bad(f"{p} holds personal data {s[:3]}...")
    m = re.search(r"(?<![0-9A-Za-z])(\d{11}|\d{17}[\dX])(?![0-9A-Za-z])", text)
    if m:
        bad(f"{p} holds an unmasked number {m.group(1)[:3]}...")
print(f"personal data: {len(outputs)} outputs scanned for {len(secrets)} values")

# --- the report, as Chromium rendered it -----------------------------------
dom = open(f"{work}/dom.html", encoding="utf-8").read()
def text(cell):
    return html.unescape(re.sub(r"<[^>]*>", "", cell)).strip()
tables = []  # (rows of cells, the charts of the table's section)
for sec in re.findall(r"<section\b.*?</section>", dom, re.S):
    for t in re.findall(r"<table\b.*?</table>", sec, re.S):
        body = re.search(r"<tbody>(.*?)</tbody>", t, re.S)
        rows = re.findall(r"<tr\b.*?</tr>", body.group(1) if body else t, re.S)
        tables.append(([[text(c) for c in re.findall(r"<t[hd]\b.*?</t[hd]>", r, re.S)]
                        for r in rows], re.findall(r"<svg\b.*?</svg>", sec, re.S)))
labels = {}
for line in open(f"{work}/enum.txt", encoding="utf-8"):
    sec, code, label = line.rstrip("\n").split("|")
    labels.setdefault(code, set()).add(label)
NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
def shows(cell, value):
    """Does a report cell show this CSV value (to the decimals shown)?"""
    if value == "":
        return cell in ("", "—", "-", "–", "n/a", "N/A")
    try:
        v = float(value)
    except ValueError:  # text: itself, or a label of its code
        return cell == value or cell in labels.get(value, ()) or \
            value in cell.split()
    m = NUM.search(cell)
    if not m:
        return False
    num = m.group(0).replace(",", "")
    shown = float(num)
    decimals = len(num.split(".")[1]) if "." in num else 0
    tol = 0.5 * 10 ** -decimals + 1e-9
    if "%" in cell[m.end():m.end() + 2]:
        v *= 100
    return abs(shown - v) <= tol
def row_key_matches(cell, value):
    if value == "":  # a group without a by-value, however the report names it
        return shows(cell, value) or "未填写" in cell or "未知" in cell
    return shows(cell, value) or value in cell
def pair(table, rows, key):
    """Each table row with the CSV row its first cell names (the one at the
    same place when it fits: the report may move rows, not rename them);
    None unless every row finds its own."""
    free, out = list(range(len(rows))), []
    if len(table) != len(rows):
        return None
    for i, r in enumerate(table):
        fits = [j for j in free if r and row_key_matches(r[0], rows[j][key])]
        if not fits:
            return None
        j = i if i in fits else fits[0]
        free.remove(j)
        out.append((r, rows[j]))
    return out
checked = 0
for s in SETS:
    rows = metrics[s]
    if not rows:
        continue
    fields = [k for k in rows[0] if k not in ("kind", "set")]
    pairs, charts = next(((p, c) for p, c in ((pair(t, rows, fields[0]), c) for t, c in tables)
                          if p), (None, None))
    if pairs is None:
        bad(f"report.html: no table of {len(rows)} rows keyed like metrics-{s}.csv")
        continue
    if s == "leaderboard" and [g["rank"] for _, g in pairs] != [g["rank"] for g in rows]:
        bad("report.html: the leaderboard is not in rank order")
    # each chart's bars ("label: value" in their titles) show one metric of
    # the rows their labels name; its description's maximum is that metric's
    by_label = {r[0]: g for r, g in pairs}
    for svg in charts:
        bars = []
        for l, v, rest in re.findall(
                r"<g\b[^>]*>\s*<title>([^<]*?):\s*([^<:]*)</title>(.*?)</g>", svg, re.S):
            bars.append((html.unescape(l).strip(), v.strip()))
            # the bar's visible texts: its label, and its value as the title says
            for t in re.findall(r"<text\b[^>]*>(.*?)</text>", rest, re.S):
                if text(t) not in (bars[-1][0], bars[-1][1]):
                    bad(f"report.html, {s}: a bar titled {bars[-1]} shows {text(t)!r}")
        if not bars:
            continue
        unknown = [l for l, _ in bars if l not in by_label]
        if unknown:
            bad(f"report.html, {s}: chart bars {unknown} name no row of the table")
            continue
        fit = [f for f in fields[1:] if all(shows(v, by_label[l][f]) for l, v in bars)]
        if not fit:
            bad(f"report.html, {s}: chart bars {bars[:3]}... show no metric of the CSV")
            continue
        checked += len(bars)
        top = re.search(r"<desc\b[^>]*>[^<]*最高：([^<（]*)（([^）<]*)）", svg)
        if top:
            vals = [float(g[fit[0]]) for g in rows if g[fit[0]] != ""]
            if not (shows(top.group(2), repr(max(vals))) and
                    by_label.get(html.unescape(top.group(1)).strip(), {}).get(fit[0]) is not None and
                    float(by_label[html.unescape(top.group(1)).strip()][fit[0]]) == max(vals)):
                bad(f"report.html, {s}: chart says the highest is {top.group(1)} ({top.group(2)}), "
                    f"the CSV's {fit[0]} peaks at {max(vals)}")
            checked += 1
    for r, g in pairs:
        if len(r) != len(fields):
            bad(f"report.html, {s}: row {r[0]!r} has {len(r)} cells, the CSV {len(fields)} fields")
            continue
        for cell, f in zip(r[1:], fields[1:]):
            checked += 1
            if not shows(cell, g[f]):
                bad(f"report.html, {s}, row {r[0]!r}, {f}: shows {cell!r}, the CSV has {g[f]!r}")
m = re.search(r"(?:死信记录|未入统计记录)\D{0,40}?(\d+)", dom)
if not m or int(m.group(1)) != len(dls):
    bad(f"report.html: the dead-letter count is not {len(dls)}")
# the overview's other counts, where the report shows them
for label, want in (("(?:统计|报告)部分", len(SETS)),
                    ("(?:统计)?数据行", sum(map(len, metrics.values())))):
    m = re.search(label + r"\D{0,40}?(\d+)", dom)
    if m and int(m.group(1)) != want:
        bad(f"report.html: {label} shows {m.group(1)}, expected {want}")
    checked += bool(m)
print(f"report: {checked} cells checked")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "district_overview: ok"

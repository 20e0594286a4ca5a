#!/usr/bin/env bash
# The shipped pilot pipeline (pipelines/pilot-district.yaml) at a tenth of
# its scale (--set district.members=5000 ...), run from another working
# directory with GIGFLOW_OUT elsewhere. Its input exists only as gigflow's
# output, so the independent computation reads records.jsonl (every
# record, as generated and classified) with sqlite3 and recomputes from
# the generated fields - not from the derived ones - coverage and density
# by district and by platform, projects by category, demands by level
# (resolution times and overdue at as_of 2025-06-30 from raised/resolved,
# default limits per level), mobile members by origin prefecture, and the
# points leaderboard (ties by id); metrics-<set>.csv must match (floats
# within 1e-9). Also: one feedback file per origin organisation with its
# mobile members, phones and ID numbers masked everywhere.
set -euo pipefail
: "${GIGFLOW:?set GIGFLOW to the gigflow binary}"
: "${GF_SOURCE_DIR:?set GF_SOURCE_DIR to the source tree}"
for tool in sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed" >&2; exit 1; }
done
export LC_ALL=C.UTF-8
SRC=$(cd "$GF_SOURCE_DIR" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/gf-pilot.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -s "$T/gf.err" ] && { echo "--- gigflow stderr:" >&2; head -30 "$T/gf.err" >&2; }
    exit 1
}
MEMBERS=5000 DEMANDS=1000
mkdir "$T/cwd"
cd "$T/cwd"
rc=0
GIGFLOW_OUT="$T/out" timeout 60 "$GIGFLOW" run "$SRC/pipelines/pilot-district.yaml" \
    --set district.members=$MEMBERS --set district.stations=400 \
    --set district.projects=60 --set district.demands=$DEMANDS --set district.seed=7 \
    >"$T/gf.out" 2>"$T/gf.err" || rc=$?
[ "$rc" -eq 0 ] || fail "gigflow run pilot-district.yaml exited $rc"
[ -z "$(ls -A "$T/cwd")" ] || fail "the run wrote into the working directory"
O="$T/out/pilot"
[ ! -e "$O/dead-letters.jsonl" ] || fail "dead letters from generated records: $(head -c 300 "$O/dead-letters.jsonl")"
for f in report.html records.jsonl; do [ -s "$O/$f" ] || fail "no pilot/$f"; done

cd "$T"
{ echo '['; sed '$!s/$/,/' "$O/records.jsonl"; echo ']'; } >all.json
coverage_sql() { # $1 the by field, $2 the set
    cat <<SQL
.output expect-$2.csv
with st as (select $1 g, station s from m where station is not null
            union select $1, station from o where station is not null),
     grp as (select $1 g from m union select $1 from o where station is not null),
     c as (select g.g g,
       (select count(distinct s) from st where st.g is g.g) stations,
       (select count(distinct s) from st where st.g is g.g
          and s in (select station from o)) covered,
       (select count(*) from m where m.$1 is g.g) workers,
       (select count(*) from m where m.$1 is g.g and party) party_members,
       (select count(*) from m where m.$1 is g.g and party and rel = 'mobile') mobile,
       (select count(*) from m where m.$1 is g.g and org_id is not null) attached
       from grp g)
select '$2' "set", g "$1", stations, covered stations_covered,
       covered * 1.0 / nullif(stations, 0) coverage, workers, party_members,
       mobile mobile_party_members, 1000.0 * party_members / nullif(workers, 0) density,
       attached, attached * 1.0 / nullif(workers, 0) attached_share
from c order by g;
SQL
}
{
    cat <<'SQL'
create table r as select value j from json_each(readfile('all.json'));
create table o as select json_extract(j, '$.id') id, json_extract(j, '$.district') district,
  json_extract(j, '$.platform') platform, nullif(json_extract(j, '$.station'), '') station
  from r where json_extract(j, '$.kind') = 'org';
create table m as select json_extract(j, '$.id') id, json_extract(j, '$.name') name,
  json_extract(j, '$.district') district, json_extract(j, '$.platform') platform,
  nullif(json_extract(j, '$.station'), '') station, nullif(json_extract(j, '$.org_id'), '') org_id,
  coalesce(json_extract(j, '$.party'), 0) party, json_extract(j, '$.rel') rel,
  json_extract(j, '$.origin') origin, json_extract(j, '$.origin_area') origin_area,
  json_extract(j, '$.points') points, json_extract(j, '$.active_days') active_days,
  json_extract(j, '$.phone') phone, json_extract(j, '$.id_number') id_number
  from r where json_extract(j, '$.kind') = 'member';
create table p as select json_extract(j, '$.category') category,
  json_extract(j, '$.budget') budget, json_extract(j, '$.beneficiaries') beneficiaries
  from r where json_extract(j, '$.kind') = 'project';
create table d as select json_extract(j, '$.level') lvl, json_extract(j, '$.raised') raised,
  json_extract(j, '$.resolved') resolved,
  (strftime('%s', json_extract(j, '$.resolved')) - strftime('%s', json_extract(j, '$.raised'))) secs,
  case json_extract(j, '$.level') when 1 then 24 when 2 then 48 when 3 then 72
    when 4 then 120 when 5 then 168 end limit_h
  from r where json_extract(j, '$.kind') = 'demand';
.mode csv
.output facts.txt
select count(*) from m; select count(*) from d;
.headers on
SQL
    coverage_sql district coverage
    coverage_sql platform platforms
    cat <<'SQL'
.output expect-projects_by_category.csv
select 'projects_by_category' "set", category, count(*) projects, sum(budget) spend,
  sum(beneficiaries) beneficiaries,
  avg(case when beneficiaries > 0 then budget * 1.0 / beneficiaries end) per_capita
  from p group by category order by category;
.output expect-demands_by_level.csv
with x as (select lvl, secs / 3600.0 h,
             row_number() over (partition by lvl order by secs) rn,
             count(*) over (partition by lvl) n
           from d where resolved is not null),
     med as (select lvl, avg(h) h from x where rn in ((n + 1) / 2, (n + 2) / 2)
             group by lvl)
select 'demands_by_level' "set", d.lvl level, count(*) demands,
  count(resolved) resolved, med.h median_resolution_hours,
  sum(case when resolved is not null then secs > limit_h * 3600
           else strftime('%s', '2025-06-30') - strftime('%s', raised) > limit_h * 3600
      end) overdue
  from d left join med on med.lvl = d.lvl group by d.lvl order by d.lvl;
.output expect-mobile_by_origin.csv
select 'mobile_by_origin' "set", origin_area, count(*) mobile_party_members,
  count(distinct origin) origins, avg(points) points, avg(active_days) active_days
  from m where party and rel = 'mobile' and origin is not null
  group by origin_area order by origin_area;
.output expect-leaderboard.csv
select 'leaderboard' "set", row_number() over (order by points desc, id) rank,
  name, district, platform, station, points
  from m where points is not null order by points desc, id limit 10;
.output feedback.csv
select origin, id from m where party and rel = 'mobile' and origin is not null;
.output pii.csv
select phone, id_number from m;
SQL
} >compute.sql
sqlite3 -batch :memory: <compute.sql >/dev/null 2>sqlite.err || fail "sqlite3: $(cat sqlite.err)"
[ "$(tr -d '\r' <facts.txt | paste -sd,)" = "$MEMBERS,$DEMANDS" ] ||
    fail "records.jsonl holds $(tr -d '\r' <facts.txt | paste -sd' ') members, demands"

python3 - "$O" "$T" <<'PY' || fail "see above"
import csv, glob, re, sys
out, work = sys.argv[1:3]
problems = []
def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))
def same(a, b):
    if a == b:
        return True
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    except ValueError:
        return False
for s in ["coverage", "platforms", "projects_by_category", "demands_by_level",
          "mobile_by_origin", "leaderboard"]:
    want, got = read_csv(f"{work}/expect-{s}.csv"), read_csv(f"{out}/metrics-{s}.csv")
    if len(got) != len(want) or not want:
        problems.append(f"metrics-{s}.csv: {len(got)} rows, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        for col, v in w.items():
            if not same(g.get(col), v):
                problems.append(f"metrics-{s}.csv row {i + 1} {col}: {g.get(col)!r}, expected {v!r}")
    print(f"{s}: {len(want)} rows checked")
want = {}
for r in read_csv(f"{work}/feedback.csv"):
    want.setdefault(r["origin"], set()).add(r["id"])
files = glob.glob(f"{out}/feedback/origin-*.csv")
if len(files) != len(want):
    problems.append(f"{len(files)} feedback files, {len(want)} origins")
for o, ids in want.items():
    rows = read_csv(f"{out}/feedback/origin-{o}.csv")
    if {r["id"] for r in rows} != ids or any(r["origin"] != o for r in rows):
        problems.append(f"feedback file of {o}: {[r['id'] for r in rows]}, expected {sorted(ids)}")
    if any(not re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) for r in rows):
        problems.append(f"feedback file of {o}: a phone not masked 3+****+4")
pii = read_csv(f"{work}/pii.csv")
if not all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) and
           re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r["id_number"]) for r in pii):
    problems.append("records.jsonl: a phone or ID number not masked")
for p in [f"{out}/records.jsonl", f"{out}/report.html"] + glob.glob(f"{out}/*.csv") + files:
    if re.search(r"(?<![0-9A-Za-z])(1\d{10}|\d{17}[\dX])(?![0-9A-Za-z])",
                 open(p, encoding="utf-8").read()):
        problems.append(f"{p}: an unmasked phone or ID number")
print(f"feedback: {len(want)} origins; {len(pii)} members masked")
for m in problems[:20]:
    print("FAIL:", m, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "pilot_district: ok"

#!/usr/bin/env python3
"""Generate gigflow's bundled sample data (pipelines/data/) deterministically.

The files look like what district offices export from office software:

  orgs.csv       GB18030, Chinese headers, CRLF line ends
  members.csv    UTF-8 with a BOM, Chinese headers, CRLF line ends
  projects.csv   UTF-8, English headers (the field names), LF
  demands.jsonl  UTF-8 JSON lines, one demand each

plus README.md, which documents the columns and every deliberately bad row
(file, line, what is wrong, what gigflow says) with the line numbers this
script actually wrote, and a few facts about the good rows computed here.

Everything personal is synthetic: names are "<surname>某<number>", phones
start with 100 (no such mobile prefix exists), ID numbers use the
unassigned region code 99xxxx with a correct GB 11643 check digit.

Run from anywhere:  python3 tests/data/make_sample.py [OUTDIR]
(default OUTDIR: pipelines/data next to this repository's root). The output
depends only on this file: a fixed seed, no clock, no locale.
"""

import json
import os
import random
import sys

SEED = 20250630
EXPORT_DATE = "2025-06-30"  # the day the offices exported the data

DISTRICTS = ["滨江区", "临湖区", "望山区", "云溪区"]
# platform label -> (code, form); the labels are what the exports carry
PLATFORMS = {
    "美团": ("meituan", "food_delivery"),
    "饿了么": ("eleme", "food_delivery"),
    "叮咚买菜": ("dingdong", "grocery"),
    "盒马": ("hema", "grocery"),
    "顺丰": ("sf", "express"),
    "韵达": ("yunda", "express"),
    "申通": ("sto", "express"),
    "中通": ("zto", "express"),
    "圆通": ("yto", "express"),
    "滴滴": ("didi", "ride_hailing"),
}
# stations per district: (platform label, how many)
STATION_PLAN = {
    "滨江区": [("美团", 2), ("饿了么", 1), ("顺丰", 1), ("中通", 1),
              ("叮咚买菜", 1), ("滴滴", 1)],
    "临湖区": [("美团", 1), ("饿了么", 1), ("韵达", 1), ("申通", 1),
              ("盒马", 1)],
    "望山区": [("美团", 1), ("饿了么", 1), ("圆通", 1), ("顺丰", 1),
              ("滴滴", 1)],
    "云溪区": [("美团", 1), ("中通", 1), ("韵达", 1), ("叮咚买菜", 1)],
}
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
ORIGINS = ["示例省甲县城关镇党委", "示例省乙县河口镇党委",
           "样例省丙县东风乡党委", "样例省丁市新城街道党工委",
           "模拟省戊县白沙镇党委"]
ROLE_LABELS = ["联络员", "先锋岗", "志愿者", "网格员", "安全员"]

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(d17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(d17, W)) % 11]


def id_number(rng, age):
    region = "99%02d%02d" % (rng.randint(1, 20), rng.randint(1, 30))
    year = 2025 - age
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    d17 = "%s%04d%02d%02d%03d" % (region, year, month, day,
                                  rng.randint(1, 999))
    return d17 + check_char(d17)


def csv_field(v):
    s = "" if v is None else str(v)
    if any(c in s for c in ',"\r\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def csv_line(values):
    return ",".join(csv_field(v) for v in values)


class Bad:
    """Deliberately bad rows: (file, line, what, says), in order."""

    def __init__(self):
        self.rows = []

    def add(self, file, line, what, says):
        self.rows.append((file, line, what, says))


def make_stations():
    stations = []  # (name, district, platform label, node)
    for d in DISTRICTS:
        for plat, n in STATION_PLAN[d]:
            for i in range(1, n + 1):
                form = PLATFORMS[plat][1]
                if form == "express":
                    name, node = "%s%s%d号网点" % (d[:2], plat, i), "outlet"
                elif form == "grocery":
                    name, node = "%s%s%d号仓" % (d[:2], plat, i), "warehouse"
                elif form == "ride_hailing":
                    name, node = "%s%s司机之家" % (d[:2], plat), "community"
                else:
                    name, node = "%s%s%d站" % (d[:2], plat, i), "station"
                stations.append((name, d, plat, node))
    return stations


def make_orgs(rng, stations):
    """Rows of org dicts (Chinese labels as exported)."""
    orgs = []

    def add(name, typ, parent="", platform="", district="", node="",
            station="", established=""):
        oid = "O%03d" % (len(orgs) + 1)
        orgs.append(dict(id=oid, name=name, type=typ, parent_id=parent,
                         platform=platform, district=district, node=node,
                         station=station, established=established))
        return oid

    def date():
        return "%d/%d/%d" % (rng.randint(2018, 2024), rng.randint(1, 12),
                             rng.randint(1, 28))

    top = add("示例市新就业群体行业综合党委", "行业综合党委",
              established=date())
    add("示例市流动党员党委", "流动党员党委", established=date())
    enterprise = {}
    for plat, (code, form) in PLATFORMS.items():
        if form == "express" and plat in ("中通", "韵达"):
            enterprise[plat] = add("%s示例分拨中心党支部" % plat, "支部", top,
                                   plat, "临湖区", "分拨中心", "",
                                   date())
        else:
            enterprise[plat] = add("%s示例市分公司党委" % plat, "企业党组织",
                                   top, plat, "滨江区", "分公司", "",
                                   date())
    # station branches: about half the stations (partial coverage)
    covered = set()
    for i, (st, d, plat, node) in enumerate(stations):
        if i % 2 == 0 or plat == "美团":
            label = {"station": "站点", "outlet": "网点",
                     "warehouse": "仓库", "community": "社区服务站"}[node]
            add("%s党支部" % st, "党支部", enterprise[plat], plat, d, label,
                st, date())
            covered.add(st)
    # joint branches for the express outlets of two districts
    for d in ("临湖区", "云溪区"):
        add("%s快递网点联合党支部" % d, "联合支部", top, "", d, "网点", "",
            date())
    # mass organisations
    add("示例市快递行业工会", "工会", top, "", "", "", "", date())
    add("滨江区骑手工会", "工会", top, "", "滨江区", "", "", date())
    add("示例市骑手青年之家", "青年之家", top, "", "", "", "", date())
    add("临湖区女骑手妇女之家", "妇联", top, "", "临湖区", "", "", date())
    add("望山区骑手暖心驿站", "工会", top, "", "望山区", "社区服务站",
        "望山骑手暖心驿站", date())
    add("临湖区骑手工会", "工会", top, "", "临湖区", "", "", date())
    add("云溪区新就业群体工会", "工会", top, "", "云溪区", "", "", date())
    add("滨江区青年骑手之家", "青年之家", top, "", "滨江区", "", "", date())
    add("云溪区妇女之家", "妇女之家", top, "", "云溪区", "", "", date())
    add("滨江区外卖骑手联合党支部", "联合党支部", top, "", "滨江区", "站点", "",
        date())
    add("望山区网约车司机联合党支部", "联合支部", top, "滴滴", "望山区",
        "社区服务站", "望山滴滴司机之家", date())
    return orgs, covered


def write_orgs(path, orgs, bad):
    header = ["组织编号", "组织名称", "组织类型", "上级组织编号", "所属平台",
              "所属区", "节点类型", "站点", "成立日期"]
    keys = ["id", "name", "type", "parent_id", "platform", "district", "node",
            "station", "established"]
    lines = [csv_line(header)]
    for o in orgs:
        lines.append(csv_line([o[k] for k in keys]))
    # bad rows, appended after the good ones
    lines.append(csv_line(["O901", "望山区外卖骑手联合党支部", "联合支部", "O001",
                           "", "望山区", "站点", "2023/4/1"]))  # 8 fields
    bad.add("orgs.csv", len(lines),
            "8 fields instead of 9 (the 站点 cell is missing, the row is "
            "shifted)",
            "ingest_csv: row with the wrong number of fields, to the dead "
            "letters with file and line")
    lines.append(csv_line(["O902", "云溪区网约车司机党委", "党委", "O001", "滴滴",
                           "云溪区", "", "", "2022/9/1"]))
    bad.add("orgs.csv", len(lines), "组织类型 \"党委\" is not an org type",
            "classify_schema: field type: unknown org type \"党委\"")
    lines.append(csv_line(["O903", "临湖区盒马1号仓党支部", "支部", "O008",
                           "盒马", "临湖区", "仓库", "临湖盒马1号仓",
                           "2022/2/30"]))
    bad.add("orgs.csv", len(lines), "成立日期 2022/2/30 does not exist",
            "classify_schema: field established: \"2022/2/30\": no such day "
            "in the calendar")
    with open(path, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("gb18030"))


def make_members(rng, stations, orgs, covered):
    by_station = {}
    for o in orgs:
        if o["station"]:
            by_station.setdefault(o["station"], o["id"])
    joint = {o["district"]: o["id"] for o in orgs if o["type"] == "联合支部"}
    unions = [o["id"] for o in orgs if o["type"] in ("工会", "青年之家", "妇联")]
    weights = {"station": 10, "outlet": 7, "warehouse": 5, "community": 6}
    pool = [s for s in stations for _ in range(weights[s[3]])]
    members = []
    for n in range(1, 201):
        st, d, plat, node = rng.choice(pool)
        age = rng.randint(19, 58)
        r = rng.random()
        party_word = ("中共党员" if r < 0.12 else "中共预备党员" if r < 0.14
                      else "共青团员" if r < 0.24 else "群众")
        party = party_word in ("中共党员", "中共预备党员")
        org = ""
        if st in covered and rng.random() < 0.8:
            org = by_station[st]
        elif PLATFORMS[plat][1] == "express" and d in joint and \
                rng.random() < 0.6:
            org = joint[d]
        elif rng.random() < 0.15:
            org = rng.choice(unions)
        rel = origin = joined = ""
        points = rng.randint(0, 40)
        roles = []
        if party:
            mobile = rng.random() < 0.45
            rel = "流动" if mobile else "本地"
            origin = rng.choice(ORIGINS) if mobile else ""
            year = 2025 - age + rng.randint(18, age)
            joined = "%04d-%02d-%02d" % (year, rng.randint(
                1, 6 if year == 2025 else 12), rng.randint(1, 28))
            points = rng.randint(40, 300)
            roles = rng.sample(ROLE_LABELS[:3], rng.randint(0, 2))
        elif rng.random() < 0.1:
            roles = ["志愿者"]
        sep = "、" if n % 3 == 0 else ";"
        phone = "100%08d" % (n * 7919 % 100000000)
        if n % 4 == 0:
            phone = phone[:3] + " " + phone[3:7] + " " + phone[7:]
        members.append(dict(
            id="M%04d" % n,
            name="%s某%03d" % (SURNAMES[n % len(SURNAMES)], n),
            phone=phone, id_number=id_number(rng, age), platform=plat,
            form="", district=d, station=st, org_id=org,
            party=party_word, rel=rel, origin=origin, age=age,
            joined=joined, points=points, roles=sep.join(roles),
            active_days=rng.randint(3, 30)))
    return members


def write_members(path, members, bad):
    header = ["人员编号", "姓名", "手机号", "身份证号", "平台", "从业类型",
              "所属区", "站点", "所属组织编号", "政治面貌", "组织关系",
              "流出地党组织", "年龄", "入党日期", "组织生活积分", "角色",
              "近30天活跃天数"]
    keys = ["id", "name", "phone", "id_number", "platform", "form",
            "district", "station", "org_id", "party", "rel", "origin", "age",
            "joined", "points", "roles", "active_days"]
    lines = [csv_line(header).encode("utf-8")]
    # the bad rows sit among the good ones, as they would in a real export
    spoil = {37: "phone", 74: "id", 111: "platform", 148: "bytes",
             185: "rel"}
    for i, m in enumerate(members, 1):
        row = [m[k] for k in keys]
        what = spoil.get(i)
        if what == "phone":
            row[2] = "1000012345"
            bad.add("members.csv", len(lines) + 1,
                    "手机号 has 10 digits",
                    "classify_schema: field phone: has fewer than 11 digits")
        elif what == "id":
            good = row[3]
            row[3] = good[:17] + ("0" if good[17] != "0" else "1")
            bad.add("members.csv", len(lines) + 1,
                    "身份证号 has a wrong check digit",
                    "classify_schema: field id_number: wrong check digit "
                    "(GB 11643)")
        elif what == "platform":
            row[4] = "优步"
            bad.add("members.csv", len(lines) + 1,
                    "平台 \"优步\" is not a known platform",
                    "classify_schema: field platform: unknown platform "
                    "\"优步\"")
        elif what == "rel":
            row[9], row[10], row[11] = "群众", "流动", ""
            bad.add("members.csv", len(lines) + 1,
                    "组织关系 set on a member who is not in the party",
                    "classify_schema: field rel: only for party members "
                    "(party is false or absent)")
        line = csv_line(row)
        if what == "bytes":
            # the name pasted from a GBK source: invalid UTF-8
            raw = line.encode("utf-8").replace(
                row[1].encode("utf-8"), row[1].encode("gbk"))
            bad.add("members.csv", len(lines) + 1,
                    "姓名 is GBK bytes inside this UTF-8 file (invalid "
                    "UTF-8)",
                    "ingest_csv: bytes invalid in the file's encoding, to the "
                    "dead letters with file and line")
            lines.append(raw)
        else:
            lines.append(line.encode("utf-8"))
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    return set(spoil)


def make_projects(rng, orgs):
    cats = [("保险", "骑手职业伤害保障"), ("法律援助", "骑手法律服务站"),
            ("安全培训", "交通安全培训"), ("学历提升", "学历提升计划"),
            ("技能培训", "技能培训班"), ("职称评审", "快递员职称评审"),
            ("健康体检", "健康体检"), ("other", "暖心驿站建设")]
    owners = [o for o in orgs if o["type"] not in ("青年之家",)]
    projects = []
    for n in range(1, 31):
        cat, title = cats[n % len(cats)]
        o = rng.choice(owners)
        year = 2023 + n % 3
        status = ("已完成" if year < 2025 else
                  rng.choice(["进行中", "计划中", "进行中"]))
        name = "%s%s%d期" % (o["district"] or "示例市", title, n)
        if n == 12:
            name = "Rider legal aid, spring"  # a quoted field with a comma
        projects.append(dict(
            id="P%03d" % n, name=name, category=cat, org_id=o["id"],
            district=o["district"], year=year,
            budget="%.2f" % (rng.randint(10, 400) * 500),
            beneficiaries=rng.randint(20, 600), status=status))
    return projects


def write_projects(path, projects, bad):
    keys = ["id", "name", "category", "org_id", "district", "year", "budget",
            "beneficiaries", "status"]
    lines = [csv_line(keys)]
    for p in projects:
        lines.append(csv_line([p[k] for k in keys]))
    lines.append(csv_line(["P901", "骑手子女托管", "教育", "O001", "滨江区", 2025,
                           "五万元", 80, "计划中"]))
    bad.add("projects.csv", len(lines), "budget \"五万元\" is not a number",
            "classify_schema: field budget: \"五万元\" is not a number")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def fmt_time(minutes):
    """Minutes since 2025-01-01 00:00 -> 'YYYY-MM-DD HH:MM'."""
    days, m = divmod(minutes, 1440)
    month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    month = 0
    while days >= month_days[month]:
        days -= month_days[month]
        month += 1
    return "2025-%02d-%02d %02d:%02d" % (month + 1, days + 1, m // 60, m % 60)


def make_demands(rng, members, orgs, spoiled):
    cats = ["薪酬", "社保", "交通安全", "休息驿站", "进小区难", "住房",
            "子女入学", "劳动纠纷", "体检", "平台规则", "培训", "其他"]
    handler = {1: "branch", 2: "branch", 3: "branch", 4: "enterprise",
               5: "top"}
    by_id = {o["id"]: o for o in orgs}
    good_members = [m for i, m in enumerate(members, 1) if i not in spoiled]
    export = 181 * 1440  # the end of 2025-06-30, minutes since 2025-01-01
    counts = {1: 36, 2: 30, 3: 27, 4: 16, 5: 11}
    levels = [lv for lv, c in counts.items() for _ in range(c)]
    rng.shuffle(levels)
    demands = []
    for n, level in enumerate(levels, 1):
        m = rng.choice(good_members)
        raised = rng.randint(0, export - 1440)
        org = m["org_id"]
        if handler[level] == "enterprise" or not org:
            org = by_id[org]["parent_id"] if org and by_id[org]["parent_id"] \
                else "O001"
        if handler[level] == "top":
            org = "O002" if m["rel"] == "流动" else "O001"
        # resolution takes longer the higher the demand climbed
        hours = rng.randint(2, 24) * level * level
        resolved = raised + hours * 60
        d = {"kind": "demand", "id": "D%04d" % n, "member_id": m["id"],
             "category": rng.choice(cats), "level": level, "org_id": org,
             "raised": fmt_time(raised)}
        if n % 9 == 0:
            d["level"] = ["职工", "党员", "支部", "企业党组织",
                          "行业综合党委"][level - 1]
        if resolved < export and rng.random() < 0.8:
            d["resolved"] = fmt_time(resolved)
            d["status"] = "已解决" if n % 2 else "resolved"
        elif rng.random() < 0.5:
            d["status"] = "处理中"
        demands.append(d)
    return demands


def write_demands(path, demands, bad):
    lines = [json.dumps(d, ensure_ascii=False) for d in demands]
    bad_demand = {"kind": "demand", "id": "D0901", "member_id": "M0003",
                  "category": "薪酬", "level": 2, "org_id": "O001",
                  "raised": "2025-05-10 09:00",
                  "resolved": "2025-05-08 17:30", "status": "已解决"}
    lines.insert(60, json.dumps(bad_demand, ensure_ascii=False))
    bad.add("demands.jsonl", 61, "resolved (2025-05-08) before raised "
            "(2025-05-10)", "classify_schema: field resolved: before raised")
    lines.insert(90, '{"kind":"demand","id":"D0902","member_id":"M0004",'
                     '"category":"住房","level":3,"raised":"2025-04-01 1')
    bad.add("demands.jsonl", 91, "the line is cut off: not a whole JSON "
            "object", "ingest_jsonl: not a JSON object, to the dead letters "
            "with file and line")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def facts(orgs, covered, stations, members, spoiled, projects, demands):
    good = [m for i, m in enumerate(members, 1) if i not in spoiled]
    party = [m for m in good if m["party"] in ("中共党员", "中共预备党员")]
    mobile = [m for m in party if m["rel"] == "流动"]
    with_org = [m for m in good if m["org_id"]]
    unresolved = [d for d in demands if "resolved" not in d]
    per_level = {}
    for d in demands:
        lv = d["level"] if isinstance(d["level"], int) else \
            ["职工", "党员", "支部", "企业党组织", "行业综合党委"].index(
                d["level"]) + 1
        per_level[lv] = per_level.get(lv, 0) + 1
    return [
        "organisations: %d good rows" % len(orgs),
        "stations: %d, of which %d have an organisation of their own"
        % (len(stations), len(covered)),
        "members: %d good rows; %d party members (%d mobile); %d in an "
        "organisation" % (len(good), len(party), len(mobile), len(with_org)),
        "projects: %d good rows" % len(projects),
        "demands: %d good rows; per level %s; %d without a resolved time"
        % (len(demands), ", ".join("%d: %d" % kv
                                   for kv in sorted(per_level.items())),
           len(unresolved)),
    ]


README_HEAD = """# Sample data

Small, synthetic exports of a district pilot ("示例市", districts 滨江区,
临湖区, 望山区, 云溪区), shaped like what the offices' software writes.
Generated by `tests/data/make_sample.py` (deterministic: run it again and
nothing changes); do not edit these files by hand.

Everything personal is made up: names are `<surname>某<number>`, phone
numbers start with `100` (no such mobile prefix exists) and ID numbers use
the unassigned region code `99xxxx` with a correct GB 11643 check digit.
The data were "exported" on %(export)s: demands without a resolved time
raised long before that date are the overdue ones.

| file | encoding | line ends | headers |
|---|---|---|---|
| `orgs.csv` | GB18030 | CRLF | Chinese |
| `members.csv` | UTF-8 with BOM | CRLF | Chinese |
| `projects.csv` | UTF-8 | LF | English (the field names) |
| `demands.jsonl` | UTF-8 | LF | JSON keys are the field names, `kind` included |

Values are written the way people type them: Chinese labels for types,
platforms, categories and levels (`行业综合党委`, `美团`, `法律援助`, `支部`),
`2021/7/1` dates, `中共党员`/`群众` for party membership, `联络员;志愿者` or
`联络员、志愿者` for roles, phones with spaces. `classify_schema` turns them
into the codes of `docs/records.md`.

## Columns: Chinese header -> field

For an ingest stage's `columns:` mapping (the kind comes from the stage).

`orgs.csv` (kind `org`):

| header | field |
|---|---|
| 组织编号 | id |
| 组织名称 | name |
| 组织类型 | type |
| 上级组织编号 | parent_id |
| 所属平台 | platform |
| 所属区 | district |
| 节点类型 | node |
| 站点 | station |
| 成立日期 | established |

`members.csv` (kind `member`):

| header | field |
|---|---|
| 人员编号 | id |
| 姓名 | name |
| 手机号 | phone |
| 身份证号 | id_number |
| 平台 | platform |
| 从业类型 | form (empty here: derived from the platform) |
| 所属区 | district |
| 站点 | station |
| 所属组织编号 | org_id |
| 政治面貌 | party (中共党员/中共预备党员 -> true, 群众/共青团员 -> false) |
| 组织关系 | rel (本地 -> local, 流动 -> mobile) |
| 流出地党组织 | origin |
| 年龄 | age |
| 入党日期 | joined |
| 组织生活积分 | points |
| 角色 | roles |
| 近30天活跃天数 | active_days |

`projects.csv` (kind `project`): the headers are the field names.
`demands.jsonl`: each line a whole record, `kind` included.

## Deliberately bad rows

Each must be rejected to the dead letters while the run goes on, its dead
letter naming the file and the line listed here (whichever stage rejects
it). Lines are physical lines of the file, 1-based, the header being line 1.

| file | line | what is wrong | what gigflow says |
|---|---|---|---|
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "pipelines", "data")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    bad = Bad()

    stations = make_stations()
    orgs, covered = make_orgs(rng, stations)
    members = make_members(rng, stations, orgs, covered)
    projects = make_projects(rng, orgs)

    write_orgs(os.path.join(out, "orgs.csv"), orgs, bad)
    spoiled = write_members(os.path.join(out, "members.csv"), members, bad)
    write_projects(os.path.join(out, "projects.csv"), projects, bad)
    demands = make_demands(rng, members, orgs, spoiled)
    write_demands(os.path.join(out, "demands.jsonl"), demands, bad)

    text = README_HEAD % {"export": EXPORT_DATE}
    for row in bad.rows:
        text += "| `%s` | %d | %s | %s |\n" % row
    text += "\n## Facts about the good rows (computed by the generator)\n\n"
    for line in facts(orgs, covered, stations, members, spoiled, projects,
                      demands):
        text += "- %s\n" % line
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()

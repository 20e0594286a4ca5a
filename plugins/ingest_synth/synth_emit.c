/*
 * synth_emit - ingest_synth's records: organisations, members, service
 * projects and demands, each drawn from its own splitmix64 stream seeded
 * by (seed, kind, index), so any record can be recomputed from its index
 * (a demand finds its member's district and station that way). The field's
 * vocabulary (platforms, districts, names, phone prefixes, the demand
 * levels) lives here; text is written by hand, without printf, and
 * nothing is allocated per record.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_domain.h"
#include "synth.h"

const platform platforms[] = {
    {"meituan", "美团", 0.45, "station", "站"},
    {"eleme", "饿了么", 0.30, "station", "站"},
    {"sf", "顺丰", 0.040, "outlet", "营业点"},
    {"zto", "中通", 0.035, "outlet", "网点"},
    {"yto", "圆通", 0.030, "outlet", "网点"},
    {"yunda", "韵达", 0.025, "sorting_center", "分拨中心"},
    {"sto", "申通", 0.020, "outlet", "网点"},
    {"didi", "滴滴", 0.040, "community", "司机之家"},
    {"caocao", "曹操出行", 0.010, "community", "司机之家"},
    {"dingdong", "叮咚买菜", 0.030, "warehouse", "前置仓"},
    {"hema", "盒马", 0.020, "outlet", "门店"},
};
_Static_assert(sizeof platforms / sizeof platforms[0] == NPLAT,
               "NPLAT counts the platforms");

typedef struct place {
    const char *name;
    const char *code; /* GB/T 2260 area code: first 6 digits of an ID */
} place;

static const place district_names[] = {
    {"朝阳区", "110105"}, {"海淀区", "110108"}, {"浦东新区", "310115"},
    {"天河区", "440106"}, {"南山区", "440305"}, {"西湖区", "330106"},
    {"武侯区", "510107"}, {"江北区", "500105"}, {"鼓楼区", "320106"},
    {"雁塔区", "610113"}, {"洪山区", "420111"}, {"岳麓区", "430104"},
};
#define NDISTNAME (sizeof district_names / sizeof district_names[0])

/* Where mobile members and migrant workers come from. */
static const place origins[] = {
    {"河南省周口市", "411602"},         {"安徽省阜阳市", "341202"},
    {"四川省南充市", "511302"},         {"湖南省邵阳市", "430502"},
    {"江西省赣州市", "360702"},         {"河北省保定市", "130602"},
    {"山东省临沂市", "371302"},         {"湖北省黄冈市", "421102"},
    {"广西壮族自治区玉林市", "450902"}, {"贵州省毕节市", "520502"},
    {"甘肃省天水市", "620502"},         {"黑龙江省绥化市", "231202"},
};
#define NORIGIN (sizeof origins / sizeof origins[0])

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄",   "赵",   "吴",   "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何",   "高",   "林",   "罗",
    "郑", "梁", "谢", "宋", "唐", "许", "韩",   "冯",   "邓",   "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘",   "于",   "蒋",   "蔡",
    "余", "杜", "叶", "程", "苏", "魏", "吕",   "丁",   "任",   "沈",
    "姚", "卢", "姜", "崔", "钟", "谭", "陆",   "汪",   "范",   "金",
    "石", "廖", "贾", "夏", "韦", "付", "方",   "白",   "邹",   "孟",
    "熊", "秦", "邱", "江", "尹", "薛", "闫",   "段",   "雷",   "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛",   "郝",   "龚",   "邵",
    "万", "钱", "严", "覃", "武", "戴", "欧阳", "诸葛", "司马", "上官",
};
#define NSURNAME (sizeof surnames / sizeof surnames[0])

static const char *const given_m[] = {
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平",
    "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊",
    "帆", "帅", "旭", "宁", "龙", "林", "建", "国", "志", "文", "海", "东",
    "峰", "亮", "成", "晨", "博", "振", "磊", "豪", "子", "轩", "泽", "阳",
};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "桂",
    "燕", "红", "梅", "琳", "莉", "兰", "萍", "婷", "雪", "慧", "洁", "颖",
    "倩", "欣", "佳", "悦", "彤", "雨", "晴", "琪", "月", "春", "云", "凤",
};
#define NGIVEN_M (sizeof given_m / sizeof given_m[0])
#define NGIVEN_F (sizeof given_f / sizeof given_f[0])

static const char *const phone_prefix[] = {
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166",
    "173", "175", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
};
#define NPHONE (sizeof phone_prefix / sizeof phone_prefix[0])

/* The share of demands at each level 1..5, and the mean resolution time
   per level in hours (about 0.6 of the default overdue limits 24..168 h). */
static const double level_cum[5] = {0.40, 0.65, 0.83, 0.94, 1.0};
static const double level_mean_h[5] = {14.0, 29.0, 43.0, 72.0, 100.0};

static const char *const org_type_code[] = {
    [ORG_INDUSTRY] = "industry_committee",
    [ORG_MOBILE] = "mobile_committee",
    [ORG_ENTERPRISE] = "enterprise",
    [ORG_UNION] = "union",
    [ORG_YOUTH] = "youth_center",
    [ORG_WOMEN] = "women_org",
    [ORG_BRANCH] = "branch",
    [ORG_JOINT] = "joint_branch",
};

/* ---- text helpers (no printf on the hot path) ---------------------------- */

/* Write v in decimal with at least `width` digits; returns the end. */
static char *put_num(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static const char *district_name(uint32_t d, char *tmp)
{
    if (d < NDISTNAME)
        return district_names[d].name;
    char *p = put_str(tmp, district_names[d % NDISTNAME].name);
    p = put_num(p, d / NDISTNAME + 1, 1);
    *p = '\0';
    return tmp;
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DD" (+ " HH:MM:SS" when with_time) of seconds since the epoch. */
static char *put_time(char *p, int64_t secs, bool with_time)
{
    int64_t days = secs / 86400, rem = secs % 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    p = put_num(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_num(p, m, 2);
    *p++ = '-';
    p = put_num(p, d, 2);
    if (with_time) {
        *p++ = ' ';
        p = put_num(p, (uint64_t)(rem / 3600), 2);
        *p++ = ':';
        p = put_num(p, (uint64_t)(rem / 60 % 60), 2);
        *p++ = ':';
        p = put_num(p, (uint64_t)(rem % 60), 2);
    }
    return p;
}

/* The data describe the first half of 2025; ages are as of its end. */
#define REF_DAY days_from_civil(2025, 6, 30)
#define YEAR_START days_from_civil(2025, 1, 1)

static void set_text(const gf_host *h, gf_out *out, const char *key,
                     const char *s, const char *end)
{
    h->set_str(out, key, s, (size_t)(end - s));
}

static void set_cstr(const gf_host *h, gf_out *out, const char *key,
                     const char *s)
{
    h->set_str(out, key, s, strlen(s));
}

static char *put_id(char *p, const char *prefix, uint64_t i, int width)
{
    return put_num(put_str(p, prefix), i + 1, width);
}

/* ---- organisations ------------------------------------------------------ */

int synth_emit_org(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k)
{
    const gf_host *h = ctx->host;
    const org_info *o = &s->org[k];
    const platform *pl = &platforms[o->plat];
    char dn[64], *b = s->buf, *p;
    const char *dname = district_name(o->district, dn);
    rng r = rng_at(s->seed, SALT_ORG, k);

    h->begin(out);
    h->set_str(out, "kind", "org", 3);
    p = put_id(b, "ORG", k, 6);
    set_text(h, out, "id", b, p);

    p = b;
    switch (o->type) {
    case ORG_INDUSTRY:
        p = put_str(put_str(p, dname), "新就业群体行业综合党委");
        break;
    case ORG_MOBILE:
        p = put_str(put_str(p, dname), "流动党员党委");
        break;
    case ORG_ENTERPRISE:
        p = put_str(put_str(put_str(p, pl->zh), dname), "企业党委");
        break;
    case ORG_UNION:
        p = put_str(put_str(p, dname), "新就业群体工会联合会");
        break;
    case ORG_YOUTH:
        p = put_str(put_str(p, dname), "新业态青年之家");
        break;
    case ORG_WOMEN:
        p = put_str(put_str(p, dname), "新就业群体妇女联合会");
        break;
    default:
        p = put_str(put_str(p, pl->zh), dname);
        p = put_num(p, o->station + 1, 1);
        p = put_str(put_str(p, "号"), pl->site);
        if (s->st[o->station].org != k)
            p = put_str(p, "第二");
        p = put_str(p, o->type == ORG_JOINT ? "联合党支部" : "党支部");
        break;
    }
    set_text(h, out, "name", b, p);
    set_cstr(h, out, "type", org_type_code[o->type]);

    uint64_t parent = NO_ORG, base = (uint64_t)o->district * UPPER;
    if (o->type == ORG_BRANCH || o->type == ORG_JOINT)
        parent = base + 2 + o->plat; /* the platform's enterprise org */
    else if (o->type != ORG_INDUSTRY)
        parent = base; /* the district's industry committee */
    if (parent != NO_ORG) {
        p = put_id(b, "ORG", parent, 6);
        set_text(h, out, "parent_id", b, p);
    }
    bool at_platform = o->type == ORG_ENTERPRISE || o->station != NO_ORG;
    if (at_platform)
        set_cstr(h, out, "platform", pl->code);
    set_cstr(h, out, "district", dname);
    if (o->type == ORG_ENTERPRISE)
        set_cstr(h, out, "node", "branch_office");
    else if (o->station != NO_ORG)
        set_cstr(h, out, "node", pl->node);
    else if (o->type >= ORG_UNION)
        set_cstr(h, out, "node", "community");
    if (o->station != NO_ORG) {
        p = put_id(b, "ST", o->station, 5);
        set_text(h, out, "station", b, p);
    }
    int64_t founded = days_from_civil(2018, 1, 1) + rbelow(&r, 2700);
    p = put_time(b, founded * 86400, false);
    set_text(h, out, "established", b, p);
    return h->end(out);
}

/* ---- members ------------------------------------------------------------ */

/* The district and station of member j (also used by demands). */
static uint32_t member_station(const synth *s, uint64_t j)
{
    uint32_t d = (uint32_t)(j % s->ndist);
    uint64_t nd = ((uint64_t)s->cfg.stations - d + s->ndist - 1) / s->ndist;
    rng r = rng_at(s->seed, SALT_PLACE, j);
    return d + s->ndist * rbelow(&r, nd);
}

/* GB 11643-1999: the check character of the first 17 digits. */
static char id_check(const char *d17)
{
    static const int w[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                              3, 7, 9,  10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (d17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

/* Roles as a MessagePack array of fixstr. */
static size_t encode_roles(uint8_t *mp, bool liaison, bool pioneer,
                           bool volunteer)
{
    static const char *const names[] = {"liaison", "pioneer_post", "volunteer"};
    bool on[3] = {liaison, pioneer, volunteer};
    size_t n = 1, cnt = 0;
    for (int i = 0; i < 3; i++) {
        if (!on[i])
            continue;
        size_t l = strlen(names[i]);
        mp[n++] = (uint8_t)(0xa0 | l);
        memcpy(mp + n, names[i], l);
        n += l;
        cnt++;
    }
    mp[0] = (uint8_t)(0x90 | cnt);
    return n;
}

int synth_emit_member(gf_ctx *ctx, synth *s, gf_out *out, uint64_t j)
{
    const gf_host *h = ctx->host;
    char dn[64], *b = s->buf, *p;
    uint32_t sti = member_station(s, j);
    const station *st = &s->st[sti];
    const platform *pl = &platforms[st->plat];
    rng r = rng_at(s->seed, SALT_MEMBER, j);

    bool male = rchance(&r, 0.88);
    bool party = rchance(&r, s->cfg.party_share);
    bool mobile = party && rchance(&r, s->cfg.mobile_share);
    bool active = rchance(&r, s->cfg.active_share);
    /* migrants carry an ID from their home area */
    const place *home = NULL;
    if (mobile || rchance(&r, 0.6))
        home = &origins[rbelow(&r, NORIGIN)];

    h->begin(out);
    h->set_str(out, "kind", "member", 6);
    p = put_id(b, "M", j, 8);
    set_text(h, out, "id", b, p);

    p = put_str(b, rchance(&r, 0.5) ? surnames[rbelow(&r, 10)]
                                    : surnames[rbelow(&r, NSURNAME)]);
    const char *const *given = male ? given_m : given_f;
    uint32_t ngiven = male ? NGIVEN_M : NGIVEN_F;
    p = put_str(p, given[rbelow(&r, ngiven)]);
    if (rchance(&r, 0.6))
        p = put_str(p, given[rbelow(&r, ngiven)]);
    set_text(h, out, "name", b, p);

    p = put_str(b, phone_prefix[rbelow(&r, NPHONE)]);
    p = put_num(p, rbelow(&r, 100000000), 8);
    set_text(h, out, "phone", b, p);

    /* age 18..60, most between 22 and 40; the ID carries the birth date */
    unsigned age = 18 + rbelow(&r, 12) + rbelow(&r, 12) + rbelow(&r, 10);
    if (rchance(&r, 0.05))
        age = 45 + rbelow(&r, 16);
    int64_t born = REF_DAY - (int64_t)age * 365 - (age / 4) - rbelow(&r, 365);
    int by;
    unsigned bm, bd;
    civil_from_days(born, &by, &bm, &bd);
    const char *area =
        home ? home->code : district_names[st->district % NDISTNAME].code;
    p = put_str(b, area);
    p = put_num(p, (uint64_t)by, 4);
    p = put_num(p, bm, 2);
    p = put_num(p, bd, 2);
    p = put_num(p, rbelow(&r, 500) * 2 + (male ? 1 : 0), 3);
    *p = id_check(b);
    p++;
    set_text(h, out, "id_number", b, p);

    set_cstr(h, out, "platform", pl->code);
    set_cstr(h, out, "form", s->plat_form[st->plat]);
    set_cstr(h, out, "district", district_name(st->district, dn));
    p = put_id(b, "ST", sti, 5);
    set_text(h, out, "station", b, p);

    /* the organisation the worker has found, if any */
    uint64_t org = NO_ORG, base = (uint64_t)st->district * UPPER;
    if (st->org != NO_ORG) {
        if (rchance(&r, party ? 0.97 : 0.85))
            org = st->org;
    } else if (party) {
        org = mobile ? base + 1 : base + 2 + st->plat;
    } else {
        double u = runit(&r);
        if (u < 0.10)
            org = base + 2 + NPLAT; /* the union brings workers in */
        else if (u < 0.15)
            org = base + 2 + st->plat;
    }
    if (org != NO_ORG) {
        p = put_id(b, "ORG", org, 6);
        set_text(h, out, "org_id", b, p);
    }

    h->set_bool(out, "party", party);
    if (party) {
        set_cstr(h, out, "rel", mobile ? "mobile" : "local");
        if (mobile) {
            /* the origin organisation, in the member's home area */
            p = put_str(put_str(b, "X"), home->code);
            *p++ = '-';
            p = put_num(p, rbelow(&r, 2000) + 1, 4);
            set_text(h, out, "origin", b, p);
            set_cstr(h, out, "origin_area", home->name);
        }
    }
    h->set_int(out, "age", 2025 - by - (bm > 6 || (bm == 6 && bd > 30)));
    if (party || org != NO_ORG) {
        int64_t lo = born + 18 * 365 + 5, hi = REF_DAY - 30;
        if (lo < days_from_civil(2000, 1, 1))
            lo = days_from_civil(2000, 1, 1);
        if (hi <= lo)
            hi = lo + 1;
        p = put_time(b, (lo + rbelow(&r, (uint64_t)(hi - lo))) * 86400, false);
        set_text(h, out, "joined", b, p);
    }

    bool liaison = rchance(&r, party ? 0.15 : 0.02);
    bool pioneer = party && rchance(&r, 0.35);
    bool volunteer = rchance(&r, party ? 0.40 : 0.06);
    unsigned days = active ? 1 + rbelow(&r, 30) : 0;
    unsigned points = party ? 20 + rbelow(&r, 80) : rbelow(&r, 10);
    points += (liaison + pioneer + volunteer) * (5 + rbelow(&r, 20));
    if (!active)
        points /= 3;
    h->set_int(out, "points", points);
    uint8_t roles[64];
    size_t rl = encode_roles(roles, liaison, pioneer, volunteer);
    h->set_raw(out, "roles", roles, rl);
    h->set_int(out, "active_days", days);
    return h->end(out);
}

/* ---- projects ----------------------------------------------------------- */

int synth_emit_project(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k)
{
    const gf_host *h = ctx->host;
    const gf_domain_enum *cats = &gf_domain_project_category;
    char dn[64], *b = s->buf, *p;
    rng r = rng_at(s->seed, SALT_PROJECT, k);
    uint64_t upper = (uint64_t)s->ndist * UPPER;
    uint64_t owner = rchance(&r, 0.5) || s->norgs == upper
                         ? rbelow(&r, upper)
                         : upper + rbelow(&r, s->norgs - upper);
    const org_info *o = &s->org[owner];
    const char *dname = district_name(o->district, dn);
    /* every category but the last ("other") */
    const gf_domain_item *cat = &cats->items[rbelow(&r, cats->n - 1)];
    unsigned year = 2023 + rbelow(&r, 3);

    h->begin(out);
    h->set_str(out, "kind", "project", 7);
    p = put_id(b, "PRJ", k, 6);
    set_text(h, out, "id", b, p);
    p = put_num(b, year, 4);
    p = put_str(put_str(p, "年"), dname);
    if (o->type == ORG_ENTERPRISE || o->station != NO_ORG)
        p = put_str(p, platforms[o->plat].zh);
    p = put_str(put_str(p, cat->zh), "项目");
    set_text(h, out, "name", b, p);
    set_cstr(h, out, "category", cat->code);
    p = put_id(b, "ORG", owner, 6);
    set_text(h, out, "org_id", b, p);
    set_cstr(h, out, "district", dname);
    h->set_int(out, "year", year);
    h->set_float(out, "budget", (double)(50 + rbelow(&r, 2000)) * 100.0);
    const char *status = "completed";
    if (rchance(&r, 0.03))
        status = "cancelled";
    else if (year == 2025)
        status = rchance(&r, 0.3) ? "planned" : "active";
    bool none = status[0] == 'p' || (status[1] == 'a' && rchance(&r, 0.5));
    h->set_int(out, "beneficiaries", none ? 0 : 10 + rbelow(&r, 1500));
    set_cstr(h, out, "status", status);
    return h->end(out);
}

/* ---- demands ------------------------------------------------------------ */

int synth_emit_demand(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k)
{
    const gf_host *h = ctx->host;
    const gf_domain_enum *cats = &gf_domain_demand_category;
    char *b = s->buf, *p;
    rng r = rng_at(s->seed, SALT_DEMAND, k);
    uint64_t j = rbelow(&r, (uint64_t)s->cfg.members);
    const station *st = &s->st[member_station(s, j)];
    unsigned level = 1 + rpick(&r, level_cum, 5);

    h->begin(out);
    h->set_str(out, "kind", "demand", 6);
    p = put_id(b, "DMD", k, 8);
    set_text(h, out, "id", b, p);
    p = put_id(b, "M", j, 8);
    set_text(h, out, "member_id", b, p);
    set_cstr(h, out, "category", cats->items[rbelow(&r, cats->n)].code);
    h->set_int(out, "level", level);
    /* who handles it at its level: the station's branch, the enterprise
       org, the district's industry committee (levels 1-2: no org yet) */
    uint64_t base = (uint64_t)st->district * UPPER, org = NO_ORG;
    if (level == 3)
        org = st->org != NO_ORG ? st->org : base + 2 + st->plat;
    else if (level == 4)
        org = base + 2 + st->plat;
    else if (level == 5)
        org = base;
    if (org != NO_ORG) {
        p = put_id(b, "ORG", org, 6);
        set_text(h, out, "org_id", b, p);
    }
    int64_t raised =
        YEAR_START * 86400 +
        (int64_t)rbelow(&r, (uint64_t)(REF_DAY - YEAR_START) * 86400);
    p = put_time(b, raised, true);
    set_text(h, out, "raised", b, p);
    if (!rchance(&r, 0.06 + 0.02 * level)) {
        double hours = -level_mean_h[level - 1] * log(1.0 - runit(&r));
        p = put_time(b, raised + 60 + (int64_t)(hours * 3600.0), true);
        set_text(h, out, "resolved", b, p);
        set_cstr(h, out, "status", "resolved");
    } else {
        set_cstr(h, out, "status", rchance(&r, 0.5) ? "open" : "in_progress");
    }
    return h->end(out);
}
